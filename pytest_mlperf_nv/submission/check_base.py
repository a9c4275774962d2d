"""What every part of the plugin's submission checker shares: where a finding belongs, and the
rules for a directory's files.

:class:`Ctx` names the result (division/submitter/system/benchmark/scenario) a finding belongs to;
:class:`CheckerBase` collects the findings and checks a directory's exact file list, a file that
must not be empty, and a JSON object. :mod:`.check_logs`, :mod:`.check_compliance` and
:mod:`.check` build on it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..benchmarks.mlperf import MlperfBenchmark
from . import rules
from .findings import ERROR, Finding, ResultInfo
from .rules import LAYOUTS, RoundLayout


@dataclass
class Ctx:
    division: str
    submitter: str
    sub: Path  # <division>/<submitter>
    system: str = ""
    system_type: str | None = None
    benchmark: str = ""  # directory name
    bench: MlperfBenchmark | None = None
    scenario: str = ""

    @property
    def closed(self) -> bool:
        return self.division in ("closed", "network")

    @property
    def label(self) -> str:
        parts = [self.division, self.submitter, self.system, self.benchmark, self.scenario]
        return "/".join(p for p in parts if p)


def list_dir(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if not p.name.startswith(".") or p.name == ".gitkeep")
    except (FileNotFoundError, NotADirectoryError):
        return []


def subdirs(path: Path) -> list[Path]:
    return [p for p in list_dir(path) if p.is_dir() and not p.name.startswith(".")]


class CheckerBase:
    """The findings and results of one check, and the file-list rules every part of it uses."""

    def __init__(self, root: Path, round_: str, originals: Mapping[Path, Path]):
        self.root = root
        self.round = round_
        self.layout: RoundLayout = LAYOUTS[round_]
        self.findings: list[Finding] = []
        self.results: list[ResultInfo] = []
        self.originals = originals

    # ---------------------------------------------------------------------------------------- output

    def add(self, ctx: Ctx | str, severity: str, kind: str, path: Path, message: str, fix: str = "") -> None:
        label = ctx if isinstance(ctx, str) else ctx.label
        self.findings.append(Finding(severity, kind, Path(path), message, fix, label))

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    # ----------------------------------------------------------------------------------------- files

    def files(self, ctx: Ctx, directory: Path, required: Iterable[str], optional: Iterable[str] = (),
              dirs: Iterable[str] = (), what: str = "") -> bool:
        """Exactly ``required`` (+ ``optional``, tolerated, ``dirs``) in ``directory``; False: no such dir."""
        if not directory.is_dir():
            self.add(ctx, ERROR, "missing-file", directory, f"{what or self.rel(directory)}: directory "
                                                            "missing",
                     "write it (the tree builder copies it from the run directory)")
            return False
        required, optional, dirs = list(required), list(optional), list(dirs)
        present = {p.name: p for p in list_dir(directory)}
        for name in required:
            if name not in present:
                self.add(ctx, ERROR, "missing-file", directory / name, f"{self.rel(directory)} lacks {name}",
                         f"copy {name} there from the run that produced this directory")
        allowed = set(required) | set(optional) | set(dirs) | set(rules.TOLERATED)
        for name, path in present.items():
            if name not in allowed:
                self.add(ctx, ERROR, "extra-file", path,
                         f"{self.rel(directory)} holds {name}, which the {self.round} layout does not allow "
                         f"there (allowed: {', '.join(sorted(set(required) | set(optional) | set(dirs)))})",
                         f"remove {name} (the v5.0 checker rejects unexpected files in these directories)")
        return True

    def nonempty(self, ctx: Ctx, path: Path) -> None:
        if not path.is_file():
            self.add(ctx, ERROR, "missing-file", path, f"{self.rel(path)} is missing",
                     f"write {path.name} (the official checker requires it)")
        elif path.stat().st_size == 0:
            self.add(ctx, ERROR, "empty-file", path, f"{self.rel(path)} is empty",
                     f"write the {path.name} content (the official checker rejects an empty one)")

    def load_json(self, ctx: Ctx | str, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, UnicodeDecodeError) as exc:
            self.add(ctx, ERROR, "bad-json", path, f"{self.rel(path)} is not valid JSON: {exc}",
                     "rewrite it as a JSON object")
            return {}
        if not isinstance(data, dict):
            self.add(ctx, ERROR, "bad-json", path, f"{self.rel(path)} holds a {type(data).__name__}, not an "
                                                   "object",
                     "rewrite it as a JSON object")
            return {}
        return data


__all__ = ["CheckerBase", "Ctx", "list_dir", "subdirs"]
