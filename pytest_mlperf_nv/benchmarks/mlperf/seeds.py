"""LoadGen RNG seeds per MLPerf round, and which LoadGen wheels carry them.

The checker compares ``effective_{qsl,sample_index,schedule}_rng_seed`` of every performance log with
``MODEL_CONFIG[round]["seeds"]``; LoadGen reads the seeds only from the ``mlperf.conf`` compiled into
the wheel, so the installed wheel decides the round a run can be submitted to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SEED_KEYS = ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed")


@dataclass(frozen=True)
class Seeds:
    qsl: int
    sample_index: int
    schedule: int

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.qsl, self.sample_index, self.schedule)


# mlcommons/inference: tools/submission/submission_checker/constants.py MODEL_CONFIG[<round>]["seeds"];
# v6.1 from mlcommons/inference: loadgen/mlperf.conf at b0662794 (measured in the 6.0.17 wheel).
SEEDS: dict[str, Seeds] = {
    "v4.1": Seeds(3066443479025735752, 10688027786191513374, 14962580496156340209),  # constants.py v4.1
    "v5.0": Seeds(6023615788873153749, 15036839855038426416, 9933818062894767841),  # constants.py v5.0
    "v5.1": Seeds(1780908523862526354, 14771362308971278857, 18209322760996052031),  # constants.py v5.1
    "v6.0": Seeds(2465351861681999779, 14276810075590677512, 3936089224930324775),  # constants.py v6.0
    "v6.1": Seeds(2085463073848966840, 2747215439041700203, 16159082839903944936),  # mlperf.conf b0662794
}

# Released mlcommons-loadgen versions (inclusive ranges) whose embedded mlperf.conf carries each round's
# seeds. Source: mlcommons/inference: loadgen/mlperf.conf history (v5.0 seeds in 4fc54b5f -> 5.0.9,
# v5.1 in 0910c6e3 -> 5.0.22, v6.0 in f131a0d2 -> 6.0.5, v6.1 in b0662794 -> 6.0.16); PyPI release list;
# measured: 6.0.15 logs the v6.0 seeds, 6.0.17 the v6.1 seeds.
WHEELS: dict[str, tuple[tuple[str, str], ...]] = {
    "v4.1": (("4.1.7", "5.0.7"),),
    "v5.0": (("5.0.9", "5.0.21"),),
    "v5.1": (("5.0.22", "5.1.2"), ("6.0.3", "6.0.4")),
    "v6.0": (("6.0.5", "6.0.15"),),
    "v6.1": (("6.0.16", "6.0.17"),),
}


def _version(text: str) -> tuple[int, ...]:
    head = text.strip().split()[0] if text.strip() else ""  # "6.0.17 @ d6147c7eb7" -> "6.0.17"
    try:
        return tuple(int(part) for part in head.split("."))
    except ValueError:
        raise ValueError(f"not a LoadGen version: {text!r}") from None


def round_of_seeds(qsl: int, sample_index: int, schedule: int) -> str | None:
    """The round whose three seeds are exactly these, else None."""
    wanted = (int(qsl), int(sample_index), int(schedule))
    for round_, seeds in SEEDS.items():
        if seeds.as_tuple() == wanted:
            return round_
    return None


def round_of_detail(detail: Mapping[str, Any]) -> str | None:
    """The round of a parsed detail log (first value per key): reads ``effective_*_rng_seed``."""
    try:
        values = [detail[f"effective_{key}"] for key in SEED_KEYS]
        return round_of_seeds(*(int(v) for v in values))
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def round_of_loadgen_version(version: str) -> str | None:
    """The round whose seeds a released LoadGen version carries (``"6.0.17 @ d6147c7eb7"`` works)."""
    v = _version(version)
    for round_, ranges in WHEELS.items():
        if any(_version(low) <= v <= _version(high) for low, high in ranges):
            return round_
    return None


def wheel_for_round(round_: str) -> str:
    """The newest known mlcommons-loadgen release carrying ``round_``'s seeds."""
    try:
        ranges = WHEELS[round_]
    except KeyError:
        raise KeyError(f"no LoadGen wheel known for round {round_!r}; known: {sorted(WHEELS)}") from None
    return max((high for _, high in ranges), key=_version)


def install_hint(round_: str) -> str:
    """E.g. ``"install mlcommons-loadgen==6.0.15 for v6.0 seeds"``."""
    return f"install mlcommons-loadgen=={wheel_for_round(round_)} for {round_} seeds"


def seed_mismatch_message(detail: Mapping[str, Any], expected_round: str) -> str | None:
    """None when the log carries ``expected_round``'s seeds, else a message saying what to install."""
    found = round_of_detail(detail)
    if found == expected_round:
        return None
    loadgen = detail.get("loadgen_version", "unknown LoadGen")
    have = f"{found} seeds" if found else "seeds of no known round"
    needs = f"the {expected_round} checker needs other seeds"
    return f"LoadGen {loadgen} logged {have}, {needs}: {install_hint(expected_round)}"
