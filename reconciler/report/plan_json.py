"""`plan --output json`: the plan object of docs/design.md §5, byte for byte deterministic."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

import orjson

# Sorted keys at every level and a fixed indent: the same plan always prints the same bytes,
# so two runs (or a CI job and a laptop) can be compared with `diff`.
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2


def _plain(value: Any) -> Any:
    """orjson's fallback for the few non-JSON containers a plan dict may hold."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Set):
        return sorted(value)
    raise TypeError(f"plan holds a {type(value).__name__}, which JSON cannot express")


def render_plan_json(plan: Mapping[str, Any]) -> str:
    """Render `plan` (the JSON-shaped dict of docs/design.md §5) as indented JSON with sorted keys.

    Read-only mappings and sets are accepted (sets print sorted). No trailing newline.
    Raises TypeError for a value JSON cannot express (a bug in the caller).
    """
    try:
        return orjson.dumps(plan if isinstance(plan, dict) else dict(plan), default=_plain,
                            option=_OPTIONS).decode()
    except orjson.JSONEncodeError as error:
        raise TypeError(str(error)) from error
