"""The `registry` section of a Markdown plan (docs/registry.md): images held back and why,
digests pinned, bytes to transfer per group. Reads `plan["registry"]`; "" without one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.report.markdown_text import code, count, table, text


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"  # not reached


def registry_section(section: Mapping[str, Any] | None) -> str:
    """Markdown for the plan's registry facts: holds (a table), pins and bytes (bullets)."""
    if not section:
        return ""
    lines = ["#### Registry", ""]
    sized = [f"{code(e['group'])} {_bytes(int(e['bytes']))}" for e in section.get("bytesToTransfer") or []]
    unsized = int(section.get("unsizedPairs") or 0)
    lines.append("- Bytes to transfer: " + (", ".join(sized) or "none")
                 + (f" ({count(unsized)} pairs of unknown size)" if unsized else "") + ".")
    for pin in section.get("pinned") or []:
        lines.append(f"- Pinned {code(pin['image'])} to {code(str(pin['pinned']).rpartition('@')[2])}.")
    if not_checked := section.get("notChecked") or []:
        lines.append(f"- Not checked (registry did not answer): {', '.join(code(i) for i in not_checked)}.")
    held = section.get("held") or []
    if held:
        lines += ["", *table(["Held image", "Why", "Group", "Nodes", "Detail"],
                             [[code(h["image"]), f"**{h['reason']}**", code(h["group"]),
                               count(h["nodes"]), text(h["detail"])] for h in held], numeric={3})]
    return "\n".join(lines)
