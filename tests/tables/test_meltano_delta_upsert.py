"""`meltano run tap-customerio target-parquet-bucket` with `table_format: delta` and
`load_method: upsert`, twice, the workspace changing in between: each table then holds exactly
the workspace's current records (read back with Polars through delta-rs)."""

from __future__ import annotations

import typing as t
from pathlib import Path

import polars as pl
from fixtures.meltano import simulator_env

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from cio_simulator import Simulator
    from fixtures.meltano import MeltanoProject

WORKSPACE_ID = 123456
STREAMS = ("segments", "broadcasts", "campaigns")


def table(bucket: Path, stream: str) -> dict[int, str]:
    """id -> name of the stream's Delta table; one row per id is required."""
    frame = pl.read_delta(str(bucket / stream))
    assert frame["id"].n_unique() == frame.height, f"{stream}: duplicate ids"
    return dict(zip(frame["id"].to_list(), frame["name"].to_list(), strict=True))


def current(records: list[dict]) -> dict[int, str]:
    return {r["id"]: r["name"] for r in records}


def test_two_upsert_runs_leave_each_table_holding_the_current_records(
    meltano_project: MeltanoProject, make_cio_sim: Callable[..., Simulator]
) -> None:
    sim = make_cio_sim(seed=12, workspace_id=WORKSPACE_ID)
    bucket = Path(meltano_project.env["TARGET_PARQUET_BUCKET_BUCKET_URL"])
    env = {
        **simulator_env(sim, STREAMS, WORKSPACE_ID),
        "TARGET_PARQUET_BUCKET_TABLE_FORMAT": "delta",
        "TARGET_PARQUET_BUCKET_LOAD_METHOD": "upsert",
    }

    meltano_project.run("run", "tap-customerio", "target-parquet-bucket", env=env)
    changes = sim.mutate()
    meltano_project.run("run", "tap-customerio", "target-parquet-bucket", env=env)

    assert changes["segments"]["updated"] and changes["campaigns"]["updated"]
    assert table(bucket, "segments") == current(sim.data.segments)
    assert table(bucket, "broadcasts") == current(sim.data.broadcasts)
    # An incremental stream never hears of deletions: the deleted campaign keeps its last row
    # (full-table streams with ACTIVATE_VERSION, or load_method overwrite, drop such rows).
    deleted = {cid: name for cid, name in table(bucket, "campaigns").items() if cid in changes["campaigns"]["deleted"]}
    assert table(bucket, "campaigns") == {**current(sim.data.campaigns), **deleted}
    assert len(deleted) == len(changes["campaigns"]["deleted"])
