"""Benchmark definitions (the registry's built-in entries)."""
