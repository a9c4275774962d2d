"""Shards for many CI runners: ``--mlperf-shard I/N`` runs the I-th of N parts of the selection.

The split is a pure function of the selected node ids, so every runner given the same command
computes the same plan whatever order its plugins put the items in. Items that share an engine stay
in one shard: every scenario and mode of a suite's benchmark id is one group (they share the model,
the dataset and the engine, and a compliance audit needs the same benchmark's performance and
accuracy runs). Groups go to the shard with the fewest items so far, largest groups first.

Each shard writes ``<out>/shard-manifest.json`` (the whole plan and its own part), which
``mlperf-nv merge`` checks the shards' results against.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MANIFEST = "shard-manifest.json"
FORMAT = 1


class ShardError(Exception):
    """A bad --mlperf-shard value or an unusable manifest."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``: shard 2 of 4, counted from 1."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not match:
        raise ValueError("expected I/N, the I-th of N shards counted from 1 (e.g. 1/4)")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"shard {index}/{count}: I must be between 1 and N, and N at least 1")
    return index, count


def group_of(nodeid: str) -> str:
    """The engine group of an item: its suite file and benchmark id (``suites/l4.yaml::resnet50``).

    A node id that is not an mlperf item (a plain test in the same run) is grouped by its file.
    """
    parts = nodeid.split("::")
    return "::".join(parts[:2]) if len(parts) >= 4 else parts[0]


def plan(nodeids: Iterable[str], count: int) -> list[list[str]]:
    """The N shards' node ids (each sorted). Deterministic: depends only on the set of node ids."""
    groups: dict[str, list[str]] = {}
    for nodeid in sorted(set(nodeids)):
        groups.setdefault(group_of(nodeid), []).append(nodeid)
    shards: list[list[str]] = [[] for _ in range(count)]
    for key in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        smallest = min(range(count), key=lambda i: (len(shards[i]), i))
        shards[smallest].extend(groups[key])
    return [sorted(s) for s in shards]


def selection_digest(nodeids: Iterable[str]) -> str:
    """A fingerprint of the whole selection: shards of one run must agree on it."""
    return hashlib.sha256("\n".join(sorted(set(nodeids))).encode()).hexdigest()[:16]


def manifest(index: int, count: int, nodeids: Iterable[str]) -> dict[str, Any]:
    everything = sorted(set(nodeids))
    shards = plan(everything, count)
    return {
        "format": FORMAT,
        "shard": index,
        "of": count,
        "selection": selection_digest(everything),
        "items": shards[index - 1],
        "plan": {
            str(i + 1): {"groups": sorted({group_of(n) for n in s}), "items": s} for i, s in enumerate(shards)
        },
    }


def write_manifest(out: Path, data: dict[str, Any]) -> Path:
    """``<out>/shard-manifest.json`` written whole: xdist workers compute the same one and may all write."""
    import os

    path = Path(out) / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)
    return path


def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ShardError(
            f"{directory}: no {MANIFEST}; give the output dir of a run with --mlperf-shard I/N"
        ) from None
    except (OSError, ValueError) as exc:
        raise ShardError(f"{path}: unreadable shard manifest: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "plan" not in data:
        raise ShardError(f"{path}: not a pytest-mlperf-nv shard manifest")
    return data


def plan_lines(data: dict[str, Any]) -> list[str]:
    """What the terminal shows: the whole plan, this shard marked."""
    lines = [
        f"mlperf shard {data['shard']}/{data['of']}: {len(data['items'])} of "
        f"{sum(len(p['items']) for p in data['plan'].values())} items (selection {data['selection']})"
    ]
    for key in sorted(data["plan"], key=int):
        part = data["plan"][key]
        mark = "*" if int(key) == data["shard"] else " "
        lines.append(
            f" {mark} shard {key}: {len(part['items'])} items: {', '.join(part['groups']) or '(none)'}"
        )
    return lines


__all__ = [
    "MANIFEST",
    "ShardError",
    "group_of",
    "manifest",
    "parse_shard",
    "plan",
    "plan_lines",
    "read_manifest",
    "selection_digest",
    "write_manifest",
]
