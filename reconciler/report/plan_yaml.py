"""`plan --output yaml`: the same object as the JSON output, as one YAML document."""

from __future__ import annotations

import io
from collections.abc import Mapping, Set
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import SafeRepresenter
from ruamel.yaml.resolver import VersionedResolver

# Readers of plans include YAML 1.1 parsers (kubectl's sigs.k8s.io/yaml, PyYAML), where a bare
# `on`, `yes` or `1:20` is not a string. Quote every string a 1.1 parser would read otherwise.
_YAML_1_1 = VersionedResolver(version=(1, 1))
_STR_TAG = "tag:yaml.org,2002:str"


class _PlanRepresenter(SafeRepresenter):
    """Safe representer (sorted keys) that quotes strings ambiguous under YAML 1.1 or 1.2."""

    def represent_str(self, data: str) -> ScalarNode:
        if _YAML_1_1.resolve(ScalarNode, data, (True, False)) != _STR_TAG:
            return self.represent_scalar(_STR_TAG, data, style="'")  # type: ignore[no-any-return]
        return super().represent_str(data)  # type: ignore[no-any-return]


_PlanRepresenter.add_representer(str, _PlanRepresenter.represent_str)


def _plain(value: Any) -> Any:
    """A copy of `value` built from dict, list and scalars only (the safe dumper's vocabulary)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Set):
        return sorted(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def render_plan_yaml(plan: Mapping[str, Any]) -> str:
    """Render `plan` (the JSON-shaped dict of docs/design.md §5) as one block-style YAML document.

    Keys are sorted at every level, so output is deterministic; loading it back gives the
    object the JSON output holds. No trailing newline. Raises ruamel's RepresenterError for a
    value YAML cannot express (a bug in the caller).
    """
    yaml = YAML(typ="safe")
    yaml.Representer = _PlanRepresenter
    yaml.default_flow_style = False
    yaml.width = 4096  # long image references stay on one line
    out = io.StringIO()
    yaml.dump(_plain(plan), out)
    return out.getvalue().rstrip("\n")
