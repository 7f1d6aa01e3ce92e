"""The `rollouts` section of a Markdown plan: the wave schedule each gated group follows, and
how many nodes wait for what (docs/rollout.md). Reads `plan["rollouts"]` and `plan["gated"]`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.report.markdown_text import code, count


def _schedule(entry: Mapping[str, Any]) -> str:
    sizes = [int(s) for s in entry.get("waveSizes") or []]
    wave = int(entry.get("wave") or 0)
    parts = []
    for index, size in enumerate(sizes):
        when = "open" if index <= wave else (
            "after the previous wave is done and its pause passed" if index == wave + 1 else "then")
        parts.append(f"wave {index}: {count(size)} nodes {when}")
    return "; ".join(parts)


#: Why nodes are held back, in words (docs/rollout.md "In the plan").
WHY: dict[str, str] = {
    "halted": "held: the rollout is halted (over its failure budget)",
    "paused": "held: the rollout is paused",
    "waiting-wave": "wait for their wave to open",
    "waiting-window": "wait for a maintenance window to open",
    "waiting-bandwidth": "wait for their site's limit of concurrent pulls",
}


def held_back(reasons: Mapping[str, int]) -> str:
    """'6 nodes wait for their wave to open (`waiting-wave`); ...' for reason -> node count."""
    return "; ".join(f"{count(n)} {'node' if n == 1 else 'nodes'} {WHY.get(reason, reason)} "
                     f"({code(reason)})" for reason, n in sorted(reasons.items()))


def rollouts_section(rollouts: Sequence[Mapping[str, Any]], gated: Sequence[Mapping[str, Any]]) -> str:
    """Markdown lines, one per group with a rollout; "" when the plan has none."""
    if not rollouts:
        return ""
    waiting: dict[str, Counter[str]] = {}
    for item in gated:
        waiting.setdefault(str(item.get("group")), Counter())[str(item.get("reason"))] += 1
    lines = ["#### Rollouts", ""]
    for entry in rollouts:
        group = str(entry.get("group"))
        held = held_back(waiting.get(group, {}))
        state = f" **halted**: {entry.get('halted')}." if entry.get("halted") else ""
        lines.append(f"- {code(group)} (rollout {code(str(entry.get('rolloutId'))[:8])}): "
                     f"{_schedule(entry)}.{state} Next: {entry.get('nextStep')}."
                     + (f" Held back: {held}." if held else ""))
    return "\n".join(lines)
