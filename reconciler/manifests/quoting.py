"""How manifest errors quote a user's value: on one line, control characters escaped."""

from __future__ import annotations

import json


def quote(value: str) -> str:
    """`value` in double quotes with control characters escaped: safe on one line."""
    return json.dumps(value)
