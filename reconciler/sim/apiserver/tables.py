"""Server-side printing: the `meta.k8s.io/v1` Table that `kubectl get` asks for with
`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`. Nodes get NAME STATUS ROLES AGE
VERSION as the kubelet's printer shows them, namespaces NAME STATUS AGE, a custom resource
NAME and its CRD version's additionalPrinterColumns (simple `.a.b[0]` JSONPaths; `date`
columns print as an age), everything else NAME AGE (the columns of a CRD without them)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from reconciler.sim.apiserver.errors import Obj

Column = tuple[str, str, Callable[[Obj, datetime], Any]]  # (name, type, cell)


def human_age(seconds: float) -> str:
    """Kubernetes' short duration format: 45s, 3m20s, 12m, 5h30m, 20h, 3d4h, 40d, 2y10d."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    d = h // 24
    if d < 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    if d < 365 * 2:
        return f"{d}d"
    return f"{d // 365}y{d % 365}d" if d % 365 else f"{d // 365}y"


def _age(obj: Obj, now: datetime) -> str:
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    return _since(created, now) if created else "<unknown>"


def _since(timestamp: str, now: datetime) -> str:
    when = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    current = now if now.tzinfo else now.replace(tzinfo=UTC)
    return human_age((current - when).total_seconds())


_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def _json_path(path: str) -> list[str | int] | None:
    """The steps of a simple JSONPath (`.status.wave`, `.spec.items[0].name`), or None."""
    steps: list[str | int] = []
    at = 0
    while at < len(path):
        found = _STEP.match(path, at)
        if found is None:
            return None
        steps.append(found.group(1) if found.group(1) is not None else int(found.group(2)))
        at = found.end()
    return steps


def _printer_column(column: Obj) -> Column:
    """A column of a CRD's additionalPrinterColumns; a missing value is an empty cell."""
    steps, kind = _json_path(str(column.get("jsonPath") or "")), str(column.get("type") or "string")

    def cell(obj: Obj, now: datetime) -> Any:
        value: Any = obj
        for step in steps or ():
            if isinstance(step, int):
                value = value[step] if isinstance(value, list) and step < len(value) else None
            else:
                value = value.get(step) if isinstance(value, dict) else None
        if steps is None or value is None:
            return None
        if kind == "date":
            return _since(str(value), now) if isinstance(value, str) and value else None
        if kind == "string" and not isinstance(value, str):
            return str(value)
        return value

    return (str(column.get("name") or ""), kind, cell)


def _name(obj: Obj, _now: datetime) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _node_status(obj: Obj, _now: datetime) -> str:
    conditions = (obj.get("status") or {}).get("conditions") or []
    ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), None)
    text = {"True": "Ready", "False": "NotReady"}.get(str(ready), "Unknown")
    if (obj.get("spec") or {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def _node_roles(obj: Obj, _now: datetime) -> str:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    return ",".join(r for r in roles if r) or "<none>"


def _node_version(obj: Obj, _now: datetime) -> str:
    return str(((obj.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", ""))


def _phase(obj: Obj, _now: datetime) -> str:
    return str((obj.get("status") or {}).get("phase", ""))


_NAME: Column = ("Name", "string", _name)
_AGE: Column = ("Age", "string", _age)
COLUMNS: dict[tuple[str, str], list[Column]] = {
    ("", "nodes"): [_NAME, ("Status", "string", _node_status), ("Roles", "string", _node_roles),
                    _AGE, ("Version", "string", _node_version)],
    ("", "namespaces"): [_NAME, ("Status", "string", _phase), _AGE],
}


def wants_table(accept: str) -> bool:
    """Whether an Accept header asks for a meta.k8s.io Table first."""
    first = accept.split(",")[0].replace(" ", "")
    return "as=Table" in first


def table(group: str, plural: str, items: list[Obj], now: datetime, resource_version: str,
          continue_token: str | None = None, *, printer_columns: Sequence[Obj] = ()) -> Obj:
    """A Table of `items` (full objects) with each row's object as PartialObjectMetadata.
    `printer_columns` are the additionalPrinterColumns of a custom resource's version."""
    columns = ([_NAME, *(_printer_column(c) for c in printer_columns)] if printer_columns
               else COLUMNS.get((group, plural), [_NAME, _AGE]))
    extra = {str(c.get("name")): c for c in printer_columns}
    definitions = [{"name": name, "type": typ, "format": "name" if name == "Name" else "",
                    "description": (f"Custom resource definition column (in JSONPath format): "
                                    f"{extra[name].get('jsonPath')}") if name in extra else "",
                    "priority": int(extra[name].get("priority") or 0) if name in extra else 0}
                   for name, typ, _ in columns]
    rows = [{"cells": [cell(obj, now) for _, _, cell in columns],
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj.get("metadata") or {}}}
            for obj in items]
    meta: Obj = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "columnDefinitions": definitions, "rows": rows}
