"""Benchmarks of the Multichat server (the benchmark issue builds the harness here)."""
