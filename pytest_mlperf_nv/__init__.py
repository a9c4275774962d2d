"""pytest-mlperf-nv: MLPerf Inference benchmarks as pytest tests."""

__version__ = "0.1.0"
