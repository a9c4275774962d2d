"""NVIDIA's published MLPerf results per accelerator (package data, each row with its source).

>>> figure = published_figure("resnet50", "Offline", "NVIDIA H200")
>>> f"{59000 / figure.per_gpu:.0%} of NVIDIA's published {figure.accelerator} figure"
"62% of NVIDIA's published H200-SXM-141GB figure"
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "published.yaml"


@dataclass(frozen=True)
class PublishedFigure:
    round: str
    accelerator: str
    system: str
    gpus: int
    benchmark: str
    scenario: str
    per_gpu: float
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "accelerator": self.accelerator,
            "system": self.system,
            "gpus": self.gpus,
            "benchmark": self.benchmark,
            "scenario": self.scenario,
            "per_gpu": self.per_gpu,
            "source": self.source,
        }

    def describe(self, fraction: float) -> str:
        """``62 % of NVIDIA's published H200-SXM-141GB figure (v5.0, H200-SXM-141GBx8_TRT ÷ 8)``."""
        how = self.system if self.gpus == 1 else f"{self.system} ÷ {self.gpus}"
        return (
            f"{100 * fraction:.0f} % of NVIDIA's published {self.accelerator} figure "
            f"({self.per_gpu:,.6g} per GPU; {self.round}, {how})"
        )


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, tuple[str, ...]], tuple[PublishedFigure, ...]]:
    import yaml

    data = yaml.safe_load(DATA.read_text())
    accelerators = {name: tuple(spec.get("nvml_names") or ()) for name, spec in data["accelerators"].items()}
    rows = tuple(
        PublishedFigure(
            str(r["round"]),
            r["accelerator"],
            r["system"],
            int(r["gpus"]),
            r["benchmark"],
            r["scenario"],
            float(r["per_gpu"]),
            r["source"],
        )
        for r in data["results"]
    )
    return accelerators, rows


def accelerator_of(gpu_name: str | None) -> str | None:
    """The accelerator name the published table uses for an NVML GPU name, or None."""
    if not gpu_name:
        return None
    accelerators, _ = _load()
    for name, nvml_names in accelerators.items():
        if gpu_name.strip() in nvml_names:
            return name
    return None


def _round_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.lstrip("v").split(".") if p.isdigit())


def published_figure(benchmark: str, scenario: str, gpu_name: str | None) -> PublishedFigure | None:
    """The newest published per-GPU figure of NVIDIA for this benchmark, scenario and GPU, or None."""
    accelerator = accelerator_of(gpu_name)
    if accelerator is None:
        return None
    _, rows = _load()
    found = [
        r
        for r in rows
        if r.accelerator == accelerator and r.benchmark == benchmark and r.scenario == scenario
    ]
    return max(found, key=lambda r: _round_key(r.round)) if found else None


def all_figures() -> tuple[PublishedFigure, ...]:
    return _load()[1]


__all__ = ["PublishedFigure", "accelerator_of", "all_figures", "published_figure"]
