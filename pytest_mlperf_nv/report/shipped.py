"""The suites shipped with the plugin, as ``mlperf-nv suites`` lists and ``mlperf-nv run`` runs them.

A suite that other shipped suites extend (the shared ``nvidia-datacenter`` part) is not run on
its own and is not listed. A suite's description is its ``description:`` key, else the whole
comment paragraph at its top.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: ini files pytest reads, in its order of precedence, and the section that makes each one count
INI_FILES = (("pytest.ini", ""), (".pytest.ini", ""), ("pyproject.toml", "[tool.pytest.ini_options]"),
             ("tox.ini", "[pytest]"), ("setup.cfg", "[tool:pytest]"))


@dataclass(frozen=True)
class ShippedSuite:
    name: str
    path: Path
    description: str


def _leading_comment(text: str) -> str:
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        lines.append(stripped.lstrip("#").strip())
    return " ".join(line for line in lines if line)


def shipped_suites(directory: Path) -> list[ShippedSuite]:
    """Every suite in ``directory`` that is meant to be run, sorted by name."""
    import yaml

    found: dict[str, tuple[Path, str]] = {}
    extended: set[str] = set()
    for path in sorted(directory.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            doc = None
        doc = doc if isinstance(doc, dict) else {}
        base = doc.get("extends")
        if isinstance(base, str) and "/" not in base:
            extended.add(Path(base).stem)
        description = doc.get("description")
        found[path.stem] = (path, description.strip() if isinstance(description, str)
                            else _leading_comment(text))
    return [ShippedSuite(name, path, text) for name, (path, text) in sorted(found.items())
            if name not in extended]


def run_arguments(path: Path, rest: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> list[str]:
    """pytest's arguments for running a shipped suite from ``cwd``: results land in ``cwd``.

    Left alone, pytest would take the rootdir (which places the default output dir and
    pytest's own cache) and the ini file from the suite's location inside the installed
    package. The rootdir stays the suite's directory (node ids read ``l4.yaml::...``), the
    ini file is the one ``cwd`` has (or none), and the output dir and pytest's cache are in
    ``cwd`` unless the command line, the environment or that ini file says otherwise.
    """
    env = os.environ if env is None else env
    given = {a.split("=", 1)[0] for a in rest}
    args = [] if "--rootdir" in given else [f"--rootdir={path.parent}"]
    ini = None
    if not given & {"-c", "--config-file"}:
        ini = find_ini(cwd)
        args += ["-c", str(ini) if ini is not None else os.devnull]
    ini_sets_out = ini is not None and "mlperf_out" in ini.read_text(encoding="utf-8", errors="replace")
    if "--mlperf-out" not in given and "MLPERF_NV_OUT" not in env and not ini_sets_out:
        args.append(f"--mlperf-out={cwd / 'mlperf-results'}")
    args += ["-o", f"cache_dir={cwd / '.pytest_cache'}"]
    return [*args, str(path), *rest]


def find_ini(start: Path) -> Path | None:
    """The ini file pytest would use when run from ``start`` on a path below it."""
    for directory in (start, *start.parents):
        for name, section in INI_FILES:
            candidate = directory / name
            if not candidate.is_file():
                continue
            try:
                text = candidate.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if not section or section in text:
                return candidate
    return None
