"""YAML that remembers where each value was written, so a problem can name its file and line.

PyYAML's plain ``safe_load`` forgets positions. A config problem is found long after parsing, on
a dotted field path such as ``agreements[0].policies[1].targets.first_reply.within.high``; this
module walks the composed node tree once and records the line of every mapping key and sequence
item under that same path, so the validator can turn a path back into a line. It also notices what
``safe_load`` hides: a key written twice in one mapping (YAML keeps only the last).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from duly.config.errors import ConfigError, Problem

__all__ = ["DuplicateKey", "LinedYaml", "load_lined_yaml"]

_MERGE_TAG: Final = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class DuplicateKey:
    """A key given twice in one mapping: where, and the line of its first occurrence."""

    path: str
    line: int
    first_line: int


@dataclass(frozen=True)
class LinedYaml:
    """A parsed YAML document with the 1-based line of each path in it."""

    data: Any
    lines: Mapping[str, int] = field(default_factory=dict)
    duplicates: tuple[DuplicateKey, ...] = ()

    def line_of(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest ancestor that was written in the file.

        A value that was never written (a missing required key) or that lives inside a scalar
        (a field of a condition string) gets the line of the closest enclosing key or item.
        """
        current = path
        while True:
            if current in self.lines:
                return self.lines[current]
            cut = max(current.rfind("."), current.rfind("["))
            if cut <= 0:
                return self.lines.get("")
            current = current[:cut]


class _Loader(yaml.SafeLoader):
    """SafeLoader whose impossible dates stay strings, for the validator to report with a line.

    ``safe_load`` raises a bare ValueError, with no position, on ``2026-13-01``: it looks like a
    timestamp to the resolver but is not one.
    """

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def load_lined_yaml(text: str, source: str = "<config>") -> LinedYaml:
    """Parse one YAML document, keeping the line of every key and item by its dotted path.

    Raises ConfigError with the file and line of a syntax error.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[str, int] = {}
        duplicates: list[DuplicateKey] = []
        if node is not None:
            _walk(node, "", lines, duplicates, set())
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            Problem(
                "", f"not valid YAML: {reason}", file=source, line=mark.line + 1 if mark else None
            )
        ) from exc
    finally:
        loader.dispose()
    return LinedYaml(data=data, lines=lines, duplicates=tuple(duplicates))


def _walk(
    node: Node,
    path: str,
    lines: dict[str, int],
    duplicates: list[DuplicateKey],
    active: set[int],
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in active:  # an alias to an enclosing node: a recursive structure
        return
    active.add(id(node))
    if isinstance(node, MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = _key_text(key_node)
            child = f"{path}.{key}" if path else key
            line = key_node.start_mark.line + 1
            if key in first_seen:  # YAML keeps the last value, so its line is the one to show
                duplicates.append(DuplicateKey(child, line, first_seen[key]))
            first_seen.setdefault(key, line)
            lines[child] = line
            _walk(value_node, child, lines, duplicates, active)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines, duplicates, active)
    active.discard(id(node))


def _key_text(node: Node) -> str:
    """The key as the constructed data will spell it (``on`` is True in YAML 1.1, ``1`` is 1)."""
    if isinstance(node, ScalarNode):
        try:
            return str(SafeConstructor().construct_object(node))
        except (yaml.YAMLError, ValueError):
            return str(node.value)
    return str(node.value)
