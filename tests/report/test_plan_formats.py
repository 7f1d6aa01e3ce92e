"""JSON and YAML plans: the same object, sorted, byte-identical run after run."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import orjson
import pytest
from ruamel.yaml import YAML

from reconciler.report import render_plan

PlanDict = dict[str, Any]


def _reversed_keys(value: Any) -> Any:
    """The same object with every mapping's keys inserted in reverse order."""
    if isinstance(value, dict):
        return {k: _reversed_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


def test_json_is_the_plan_object(small_plan: PlanDict) -> None:
    assert orjson.loads(render_plan(small_plan, "json")) == small_plan


def test_json_is_byte_identical_whatever_the_key_order(small_plan: PlanDict) -> None:
    assert render_plan(small_plan, "json") == render_plan(_reversed_keys(small_plan), "json")


def test_json_keys_are_sorted(small_plan: PlanDict) -> None:
    text = render_plan(small_plan, "json")
    top = [line.split('"')[1] for line in text.splitlines() if line.startswith('  "')]
    assert top == sorted(top) and top[0] == "apiVersion"


def test_json_accepts_read_only_mappings_and_sets(small_plan: PlanDict) -> None:
    frozen = dict(small_plan, summary=MappingProxyType(small_plan["summary"]),
                  warnings=frozenset({"b", "a"}))
    assert orjson.loads(render_plan(MappingProxyType(frozen), "json"))["warnings"] == ["a", "b"]


def test_json_refuses_values_json_cannot_express(small_plan: PlanDict) -> None:
    small_plan["revision"] = object()
    with pytest.raises(TypeError):
        render_plan(small_plan, "json")


def test_yaml_loads_back_to_the_json_object(small_plan: PlanDict) -> None:
    assert YAML(typ="safe").load(render_plan(small_plan, "yaml")) == small_plan


@pytest.mark.parametrize("value", [
    pytest.param("on", id="yaml11-bool-on"),
    pytest.param("yes", id="yaml11-bool-yes"),
    pytest.param("1:20", id="yaml11-sexagesimal"),
    pytest.param("0.1", id="float-like"),
    pytest.param("null", id="null-like"),
    pytest.param("2026-01-01", id="timestamp-like"),
])
def test_yaml_keeps_ambiguous_strings_strings_for_yaml_1_1_readers(small_plan: PlanDict, value: str) -> None:
    small_plan["deferred"][0]["node"] = value
    yaml11 = YAML(typ="safe")
    yaml11.version = (1, 1)  # as kubectl's sigs.k8s.io/yaml and PyYAML read it
    for reader in (YAML(typ="safe"), yaml11):
        assert reader.load(render_plan(small_plan, "yaml"))["deferred"][0]["node"] == value


def test_yaml_is_byte_identical_whatever_the_key_order(small_plan: PlanDict) -> None:
    assert render_plan(small_plan, "yaml") == render_plan(_reversed_keys(small_plan), "yaml")


def test_no_format_ends_with_a_newline(small_plan: PlanDict) -> None:
    for fmt in ("json", "yaml", "markdown"):
        assert not render_plan(small_plan, fmt).endswith("\n")  # type: ignore[arg-type]


def test_unknown_format_is_refused(small_plan: PlanDict) -> None:
    with pytest.raises(ValueError, match="unknown plan format 'html'"):
        render_plan(small_plan, "html")  # type: ignore[arg-type]
