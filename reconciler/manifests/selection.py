"""Node selections without nodes: which can match nothing, which two may share a node.

`validate` has no cluster, so it reasons on the selections alone: a nodeGroup is the label
`apps.kubeedge.io/belonging-to=<group>`, and two label selections can share a node unless
their requirements on some key contradict each other. Names lists are compared as sets; a
names list against a label selection cannot be ruled out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.manifests.fleet import LabelRequirement, NodeSelection

NODE_GROUP_LABEL = "apps.kubeedge.io/belonging-to"


@dataclass(slots=True)
class _KeyConstraint:
    allowed: set[str] | None = None  # None: any value
    excluded: set[str] = field(default_factory=set)
    exists: bool = False
    absent: bool = False

    def add(self, req: LabelRequirement) -> None:
        if req.operator == "In":
            self.allowed = set(req.values) if self.allowed is None else self.allowed & set(req.values)
            self.exists = True
        elif req.operator == "NotIn":
            self.excluded |= set(req.values)
        elif req.operator == "Exists":
            self.exists = True
        else:
            self.absent = True

    def contradictory(self) -> bool:
        if self.exists and self.absent:
            return True
        return self.allowed is not None and not (self.allowed - self.excluded)


def requirements(selection: NodeSelection) -> tuple[LabelRequirement, ...]:
    """The label requirements a nodeGroup or selector selection stands for (none for names)."""
    if selection.kind == "nodeGroup" and selection.node_group is not None:
        return (LabelRequirement(NODE_GROUP_LABEL, "In", (selection.node_group,)),)
    if selection.kind == "selector":
        from_labels = tuple(LabelRequirement(k, "In", (v,)) for k, v in selection.match_labels)
        return from_labels + selection.match_expressions
    return ()


def contradicted_keys(reqs: Iterable[LabelRequirement]) -> list[str]:
    """The label keys whose requirements no node can satisfy at once, sorted."""
    by_key: dict[str, _KeyConstraint] = {}
    for req in reqs:
        by_key.setdefault(req.key, _KeyConstraint()).add(req)
    return sorted(key for key, constraint in by_key.items() if constraint.contradictory())


def why_selects_nothing(selection: NodeSelection) -> str | None:
    """Why `selection` can match no node by construction, or None if it may match some."""
    if selection.kind == "names":
        return "names is empty" if not selection.names else None
    keys = contradicted_keys(requirements(selection))
    if keys:
        quoted = ", ".join(f'"{k}"' for k in keys)
        return f"the requirements on label {quoted} contradict each other"
    return None


def may_overlap(a: NodeSelection, b: NodeSelection) -> bool:
    """Whether some node could be selected by both `a` and `b` (False only when provably not)."""
    if a.kind == "names" and b.kind == "names":
        return bool(set(a.names) & set(b.names))
    if a.kind == "names" or b.kind == "names":
        names = a.names if a.kind == "names" else b.names
        return bool(names)
    return not contradicted_keys(requirements(a) + requirements(b))
