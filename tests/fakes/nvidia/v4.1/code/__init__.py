"""Emulated closed/NVIDIA/code package (v4.1). Runs only as `python3 -m code.main` with cwd = v4.1/."""
