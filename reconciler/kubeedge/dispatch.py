"""Which nodes of a job the edge was actually asked about, read from the per-node status.

Only a node that was dispatched can have failed: a node queued behind the concurrency limit, or
refused at initialization, made no attempt and must not be charged one (docs/kubeedge.md §4.3).

v1alpha2 (1.21+), per `nodeStatus[]` entry:
- `Pending`, or no entry: waiting for a slot (or the job ended at initialization): not asked.
- `Failure` without actionFlow: refused at initialization (not found, not an edge node, not
  ready) or not connected to CloudCore at dispatch: the edge was never asked.
- any actionFlow entry, `InProgress` or `Successful`: asked.
- `Unknown` without actionFlow: ambiguous. 1.21 times a node out from its last action or, with
  none, from the job's creation (point 5), so a silent dispatched node and the nodes queued
  behind it end identically. CloudCore's executor dispatches the Pending nodes in status order
  and a slot is only freed by a final report (#7049 keeps timed-out nodes' slots), so the
  dispatched nodes are a prefix of that order: an ambiguous node before the last node that was
  certainly asked was asked; after it, only as many as there were free slots can have been
  (concurrency minus the nodes up to there still holding one), the first ones in order.

v1alpha1 (1.16-1.20): a node's state moves only on its own answers or on CloudCore's per-node
timeout after dispatch (event `TimeOut`); the executor waits for every dispatched node before it
ends a job. So a node in a final state (`Successful`, `Failed`) was asked; one with no entry, or
left between stages (`Checking`, `Pulling`) when the job stopped, was never asked for the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.observed.jobs import NodeStatusV1, NodeStatusV2

_V2_NOT_ASKED = frozenset({"", "Pending"})
_V2_ANSWERED = frozenset({"Successful", "Failure"})  # a final report from the edge
_V1_TIMEOUT_EVENT = "TimeOut"

Dispatch = dict[str, tuple[bool, bool]]  # node -> (dispatched, silent)


def v1alpha2_dispatched(
    nodes: Sequence[str], entries: Sequence[NodeStatusV2], concurrency: int
) -> Dispatch:
    """node -> (dispatched, silent) for each of `nodes` (spec order) from v1alpha2 entries.

    `silent`: dispatched and without a final report (InProgress, Unknown). Pure; never raises.
    """
    by_node = {entry.node_name: entry for entry in entries}
    verdicts: dict[str, bool | None] = {}  # True asked, False not, None ambiguous
    for node in nodes:
        entry = by_node.get(node)
        if entry is None or entry.phase in _V2_NOT_ASKED:
            verdicts[node] = False
        elif entry.action_flow or entry.phase not in ("Failure", "Unknown"):
            verdicts[node] = True
        else:
            verdicts[node] = False if entry.phase == "Failure" else None
    frontier = max((i for i, n in enumerate(nodes) if verdicts[n]), default=-1)
    holding = 0
    for node in nodes[: frontier + 1]:
        if verdicts[node] is None:
            verdicts[node] = True
        entry = by_node.get(node)
        if verdicts[node] and entry is not None and entry.phase not in _V2_ANSWERED:
            holding += 1
    free = max(max(concurrency, 1) - holding, 0)
    for node in nodes[frontier + 1 :]:
        if verdicts[node] is None:
            verdicts[node] = free > 0
            free -= 1
    result: Dispatch = {}
    for node in nodes:
        entry = by_node.get(node)
        asked = bool(verdicts[node])
        result[node] = (asked, asked and (entry is None or entry.phase not in _V2_ANSWERED))
    return result


def v1alpha1_dispatched(nodes: Sequence[str], entries: Sequence[NodeStatusV1]) -> Dispatch:
    """node -> (dispatched, silent) for each of `nodes` from v1alpha1 `status[]` entries:
    dispatched when the node's state is final, silent when CloudCore timed it out."""
    by_node = {entry.node_status.node_name: entry.node_status for entry in entries}
    result: Dispatch = {}
    for node in nodes:
        state = by_node.get(node)
        asked = state is not None and state.state in ("Successful", "Failed")
        result[node] = (asked, asked and state is not None and state.event == _V1_TIMEOUT_EVENT)
    return result
