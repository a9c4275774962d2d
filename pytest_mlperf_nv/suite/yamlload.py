"""YAML loading that remembers where every key and value came from.

PyYAML silently keeps the last of two equal keys and forgets positions once it builds
Python objects. Suites need both: duplicate keys are errors, and every validation error
names the line and column of the offending key or value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import Location, SuiteError


class YMap(dict):
    """A mapping that knows the position of itself, each key and each value."""

    location: Location
    key_locations: dict[Any, Location]
    value_locations: dict[Any, Location]


class YList(list):
    """A sequence that knows the position of itself and each item."""

    location: Location
    item_locations: list[Location]


def _loc(path: Path, node: yaml.Node) -> Location:
    mark = node.start_mark
    return Location(path, mark.line + 1, mark.column + 1)


_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")


def _loader_for(path: Path) -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> YMap:
        loader.flatten_mapping(node)
        result = YMap()
        result.location = _loc(path, node)
        result.key_locations = {}
        result.value_locations = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise SuiteError("keys must be plain names", _loc(path, key_node))
            if key in result:
                first = result.key_locations[key]
                raise SuiteError(
                    f"duplicate key (first defined at line {first.line}); YAML would silently keep "
                    "only the last one, so remove or rename one of them",
                    _loc(path, key_node),
                    key=str(key),
                )
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_locations[key] = _loc(path, key_node)
            result.value_locations[key] = _loc(path, value_node)
        return result

    def construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> YList:
        result = YList(loader.construct_object(child, deep=True) for child in node.value)
        result.location = _loc(path, node)
        result.item_locations = [_loc(path, child) for child in node.value]
        return result

    # YAML 1.1 reads "1e5" and "1.0e9" as strings; suites write QPS that way, so read them
    # as numbers, like YAML 1.2 does.
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789."))
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return Loader


def load_yaml(path: Path, text: str | None = None) -> Any:
    """Parse one YAML document from ``path`` into YMap/YList/scalars.

    Raises SuiteError with the file position for any syntax error or duplicate key.
    """
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SuiteError(f"not UTF-8 text ({exc.reason})", Location(path, 1, 1)) from None
        except OSError as exc:
            raise SuiteError(f"cannot read the file: {exc.strerror}", Location(path, 1, 1)) from None
    try:
        return yaml.load(text, Loader=_loader_for(path))  # noqa: S506 - SafeLoader subclass
    except SuiteError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        start = exc.context_mark
        if mark is not None and start is not None and mark.line >= len(text.splitlines()):
            # The end of the file (an unclosed bracket or quote): it has no line to show, so
            # point at where the unclosed construct starts.
            mark = start
        location = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path, 1, 1)
        problem = exc.problem or "invalid YAML"
        context = ""
        if exc.context and problem.startswith("but "):
            # e.g. "expected a single document in the stream, but found another document"
            problem = f"{exc.context}, {problem}"
        elif exc.context:
            where = ""
            if start is not None and mark is not None and (start.line, start.column) != (
                    mark.line, mark.column):
                where = f" that starts at line {start.line + 1}, column {start.column + 1}"
            context = f" ({exc.context}{where})"
        raise SuiteError(f"malformed YAML: {problem}{context}", location) from None
    except yaml.YAMLError as exc:
        raise SuiteError(f"malformed YAML: {exc}", Location(path, 1, 1)) from None


def parse_scalar(text: str) -> Any:
    """A command-line value read with the suite's own YAML rules (``1e5`` is a number)."""
    try:
        return yaml.load(text, Loader=_loader_for(Path("<command line>")))  # noqa: S506
    except (yaml.YAMLError, SuiteError):
        return text
