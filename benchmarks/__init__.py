"""Benchmarks: scripts that measure and print figures, side by side in one run."""
