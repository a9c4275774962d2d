"""The package's shape: no import cycles, and harnesses known only to their own packages.

A harness lives in pytest_mlperf_nv/harness/<name>/ and is registered through the plugin's hook
(registry.py lists the built-in ones); no other module imports it or branches on its name.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

PACKAGE = REPO / "pytest_mlperf_nv"
HARNESS_PACKAGES = ("loadgen", "nvidia")
#: the modules allowed to name a built-in harness
REGISTRY = {"pytest_mlperf_nv.registry"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skip.update(id(sub) for sub in ast.walk(node))
    return skip


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module of the package ``name`` imports at run time (function-level imports included)."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_nodes(tree)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - (node.level - 1)] if node.level else []
            target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module
            candidates = [str(target)] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(c for c in candidates if c in modules and c != name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for vertex in graph:
        if vertex not in index:
            visit(vertex)
    return found


def test_the_package_has_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _cycles(graph) == []


def _owner(name: str) -> str | None:
    for harness in HARNESS_PACKAGES:
        if name.startswith(f"pytest_mlperf_nv.harness.{harness}"):
            return harness
    return None


def test_no_module_outside_a_harness_package_imports_it() -> None:
    modules = _modules()
    offenders = []
    for name, path in modules.items():
        if name in REGISTRY:
            continue
        for target in _imports(name, path, modules):
            owner = _owner(target)
            if owner is not None and _owner(name) != owner:
                offenders.append(f"{name} imports {target}")
    assert offenders == []


def test_no_module_outside_a_harness_package_branches_on_a_harness_name() -> None:
    offenders = []
    for name, path in _modules().items():
        if name in REGISTRY or _owner(name) is not None:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            operands = [node.left, *node.comparators]
            names = {c.value for o in operands for c in ast.walk(o)
                     if isinstance(c, ast.Constant) and c.value in HARNESS_PACKAGES}
            mentions = any("harness" in ast.unparse(o) for o in operands)
            if names and mentions:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == []
