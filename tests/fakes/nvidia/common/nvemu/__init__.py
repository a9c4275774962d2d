"""Emulator of NVIDIA's MLPerf Inference closed-division code (closed/NVIDIA), for tests only."""
