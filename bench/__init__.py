"""Benchmarks for issue 7: `python -m bench` (or `make bench`) prints one table of ratios and goals.

Absolute times drift on shared machines, so every figure that carries a goal is a ratio against a baseline
measured in the same run (pyarrow's own JSON reader and parquet writer for the target, the API's request
budget for the tap), or a property of a single run (peak memory, CPU seconds of the measured process).
"""
