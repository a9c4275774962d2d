"""Driving NVIDIA's MLPerf submission code (the closed/NVIDIA tree of an inference_results round)."""
