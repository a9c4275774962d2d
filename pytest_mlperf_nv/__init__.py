"""pytest-mlperf-nv: MLPerf Inference benchmarks as pytest tests.

PYTEST_DONT_REWRITE: the plugin reports failures itself and uses no bare asserts for them.
"""

__version__ = "0.1.0"
