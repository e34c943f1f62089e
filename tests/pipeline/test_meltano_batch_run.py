"""`meltano run tap-customerio target-parquet-bucket` with the tap's `batch_config` on (the `batch`
capability in the repo's `meltano.yml`): the tap hands its records over as BATCH files, and the bucket
must hold the same rows as a run of the same workspace with RECORD messages.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pyarrow.parquet as pq
from fixtures.meltano import simulator_env

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from cio_simulator import Simulator
    from fixtures.meltano import MeltanoProject

WORKSPACE_ID = 123456
STREAMS = ("campaigns", "segments", "newsletters")


def stream_rows(bucket: Path, stream: str) -> list[dict]:
    """Every row of a stream's files, read with pyarrow, in a stable order."""
    files = sorted(bucket.glob(f"{stream}_v4_{WORKSPACE_ID}_*.parquet"))
    assert files, f"no files for {stream} in {bucket}"
    rows = [row for path in files for row in pq.read_table(path).to_pylist()]
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))


def test_a_batch_mode_run_lands_the_same_rows_as_a_record_run(
    meltano_project: MeltanoProject, make_cio_sim: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_cio_sim(seed=5, workspace_id=WORKSPACE_ID)
    records_bucket = Path(meltano_project.env["TARGET_PARQUET_BUCKET_BUCKET_URL"])
    batch_bucket, batch_files = tmp_path / "batch-bucket", tmp_path / "batch-files"
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": batch_files.as_uri(), "prefix": "cio-"},
    }

    meltano_project.run("run", "tap-customerio", "target-parquet-bucket", env=simulator_env(sim, STREAMS, WORKSPACE_ID))
    meltano_project.run(
        "run",
        "tap-customerio",
        "target-parquet-bucket",
        env={
            **simulator_env(sim, STREAMS, WORKSPACE_ID, batch_config=json.dumps(batch_config)),
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'batch-state.db'}",
            "TARGET_PARQUET_BUCKET_BUCKET_URL": str(batch_bucket),
        },
    )

    assert len(list(batch_files.iterdir())) >= len(STREAMS)  # the tap did hand its records over as files
    for stream in STREAMS:
        assert stream_rows(batch_bucket, stream) == stream_rows(records_bucket, stream), stream
    assert len(stream_rows(batch_bucket, "campaigns")) == len(sim.data.campaigns)
