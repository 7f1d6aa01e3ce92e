"""The NodeGroup controller running against the store: applies `plan_membership` (labels on
Nodes, `status.nodeStatuses` on NodeGroups) and handles the group finalizer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from reconciler.sim.apiserver.errors import ApiError, Obj
from reconciler.sim.apiserver.resource_types import ResourceType
from reconciler.sim.driver import Simulation
from reconciler.sim.kubeedge.nodegroups import (
    BELONGING_LABEL,
    FINALIZER,
    MemberNode,
    member_node,
    plan_membership,
)

GROUPS = ("apps.kubeedge.io", "nodegroups")


class NodeGroupController:
    """Recomputes membership after any NodeGroup change or Node label/readiness change."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self._nodes: dict[str, MemberNode] = {}
        self._pending = False

    def notify(self, event: str, rt: ResourceType, obj: Obj) -> None:
        key = (rt.group, rt.plural)
        if key == ("", "nodes"):
            name = obj["metadata"]["name"]
            if event == "DELETED":
                changed = self._nodes.pop(name, None) is not None
            else:
                member = member_node(obj)
                changed = self._nodes.get(name) != member
                self._nodes[name] = member
            if not changed:
                return
        elif key != GROUPS:
            return
        if not self._pending:
            self._pending = True
            self.sim.after(0, self._reconcile)

    def _reconcile(self, now: datetime) -> None:
        self._pending = False
        store = self.sim.store
        groups, _, _ = store.list(*GROUPS)
        if not groups:
            return
        plan = plan_membership(groups, self._nodes)
        for name, group in sorted(plan.labels.items()):
            def relabel(node: Obj, group: str | None = group) -> None:
                labels = node["metadata"].setdefault("labels", {})
                if group is None:
                    labels.pop(BELONGING_LABEL, None)
                else:
                    labels[BELONGING_LABEL] = group

            self._try(partial(store.mutate, "", "nodes", name, relabel))
        for obj in groups:
            meta = obj["metadata"]
            name = meta["name"]
            finalizers = meta.get("finalizers") or []
            if meta.get("deletionTimestamp"):
                if FINALIZER in finalizers and not any(
                        v == name for v in plan.labels.values()) and not self._members_of(name):
                    self._try(partial(store.mutate, *GROUPS, name, _drop_finalizer))
                continue
            if FINALIZER not in finalizers:
                self._try(partial(store.mutate, *GROUPS, name, _add_finalizer))
            statuses = plan.statuses.get(name, [])

            def post(obj: Obj, statuses: list[Obj] = statuses) -> None:
                obj["status"] = {"nodeStatuses": statuses}

            self._try(partial(store.mutate, *GROUPS, name, post, subresource="status"))

    def _members_of(self, group: str) -> bool:
        """Whether any node still carries the group's label (per the latest notifications)."""
        return any(m.labels.get(BELONGING_LABEL) == group for m in self._nodes.values())

    @staticmethod
    def _try(write: Callable[[], object]) -> None:
        try:
            write()
        except ApiError as exc:
            if exc.code != 404:
                raise


def _add_finalizer(obj: Obj) -> None:
    obj["metadata"]["finalizers"] = [*obj["metadata"].get("finalizers", []), FINALIZER]


def _drop_finalizer(obj: Obj) -> None:
    obj["metadata"]["finalizers"] = [f for f in obj["metadata"].get("finalizers", []) if f != FINALIZER]
