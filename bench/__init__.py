"""Benchmarks: `make bench` runs bench/run.py, which runs each script here."""
