"""The target's yardstick: pyarrow alone turning the same records into one parquet file.

This is the practical limit for Python: multithreaded C++ JSON parsing with an explicit schema (no type
inference) and one `write_table` call. It holds the whole table in memory, which the target must not do,
so only its time is compared, never its memory.
"""

from __future__ import annotations

import dataclasses
import os
import time
import typing as t

import pyarrow.json as pa_json
import pyarrow.parquet as pq

from bench.schemas import arrow_schema

if t.TYPE_CHECKING:
    from pathlib import Path

    from bench.datagen import Dataset


@dataclasses.dataclass(frozen=True)
class BaselineRun:
    """Time and output of one baseline conversion."""

    wall_s: float
    cpu_s: float
    rows: int
    #: 1-minute load average just before the run: a busy machine shows in the figures.
    load_before: float

    @property
    def cores(self) -> float:
        """Cores used on average (CPU seconds per wall second)."""
        return self.cpu_s / self.wall_s


def run_baseline(dataset: Dataset, out_dir: Path, compression: str) -> BaselineRun:
    """Read `dataset.records_path` with an explicit schema and write it with `compression`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{dataset.stream}.parquet"
    options = pa_json.ParseOptions(explicit_schema=arrow_schema(dataset.schema), unexpected_field_behavior="infer")
    load = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    table = pa_json.read_json(dataset.records_path, parse_options=options)
    pq.write_table(table, output, compression=compression)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    output.unlink()
    return BaselineRun(wall_s=wall, cpu_s=cpu, rows=table.num_rows, load_before=load)
