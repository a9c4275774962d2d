"""Shared helpers for the accuracy tests (golden-case discovery)."""

from __future__ import annotations

import shlex
from pathlib import Path

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "accuracy_golden"


def golden_cases(metric: str) -> list[Path]:
    """Every case folder of ``metric`` (sorted, so test ids are stable)."""
    root = GOLDEN / metric
    return sorted(p for p in root.iterdir() if (p / "command.txt").is_file())


def command_args(case: Path, name: str = "command.txt") -> dict[str, str | bool]:
    """The ``--flag value`` / ``--switch`` arguments of a case's recorded command."""
    argv = shlex.split((case / name).read_text().strip())
    args: dict[str, str | bool] = {}
    i = 2  # skip "python3 <script>"
    while i < len(argv):
        key = argv[i]
        assert key.startswith("--"), argv
        if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            args[key[2:]] = argv[i + 1]
            i += 2
        else:
            args[key[2:]] = True
            i += 1
    return args


def expected_lines(case: Path, name: str = "expected_stdout.txt") -> list[str]:
    return (case / name).read_text().splitlines()
