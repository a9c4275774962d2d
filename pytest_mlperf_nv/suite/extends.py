"""``extends: base.yaml``: a suite built on another suite's settings, key by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SuiteError
from ..names import component_problem, shown
from .document import Document
from .yamlload import YMap, load_yaml, read_suite_text

#: a suite extending a suite extending ... at most this many files deep
MAX_EXTENDS = 16


def extended(doc: Document, root: YMap, digest: Any, chain: list[Path]) -> YMap:
    """``extends: base.yaml``: the base suite's settings, overridden key by key by this file's."""
    loc = doc.value_loc(root, "extends")
    name = doc.path_value(root, "extends", "extends") if root.get("extends") is not None else None
    if not name:
        raise SuiteError("expected the path of another suite file (relative to this one)", loc,
                         key="extends")
    if len(chain) > MAX_EXTENDS:
        raise SuiteError(f"suites extend each other more than {MAX_EXTENDS} files deep", loc, key="extends")
    base_path, found = doc.resolved(name, loc, "extends", check_file=True)
    if not found:
        packaged = Path(__file__).resolve().parent.parent / "suites" / name
        if component_problem(name) is not None or not packaged.is_file():
            raise SuiteError(f"suite to extend not found: {shown(str(base_path), 300)} (paths are relative "
                             "to this file)", loc, key="extends")
        base_path = packaged
    if base_path in chain:
        cycle = " -> ".join(p.name for p in [*chain, base_path])
        raise SuiteError(f"suites extend each other in a cycle: {cycle}", loc, key="extends")
    raw, text = read_suite_text(base_path)
    digest.update(raw)
    base = load_yaml(base_path, text)
    if not isinstance(base, YMap):
        raise SuiteError(f"{base_path.name} is not a suite (its top level is not a mapping)", loc,
                         key="extends")
    if "extends" in base:
        base = extended(Document(base_path), base, digest, [*chain, base_path])
    own = YMap((k, v) for k, v in root.items() if k != "extends")
    own.location = root.location
    own.key_locations = {k: v for k, v in root.key_locations.items() if k != "extends"}
    own.value_locations = {k: v for k, v in root.value_locations.items() if k != "extends"}
    return merge(base, own)


def merge(base: YMap, own: YMap) -> YMap:
    """Mappings merge key by key (recursively); any other value in ``own`` replaces the base's."""
    merged = YMap(base)
    merged.location = own.location
    merged.key_locations = dict(base.key_locations)
    merged.value_locations = dict(base.value_locations)
    for key, value in own.items():
        if isinstance(value, YMap) and isinstance(merged.get(key), YMap):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
        merged.key_locations[key] = own.key_locations[key]
        merged.value_locations[key] = own.value_locations[key]
    return merged
