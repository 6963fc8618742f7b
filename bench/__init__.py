"""Benchmarks and data generators at province scale (see bench/README.md)."""
