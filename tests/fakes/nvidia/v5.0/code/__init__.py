"""Emulated closed/NVIDIA/code package (v5.0). Runs only as `python3 -m code.main` with cwd = v5.0/."""
