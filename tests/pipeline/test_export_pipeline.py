"""Customer.io's warehouse export, end to end: simulator → tap-customerio → target-parquet-bucket via Meltano.

Two `meltano run`s with a mutation of the simulated workspace between them must leave exactly the files a
loader of Customer.io's own export expects: `<name>_v4_<workspace_id>_<sequence>.parquet` (the initial
metrics history split as `metrics_v4_<workspace_id>_<sequence1>_<sequence2>.parquet`), deliveries typed
as the export's schema, the first run holding all history and the second only the changes.
"""

from __future__ import annotations

import re
import typing as t
from collections import defaultdict
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from export.expectations import EXPORT_STREAMS, SEED, expected_changes, history_start, initial_export, row_keys
from fixtures.meltano import simulator_env

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from cio_simulator import Simulator
    from fixtures.meltano import MeltanoProject

WORKSPACE_ID = 123456
FILE_NAME = re.compile(rf"^(?P<stream>[a-z_]+)_v4_{WORKSPACE_ID}_(?P<sequence>\d+)(?:_(?P<part>\d+))?\.parquet$")

#: The deliveries schema of Customer.io's export (seed 000/001): INTEGER → int64, STRING → string,
#: TIMESTAMP → timestamp; "Required" columns are not nullable.
DELIVERIES_SCHEMA = pa.schema(
    [
        pa.field("workspace_id", pa.int64(), nullable=False),
        pa.field("delivery_id", pa.string(), nullable=False),
        pa.field("internal_customer_id", pa.string()),
        pa.field("subject_id", pa.string()),
        pa.field("event_id", pa.string()),
        pa.field("delivery_type", pa.string(), nullable=False),
        pa.field("campaign_id", pa.int64()),
        pa.field("action_id", pa.int64()),
        pa.field("newsletter_id", pa.int64()),
        pa.field("content_id", pa.int64()),
        pa.field("trigger_id", pa.int64()),
        pa.field("created_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("transactional_message_id", pa.int64()),
        pa.field("seq_num", pa.int64(), nullable=False),
    ]
)


def pipeline_env(sim: Simulator, **target_settings: str) -> dict[str, str]:
    """Configuration of both plugins for the simulator, with only the export streams selected."""
    return {
        **simulator_env(
            sim, EXPORT_STREAMS, WORKSPACE_ID, start_date=history_start(sim), max_requests_per_second="1000"
        ),
        **{f"TARGET_PARQUET_BUCKET_{name.upper()}": value for name, value in target_settings.items()},
    }


def data_files(bucket: Path) -> set[Path]:
    """Every file the target wrote except its own bookkeeping under `_meta/`."""
    return {path for path in bucket.rglob("*") if path.is_file() and "_meta" not in path.parts}


def rows_by_stream(files: t.Iterable[Path]) -> dict[str, list[dict]]:
    """The rows of export files, per stream named in the file name."""
    rows: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(files):
        name = FILE_NAME.match(path.name)
        assert name is not None, f"{path.name} is named like an export file"
        rows[name["stream"]].extend(pq.read_table(path).to_pylist())
    return rows


def test_two_pipeline_runs_write_the_initial_export_then_only_the_changes(
    meltano_project: MeltanoProject, make_cio_sim: Callable[..., Simulator]
) -> None:
    sim = make_cio_sim(seed=SEED, scale=0.2, workspace_id=WORKSPACE_ID)
    bucket = Path(meltano_project.env["TARGET_PARQUET_BUCKET_BUCKET_URL"])
    initial = initial_export(sim)
    # Files roll at a bit over half the initial metrics history, so it takes two files.
    env = pipeline_env(sim, max_file_rows=str(len(initial["metrics"]) // 2 + 1))

    meltano_project.run("run", "tap-customerio", "target-parquet-bucket", env=env)
    first_files = data_files(bucket)
    changes = expected_changes(sim, sim.mutate())
    meltano_project.run("run", "tap-customerio", "target-parquet-bucket", env=env)
    second_files = data_files(bucket) - first_files

    assert sorted(path.name for path in first_files | second_files if not FILE_NAME.match(path.name)) == []
    first, second = rows_by_stream(first_files), rows_by_stream(second_files)
    assert set(first) == set(second) == set(EXPORT_STREAMS)
    for stream in EXPORT_STREAMS:
        assert row_keys(stream, first[stream]) == initial[stream], stream
        assert row_keys(stream, second[stream]) == changes[stream], stream
        assert max(r["seq_num"] for r in first[stream]) < min(r["seq_num"] for r in second[stream]), stream
    for path in first_files | second_files:
        if path.name.startswith("deliveries_"):
            assert pq.read_schema(path).remove_metadata() == DELIVERIES_SCHEMA, path.name
    assert latest_deliveries_as_documented(bucket) == len(sim.data.messages)
    assert sorted(path.name for path in first_files if path.name.startswith("metrics_")) == [
        f"metrics_v4_{WORKSPACE_ID}_1_1.parquet",
        f"metrics_v4_{WORKSPACE_ID}_1_2.parquet",
    ]
    assert sorted(path.name for path in second_files if path.name.startswith("metrics_")) == [
        f"metrics_v4_{WORKSPACE_ID}_2.parquet"
    ]
    assert metrics_rows_per_file(bucket) == {
        f"metrics_v4_{WORKSPACE_ID}_1_1.parquet": len(initial["metrics"]) // 2 + 1,
        f"metrics_v4_{WORKSPACE_ID}_1_2.parquet": len(initial["metrics"]) - len(initial["metrics"]) // 2 - 1,
        f"metrics_v4_{WORKSPACE_ID}_2.parquet": len(changes["metrics"]),
    }


def metrics_rows_per_file(bucket: Path) -> dict[str, int]:
    """Rows of each metrics file, counted by DuckDB over the `metrics_v4_*` pattern docs/export.md gives."""
    relation = duckdb.sql(f"""
        SELECT parse_filename(filename), count(*)
        FROM read_parquet('{bucket}/metrics_v4_*.parquet', filename = true) GROUP BY ALL
    """)
    assert relation is not None, "a SELECT gives a relation"
    rows = relation.fetchall()
    return dict(rows)


def latest_deliveries_as_documented(bucket: Path) -> int:
    """The DuckDB query of docs/export.md over every deliveries file: the latest row per delivery."""
    relation = duckdb.sql(f"""
        SELECT delivery_id, delivery_type, created_at
        FROM read_parquet('{bucket}/deliveries_v4_*.parquet')
        QUALIFY row_number() OVER (PARTITION BY delivery_id ORDER BY seq_num DESC) = 1
    """)
    assert relation is not None, "a SELECT gives a relation"
    return len(relation.fetchall())
