"""The target's yardstick: pyarrow alone turning the same records into one parquet file.

This is the practical limit for Python: multithreaded C++ JSON parsing with an explicit schema (no type
inference) and one `write_table` call. It holds the whole table in memory, which the target must not do,
so only its time is compared, never its memory.

Like the target, it is measured as a whole process (`python -m bench.baseline …`: interpreter start-up and
pyarrow's imports included), since that is what a user of either waits for; the program itself imports
nothing but pyarrow.
"""

from __future__ import annotations

import dataclasses
import sys
import typing as t
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

if t.TYPE_CHECKING:
    from bench.datagen import Dataset

#: The repository's root, put on the measured process's path so that `-m bench.baseline` resolves.
_ROOT = Path(__file__).resolve().parent.parent


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
    """Convert `dataset.records_path` in a measured process of its own, with `compression`."""
    # Imported here, in the bench's process only: the measured program (this module as __main__) loads pyarrow alone.
    from bench.process import plugin_env, run_measured
    from bench.schemas import arrow_schema

    out_dir.mkdir(parents=True, exist_ok=True)
    schema_path = out_dir / f"{dataset.stream}.arrow-schema"
    schema_path.write_bytes(arrow_schema(dataset.schema).serialize().to_pybytes())
    output = out_dir / f"{dataset.stream}.parquet"
    paths = [str(dataset.records_path), str(schema_path), str(output)]
    argv = [sys.executable, "-m", "bench.baseline", *paths, compression]
    env = {**plugin_env(), "PYTHONPATH": str(_ROOT)}
    process = run_measured(argv, stdin_path=None, log_dir=out_dir, name="baseline", env=env)
    rows = int(process.stdout_path.read_text())
    output.unlink()
    return BaselineRun(wall_s=process.wall_s, cpu_s=process.cpu_s, rows=rows, load_before=process.load_before)


def convert(records: str, schema_path: str, output: str, compression: str) -> int:
    """Read the records with the explicit schema, write them with `compression`; the number of rows."""
    schema = pa.ipc.read_schema(pa.py_buffer(Path(schema_path).read_bytes()))
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    table = pa_json.read_json(records, parse_options=options)
    pq.write_table(table, output, compression=compression)
    return table.num_rows


if __name__ == "__main__":
    _, *arguments = sys.argv
    sys.stdout.write(f"{convert(*arguments)}\n")
