"""Benchmarks of pyha agents against the reference agents (see bench.py)."""
