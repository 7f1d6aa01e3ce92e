"""Small Markdown building blocks for reports: escaped cells, tables, counted samples."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

#: Longest free-text cell (a reason, an error) before it is cut with "…"; names are never cut.
MAX_TEXT_CELL = 200


def count(value: Any) -> str:
    """An integer with thousands separators ("1,234"); anything else (absent: None) as "–"."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "–"


def text(value: Any, limit: int = MAX_TEXT_CELL) -> str:
    """Free text made safe for one table cell: one line, pipes escaped, no raw HTML (reasons
    may quote errors reported from the edge), at most `limit` characters."""
    raw = " ".join(str(value).split()) if value is not None else "–"
    if len(raw) > limit:
        raw = raw[: limit - 1] + "…"
    return raw.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def code(value: Any) -> str:
    """A name or image reference as inline code (backticks in it cannot close the span)."""
    raw = str(value).replace("`", "'").replace("|", "\\|")
    return f"`{raw}`"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *,
          numeric: Collection[int] = ()) -> list[str]:
    """A GitHub-flavoured Markdown table; the columns whose index is in `numeric` align right."""
    align = ["--:" if i in numeric else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def sample(items: Sequence[Any], limit: int | None) -> tuple[Sequence[Any], int]:
    """The first `limit` items (all when None) and how many were left out."""
    if limit is None or len(items) <= limit:
        return items, 0
    return items[:limit], len(items) - limit


def more(left_out: int, noun: str) -> str:
    """The line that stands for what a sample left out: "… and 1,234 more jobs"."""
    return f"… and {left_out:,} more {noun}"


def listing(values: Sequence[Any], limit: int | None) -> str:
    """Names as inline code separated by commas, sampled: "`a`, `b` … and 3 more"."""
    shown, left_out = sample(values, limit)
    joined = ", ".join(code(v) for v in shown)
    if left_out:
        return f"{joined} {more(left_out, '')}".rstrip() if joined else more(left_out, "").rstrip()
    return joined or "–"
