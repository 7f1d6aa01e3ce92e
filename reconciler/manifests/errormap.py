"""Pydantic validation errors to one-line diagnostics at the YAML node that caused them."""

from __future__ import annotations

import datetime
import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.manifests.diagnostics import Diagnostic
from reconciler.manifests.quoting import quote
from reconciler.manifests.yamldoc import Loc, YamlDocument

_TYPE_WORDS = {
    "int_type": "an integer",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "float_type": "a number",
}
_BOUNDS = {
    "greater_than_equal": ("ge", ">="),
    "greater_than": ("gt", ">"),
    "less_than_equal": ("le", "<="),
    "less_than": ("lt", "<"),
}

# Keys users put in the wrong place; the hint says where they belong.
_MISPLACED = {
    ("policy", "imageSecret"): "set the group's imageSecret beside policy, not inside it",
    ("spec", "concurrency"): "job settings go under policy (or FleetConfig spec.defaults)",
    ("spec", "timeoutSeconds"): "job settings go under policy (or FleetConfig spec.defaults)",
    ("spec", "nodeGroup"): "node selection goes under nodes",
    ("spec", "selector"): "node selection goes under nodes",
    ("spec", "names"): "node selection goes under nodes",
    ("spec", "name"): "the name goes under metadata",
}


def yaml_type(value: object) -> str:
    """How a YAML user would name the type of `value`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime.date):
        return "a date (quote it to make it a string)"
    return type(value).__name__


def dotted(loc: Loc) -> str:
    """`spec.images[2].image` for ("spec", "images", 2, "image")."""
    text = ""
    for part in loc:
        name = str(part) if str(part).isprintable() else quote(str(part))  # a key with a newline
        text += f"[{part}]" if isinstance(part, int) else (f".{name}" if text else name)
    return text


def _key(key: object) -> str:
    """A key in double quotes; one with control characters (a newline) escaped, on one line."""
    text = str(key)
    return f'"{text}"' if text.isprintable() else quote(text)


def _data_loc(doc: YamlDocument, loc: tuple[int | str, ...]) -> tuple[Loc, bool]:
    """Map a pydantic loc onto the document: (loc of data, whether it names a mapping key).

    Pydantic adds segments that are not in the data (union member names, "[key]" for dict
    keys); they are skipped. A final segment that is not in the data (an unknown or missing
    key) is kept so that messages can name it.
    """
    current: Any = doc.data
    result: list[str | int] = []
    for i, part in enumerate(loc):
        if part == "[key]":
            return tuple(result), True
        in_mapping = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_mapping or in_list:
            current = current[part]
            result.append(part)
        elif i == len(loc) - 1 and isinstance(current, dict) and isinstance(part, str):
            result.append(part)
    return tuple(result), False


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through Optional, Annotated, list, dict)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the model accepts in the mapping at `loc` (aliases), for did-you-mean hints."""
    candidates: list[type[BaseModel]] = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        following: list[type[BaseModel]] = []
        for m in candidates:
            for name, info in m.model_fields.items():
                if (info.alias or name) == part:
                    following.extend(_unwrap(info.annotation))
        candidates = following or candidates
    return sorted({info.alias or name for m in candidates for name, info in m.model_fields.items()})


def _message(model: type[BaseModel], error: ErrorDetails, loc: Loc) -> str:
    kind = error["type"]
    where = dotted(loc)
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        key = str(loc[-1])
        hint = _MISPLACED.get((str(loc[-2]) if len(loc) > 1 else "", key))
        if hint is None:
            close = difflib.get_close_matches(key, allowed_keys(model, loc[:-1]), n=1, cutoff=0.6)
            hint = f'did you mean "{close[0]}"?' if close else None
        return f"unknown key {_key(key)}" + (f" ({hint})" if hint else "")
    if kind == "missing":
        return f"missing required key {_key(loc[-1])}" + (f" in {dotted(loc[:-1])}" if len(loc) > 1 else "")
    if kind in ("value_error", "assertion_error"):
        return error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in _TYPE_WORDS:
        return f"{where} must be {_TYPE_WORDS[kind]}, not {yaml_type(value)}"
    if kind in _BOUNDS:
        bound, symbol = _BOUNDS[kind]
        return f"{where} must be {symbol} {ctx.get(bound)}, not {value!r}"
    if kind == "literal_error":
        return f"{where} must be {ctx.get('expected')}, not {value!r}"
    return f"{where}: {error['msg']}"


def validation_diagnostics(
    doc: YamlDocument, model: type[BaseModel], err: ValidationError
) -> list[Diagnostic]:
    """One Diagnostic per pydantic error of validating `doc` as `model`, at the offending node.

    An unknown key points at the key, a missing key at the mapping that lacks it, anything
    else at the value.
    """
    found: list[Diagnostic] = []
    for error in err.errors(include_url=False):
        loc, names_key = _data_loc(doc, error["loc"])
        at_key = names_key or error["type"] == "extra_forbidden"
        place = loc[:-1] if error["type"] == "missing" else loc
        line, col = doc.position(place, key=at_key)
        found.append(Diagnostic(doc.path, line, col, _message(model, error, loc)))
    return found
