"""Benchmarks (`make bench` = `python -m bench`): figures, never pass/fail tests."""
