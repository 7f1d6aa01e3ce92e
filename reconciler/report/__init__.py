"""Reports: the plan for machines (JSON, YAML) and for humans (Markdown), drift reports later.

Renderers read the JSON-shaped plan object of docs/design.md §5 (`Plan.to_dict()`), so the
three formats always say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from reconciler.report.plan_json import render_plan_json
from reconciler.report.plan_markdown import MAX_MARKDOWN_CHARS, render_plan_markdown
from reconciler.report.plan_yaml import render_plan_yaml

PlanFormat = Literal["markdown", "json", "yaml"]
PLAN_FORMATS: tuple[str, ...] = get_args(PlanFormat)


def render_plan(plan_dict: Mapping[str, Any], fmt: PlanFormat) -> str:
    """Render the plan object (docs/design.md §5) as `fmt`; the text has no trailing newline.

    json and yaml are deterministic (sorted keys: same plan, same bytes); markdown stays under
    MAX_MARKDOWN_CHARS at any fleet size. Raises ValueError for an unknown format.
    """
    if fmt == "json":
        return render_plan_json(plan_dict)
    if fmt == "yaml":
        return render_plan_yaml(plan_dict)
    if fmt == "markdown":
        return render_plan_markdown(plan_dict)
    raise ValueError(f"unknown plan format {fmt!r}; expected one of {', '.join(PLAN_FORMATS)}")


__all__ = [
    "MAX_MARKDOWN_CHARS",
    "PLAN_FORMATS",
    "PlanFormat",
    "render_plan",
    "render_plan_json",
    "render_plan_markdown",
    "render_plan_yaml",
]
