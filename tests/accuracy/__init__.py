"""Tests of pytest_mlperf_nv.accuracy (golden cases from the official MLCommons scripts)."""
