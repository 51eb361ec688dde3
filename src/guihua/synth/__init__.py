"""Synthetic cities for demos, tests and benchmarks."""
