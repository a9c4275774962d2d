"""Helpers shared by the project's tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CPU_SUITE = REPO / "suites" / "cpu.yaml"


def write_suite(root: Path, text: str, name: str = "cpu.yaml") -> Path:
    path = root / "suites" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def digits_suite(scenarios: str, *, extra: str = "", modes: str = "[performance]",
                 backend: str = "onnxruntime") -> str:
    """A one-benchmark suite with the given (indented) scenarios block."""
    return (f"mlperf_suite: 1\nbackend: {backend}\nprofile: quick\nmodes: {modes}\n{extra}"
            f"benchmarks:\n  digits:\n    gpu_batch_size: 32\n    scenarios:\n{scenarios}")
