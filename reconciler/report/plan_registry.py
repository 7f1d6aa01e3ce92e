"""The `registry` section of a Markdown plan and of the review comment (docs/registry.md):
images held back and why, digests pinned, bytes to transfer per group and per site. Reads
`plan["registry"]`; "" without one."""

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


def transfer_text(n: int) -> str:
    """Bytes for people and, exactly, for checking: "1.2 MiB (1,258,291 B)"."""
    rounded = _bytes(n)
    return rounded if rounded.endswith(" B") else f"{rounded} ({n:,} B)"


def registry_section(section: Mapping[str, Any] | None) -> str:
    """Markdown for the plan's registry facts: holds (a table), bytes per group and per site,
    pins (bullets)."""
    if not section:
        return ""
    lines = ["#### Registry", ""]
    sized = [f"{code(e['group'])} {transfer_text(int(e['bytes']))}"
             for e in section.get("bytesToTransfer") or []]
    unsized = int(section.get("unsizedPairs") or 0)
    lines.append("- Bytes to transfer per group: " + (", ".join(sized) or "none")
                 + (f" ({count(unsized)} pairs of unknown size)" if unsized else "") + ".")
    if sites := section.get("bytesToTransferPerSite") or []:
        label = code(section.get("siteLabel") or "site")
        lines.append(f"- Per site (label {label}): "
                     + ", ".join(f"{code(e['site'])} {transfer_text(int(e['bytes']))}" for e in sites) + ".")
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


def new_holds(head: Mapping[str, Any], base: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The registry holds of the `head` plan that the `base` plan does not have, as (group,
    image, reason): what a change brings (a hold already on the base is not the change's)."""
    def holds(plan: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return list((plan.get("registry") or {}).get("held") or [])
    old = {(h["group"], h["image"], h["reason"]) for h in holds(base)}
    return [h for h in holds(head) if (h["group"], h["image"], h["reason"]) not in old]
