"""Harnesses: how a case becomes a LoadGen run, and how its logs become a result."""
