"""YAML loading that remembers where every key and value came from, within bounds.

PyYAML silently keeps the last of two equal keys and forgets positions once it builds
Python objects. Suites need both: duplicate keys are errors, and every validation error
names the line and column of the offending key or value.

Suites may come from a pull request, so loading is bounded: the file's size, the nesting
depth, the number of values after aliases are expanded (a few hundred bytes of aliases can
stand for billions of values) and the length of an integer are limited, each with an error
that says which limit and where. Nothing here formats a value whose size it has not checked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import Location, SuiteError

#: a suite file larger than this is refused before it is parsed
MAX_SUITE_BYTES = 4 * 1024 * 1024
#: mappings and lists nested deeper than this (a suite needs about six levels)
MAX_DEPTH = 32
#: keys, values and list items once aliases are expanded (a 1,000-case suite has ~20,000)
MAX_VALUES = 200_000
#: characters of one integer (uint64's largest value has 20 digits)
MAX_INT_CHARS = 64


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
_FAST_BASE = getattr(yaml, "CSafeLoader", None)


def _loader_for(path: Path, fast: bool = False) -> type[yaml.SafeLoader]:
    """A loader class for ``path``: libyaml's parser when ``fast`` (and installed), else PyYAML's."""
    base = _FAST_BASE if fast and _FAST_BASE is not None else yaml.SafeLoader

    class Loader(base):  # type: ignore[misc, valid-type]
        _depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            # PyYAML's composer recurses once per level; stop long before Python's limit.
            # (libyaml's parser refuses more than 1,000 levels itself.)
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH + 1:  # + 1: the scalar inside the deepest list
                    mark = self.peek_event().start_mark
                    raise SuiteError(_depth_message(), Location(path, mark.line + 1, mark.column + 1))
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except (SuiteError, yaml.YAMLError):
                raise
            except Exception as exc:  # noqa: BLE001 - any constructor failure is this value's fault
                # e.g. "!!int abc", a date such as 2024-13-45, "!!timestamp x": PyYAML's
                # constructors raise plain Python errors without a position.
                raise SuiteError(f"cannot read this value: {type(exc).__name__}: {str(exc)[:200]}",
                                 _loc(path, node)) from None

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

    def construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
        if len(node.value) > MAX_INT_CHARS:
            raise SuiteError(f"an integer of {len(node.value)} characters is too long (at most "
                             f"{MAX_INT_CHARS}; LoadGen's settings are 64-bit)", _loc(path, node))
        return yaml.SafeLoader.construct_yaml_int(loader, node)

    # YAML 1.1 reads "1e5" and "1.0e9" as strings; suites write QPS that way, so read them
    # as numbers, like YAML 1.2 does.
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789."))
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    return Loader


def _depth_message() -> str:
    return (f"mappings and lists are nested more than {MAX_DEPTH} levels deep; a suite needs about six")


def _check_node_graph(path: Path, root: yaml.Node) -> None:
    """Refuse too deep nesting, too many values after alias expansion, and self-containing values.

    Aliases make the node graph a DAG (or a cycle: ``&a [*a]``); sizes are counted with one
    visit per node, so a bomb of exponential size is measured in linear time.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            active.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            height[key] = 1 + max((height[id(c)] for c in children), default=0)
            if height[key] > MAX_DEPTH + 1:
                raise SuiteError(_depth_message(), _loc(path, node))
            continue
        if key in size:
            continue
        if key in active:
            raise SuiteError("this value contains itself through an alias (*name); a suite cannot "
                             "hold such a value", _loc(path, node))
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
        for child in children:
            if id(child) in active:
                raise SuiteError("this value contains itself through an alias (*name); a suite cannot "
                                 "hold such a value", _loc(path, child))
    if size[id(root)] > MAX_VALUES:
        # Point at the innermost value that is too large on its own.
        node = root
        while True:
            bigger = [c for c in _children(node) if size[id(c)] > MAX_VALUES]
            if not bigger:
                break
            node = bigger[0]
        raise SuiteError(
            f"this value expands to {size[id(node)]:,} keys, values and list items (at most "
            f"{MAX_VALUES:,}); aliases (*name) repeat what their anchor (&name) holds, so a few "
            "lines can stand for billions of values", _loc(path, node))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def read_suite_text(path: Path) -> tuple[bytes, str]:
    """A suite file's bytes and text, refusing files over MAX_SUITE_BYTES before reading them."""
    where = Location(path, 1, 1)
    try:
        size = path.stat().st_size
        if size > MAX_SUITE_BYTES:
            raise SuiteError(_size_message(size), where)
        raw = path.read_bytes()
    except OSError as exc:
        raise SuiteError(f"cannot read the file: {exc.strerror or exc}", where) from None
    if len(raw) > MAX_SUITE_BYTES:  # it grew since stat(): a device file or a file being written
        raise SuiteError(_size_message(len(raw)), where)
    return raw, raw.decode("utf-8", errors="replace")


def _size_message(size: int) -> str:
    return (f"the file is {size:,} bytes; a suite is at most {MAX_SUITE_BYTES:,} bytes "
            f"({MAX_SUITE_BYTES // (1024 * 1024)} MiB). Split it into several suites (extends: shares "
            "their common settings)")


def load_yaml(path: Path, text: str | None = None) -> Any:
    """Parse one YAML document from ``path`` into YMap/YList/scalars.

    Raises SuiteError with the file position for any syntax error, duplicate key or
    exceeded limit (size, depth, values after alias expansion, integer length).
    """
    if text is None:
        try:
            size = path.stat().st_size
            if size > MAX_SUITE_BYTES:
                raise SuiteError(_size_message(size), Location(path, 1, 1))
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SuiteError(f"not UTF-8 text ({exc.reason})", Location(path, 1, 1)) from None
        except OSError as exc:
            raise SuiteError(f"cannot read the file: {exc.strerror}", Location(path, 1, 1)) from None
    if len(text) > MAX_SUITE_BYTES:
        raise SuiteError(_size_message(len(text.encode("utf-8", errors="replace"))), Location(path, 1, 1))
    try:
        return _load(path, text, fast=True)
    except yaml.YAMLError:
        pass
    # libyaml's messages differ from PyYAML's: read the broken file again with PyYAML, whose
    # messages (and marks) the error reports.
    try:
        return _load(path, text, fast=False)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(path, text, exc) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or " ")
        raise SuiteError(f"malformed YAML: {exc.reason}: character U+{character:04X} is not allowed in "
                         "YAML text", Location(path, line, column)) from None
    except yaml.YAMLError as exc:
        raise SuiteError(f"malformed YAML: {str(exc)[:500]}", Location(path, 1, 1)) from None


def _load(path: Path, text: str, fast: bool) -> Any:
    loader = _loader_for(path, fast)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_node_graph(path, node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _syntax_error(path: Path, text: str, exc: yaml.MarkedYAMLError) -> SuiteError:
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
    return SuiteError(f"malformed YAML: {problem[:500]}{context[:500]}", location)


def parse_scalar(text: str) -> Any:
    """A command-line value read with the suite's own YAML rules (``1e5`` is a number)."""
    try:
        return _load(Path("<command line>"), text, fast=True)
    except (yaml.YAMLError, SuiteError):
        return text
