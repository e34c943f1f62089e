"""Resilience tests: crashes, faults, bad input and secrets, run against the real plugins as processes."""
