"""Label and field selectors, parsed the way the Kubernetes API server reads the query strings.

Label selector grammar (comma-separated requirements, all must hold):
`k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not exist).
`k!=v` and `notin` also match objects that lack the key, as in Kubernetes.

Field selectors: `field=value`, `field==value`, `field!=value` on dotted paths (see
`parse_field_selector`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.sim.apiserver.errors import ApiError

LabelMatcher = Callable[[Mapping[str, str]], bool]
# (name, namespace, load the whole object) -> matches
FieldMatcher = Callable[[str, str | None, Callable[[], Mapping[str, Any]]], bool]

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"[-A-Za-z0-9_.]*"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
_CMP_RE = re.compile(rf"^\s*({_KEY})\s*(==|!=|=)\s*({_VALUE})\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")


@dataclass(frozen=True)
class _Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: frozenset[str]

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        # "!=" and "notin" match objects without the key too
        return not present or labels[self.key] not in self.values


def _split_requirements(text: str) -> list[str]:
    """Split on commas that are not inside a parenthesised value set."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _parse_requirement(text: str) -> _Requirement:
    if m := _SET_RE.match(text):
        values = frozenset(v.strip() for v in m.group(3).split(",") if v.strip())
        return _Requirement(m.group(1), m.group(2), values)
    if m := _CMP_RE.match(text):
        op = "!=" if m.group(2) == "!=" else "="
        return _Requirement(m.group(1), op, frozenset({m.group(3)}))
    if m := _EXISTS_RE.match(text):
        return _Requirement(m.group(2), "!exists" if m.group(1) else "exists", frozenset())
    raise ApiError(400, "BadRequest", f"unable to parse requirement: {text.strip()!r}")


def parse_label_selector(text: str) -> LabelMatcher | None:
    """A matcher for the `labelSelector` query string, or None when it selects everything.

    Raises ApiError 400 BadRequest on a malformed selector."""
    if not text or not text.strip():
        return None
    requirements = [_parse_requirement(p) for p in _split_requirements(text)]

    def matches(labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in requirements)

    return matches


def label_selector_from_object(selector: Mapping[str, object] | None) -> LabelMatcher | None:
    """A matcher for a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions` with
    operators In, NotIn, Exists, DoesNotExist). None selects everything."""
    if not selector:
        return None
    requirements: list[_Requirement] = []
    match_labels = selector.get("matchLabels") or {}
    if isinstance(match_labels, Mapping):
        for key, value in match_labels.items():
            requirements.append(_Requirement(str(key), "=", frozenset({str(value)})))
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    expressions = selector.get("matchExpressions") or []
    if isinstance(expressions, list):
        for expr in expressions:
            op = ops.get(str(expr.get("operator")))
            if op is None:
                raise ApiError(422, "Invalid", f"invalid label selector operator {expr.get('operator')!r}")
            values = frozenset(str(v) for v in expr.get("values") or [])
            requirements.append(_Requirement(str(expr.get("key")), op, values))

    def matches(labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in requirements)

    return matches


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def parse_field_selector(text: str) -> FieldMatcher | None:
    """A matcher for the `fieldSelector` query string, or None when it selects everything.

    `metadata.name` and `metadata.namespace` are read from the record; any other dotted path
    (`spec.nodeName`, `involvedObject.uid`, ...) from the object itself, a missing field reading
    as "" (more permissive than Kubernetes, which allows a fixed set per type). Raises ApiError
    400 on a malformed selector."""
    if not text or not text.strip():
        return None
    checks: list[tuple[str, bool, str]] = []  # (field, equal, value)
    for part in _split_requirements(text):
        m = re.match(r"^\s*([A-Za-z][A-Za-z0-9.]*)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not m:
            raise ApiError(400, "BadRequest", f"invalid field selector: {part.strip()!r}")
        field, op, value = m.groups()
        checks.append((field, op != "!=", value))

    def matches(name: str, namespace: str | None, load: Callable[[], Mapping[str, Any]]) -> bool:
        obj: Mapping[str, Any] | None = None
        for field, equal, value in checks:
            if field == "metadata.name":
                actual = name
            elif field == "metadata.namespace":
                actual = namespace or ""
            else:
                obj = obj if obj is not None else load()
                actual = _field_value(obj, field)
            if (actual == value) != equal:
                return False
        return True

    return matches
