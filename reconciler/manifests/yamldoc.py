"""YAML files to plain Python documents that remember where every key and value was written.

ruamel.yaml composes each document into a node tree (every node carries its start mark); we
build plain dicts, lists and scalars from it ourselves so that duplicate keys are reported
(all of them, with both places) instead of aborting the file, and so that every later error
can point at the exact node.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.manifests.diagnostics import Diagnostic

Loc = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based (line, col)

# Alias expansion can blow a small file up exponentially ("billion laughs"); a fleet document
# has at most a few thousand nodes.
_MAX_NODES_PER_DOCUMENT = 200_000


@dataclass(slots=True)
class YamlDocument:
    """One document of a file: its data and the position of each value and mapping key."""

    path: str
    data: Any
    start: Position
    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)

    def position(self, loc: Loc, *, key: bool = False) -> Position:
        """Where `loc` was written: its key if `key` and it has one, else the nearest value."""
        if key and loc in self.keys:
            return self.keys[loc]
        while loc not in self.values and loc:
            loc = loc[:-1]
        return self.values.get(loc, self.start)

    def diagnostic(self, loc: Loc, message: str, *, key: bool = False, severity: str = "error") -> Diagnostic:
        """A Diagnostic at `loc` of this document."""
        line, col = self.position(loc, key=key)
        return Diagnostic(self.path, line, col, message, severity)  # type: ignore[arg-type]


class _TooLarge(Exception):
    pass


def _pos(node: Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, doc: YamlDocument, yaml: YAML, problems: list[Diagnostic]) -> None:
        self.doc = doc
        self.yaml = yaml
        self.problems = problems
        self.count = 0
        self.active: set[int] = set()

    def build(self, node: Node, loc: Loc) -> Any:
        self.count += 1
        if self.count > _MAX_NODES_PER_DOCUMENT:
            raise _TooLarge
        self.doc.values.setdefault(loc, _pos(node))
        if isinstance(node, ScalarNode):
            return self.yaml.constructor.construct_object(node, deep=True)
        if id(node) in self.active:
            self.problems.append(self.doc.diagnostic(loc, "recursive YAML alias"))
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, loc)
            return None
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                key = str(self.yaml.constructor.construct_object(key_node, deep=True))
            else:
                self.problems.append(
                    Diagnostic(self.doc.path, *_pos(key_node), "a mapping key must be a plain string")
                )
                continue
            if key in result:
                first_line = self.doc.keys[(*loc, key)][0]
                self.problems.append(
                    Diagnostic(
                        self.doc.path, *_pos(key_node), f'duplicate key "{key}" (first at line {first_line})'
                    )
                )
                continue
            self.doc.keys[(*loc, key)] = _pos(key_node)
            result[key] = self.build(value_node, (*loc, key))
        return result


def _syntax_error(path: str, err: YAMLError) -> Diagnostic:
    if isinstance(err, MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        problem = err.problem or str(err)
        return Diagnostic(path, mark.line + 1, mark.column + 1, f"YAML syntax error: {problem}")
    first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return Diagnostic(path, 1, 1, f"YAML syntax error: {first_line}")


def read_documents(path: str, content: bytes) -> tuple[list[YamlDocument], list[Diagnostic]]:
    """Parse every document of one file.

    Reads `content` only; returns the non-empty documents and the problems found (syntax
    errors, which stop the file at that point, duplicate keys, undecodable bytes). Never raises.
    """
    problems: list[Diagnostic] = []
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return [], [Diagnostic(path, 1, 1, f"file is not valid UTF-8 (byte {err.start})")]
    yaml = YAML(typ="safe", pure=True)
    documents: list[YamlDocument] = []
    nodes: Iterator[Node] = yaml.compose_all(text)
    try:
        for node in nodes:
            if node is None or (isinstance(node, ScalarNode) and str(node.tag).endswith(":null")):
                continue
            doc = YamlDocument(path=path, data=None, start=_pos(node))
            builder = _Builder(doc, yaml, problems)
            try:
                doc.data = builder.build(node, ())
            except _TooLarge:
                problems.append(doc.diagnostic((), "document too large (YAML alias expansion)"))
                continue
            documents.append(doc)
    except YAMLError as err:
        problems.append(_syntax_error(path, err))
    except (ValueError, TypeError, OverflowError) as err:  # a scalar ruamel cannot construct
        problems.append(Diagnostic(path, 1, 1, f"YAML value error: {str(err).splitlines()[0]}"))
    return documents, problems
