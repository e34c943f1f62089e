"""Names, sequences, markers, manifests, rolling, schema changes, partitions across runs."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from target.target_runs import (
    data_files,
    read_parquet,
    record_message,
    run_target,
    schema_message,
    state_message,
)

DELIVERY = {"delivery_id": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}}
METRIC = {"event_id": {"type": "string"}, "metric": {"type": "string"}}


def two_streams(run_number: int) -> list[dict]:
    """A run of two streams, with its own STATE."""
    return [
        schema_message("deliveries", DELIVERY, key_properties=["delivery_id"]),
        schema_message("metrics", METRIC, key_properties=["event_id"]),
        record_message("deliveries", {"delivery_id": f"d{run_number}", "created_at": "2026-11-22T10:00:00Z"}),
        record_message("metrics", {"event_id": f"e{run_number}", "metric": "sent"}),
        record_message("deliveries", {"delivery_id": f"d{run_number}b", "created_at": "2026-11-23T10:00:00Z"}),
        state_message({"run": run_number}),
    ]


def config(bucket: Path, **extra: object) -> dict:
    return {"bucket_url": str(bucket), "workspace_id": "42", **extra}


def test_default_names_follow_customerio_and_sequences_increase_per_stream_across_runs(tmp_path: Path) -> None:
    for run_number in (1, 2):
        run = run_target(two_streams(run_number), config(tmp_path))
        assert run.exit_code == 0, run.stderr
        assert run.states == [{"run": run_number}]
    assert data_files(tmp_path) == [
        "deliveries_v4_42_1.parquet",
        "deliveries_v4_42_2.parquet",
        "metrics_v4_42_1.parquet",
        "metrics_v4_42_2.parquet",
    ]
    assert read_parquet(tmp_path, "deliveries_v4_42_2.parquet").column("delivery_id").to_pylist() == ["d2", "d2b"]


def test_sequence_keeps_increasing_after_a_loader_deletes_ingested_files(tmp_path: Path) -> None:
    assert run_target(two_streams(1), config(tmp_path)).exit_code == 0
    for key in data_files(tmp_path):
        (tmp_path / key).unlink()
    run = run_target(two_streams(2), config(tmp_path))
    assert run.exit_code == 0, run.stderr
    assert data_files(tmp_path) == ["deliveries_v4_42_2.parquet", "metrics_v4_42_2.parquet"]
    marker = json.loads((tmp_path / "_meta/sequences/deliveries.json").read_text())
    assert marker == {"stream": "deliveries", "last": 2}


def test_an_existing_object_is_never_overwritten_and_no_state_is_emitted(tmp_path: Path) -> None:
    assert run_target(two_streams(1), config(tmp_path)).exit_code == 0
    before = (tmp_path / "deliveries_v4_42_1.parquet").read_bytes()
    for marker in (tmp_path / "_meta/sequences").iterdir():
        marker.unlink()  # the marker is lost: sequence 1 would be reused
    run = run_target(two_streams(2), config(tmp_path))
    assert run.exit_code == 1
    assert run.states == []
    assert len(run.error_lines) == 1
    assert "already exists" in run.error_lines[0]
    assert (tmp_path / "deliveries_v4_42_1.parquet").read_bytes() == before


def test_manifest_lists_every_file_of_the_run_with_row_counts(tmp_path: Path) -> None:
    assert run_target(two_streams(1), config(tmp_path)).exit_code == 0
    (manifest_path,) = (tmp_path / "_meta/manifests").iterdir()
    manifest = json.loads(manifest_path.read_text())
    files = {(f["key"], f["stream"], f["sequence"], f["rows"]) for f in manifest["files"]}
    assert files == {("deliveries_v4_42_1.parquet", "deliveries", 1, 2), ("metrics_v4_42_1.parquet", "metrics", 1, 1)}


def test_template_tokens_render_dates_timestamps_and_folders(tmp_path: Path) -> None:
    template = "{stream}/{date}/{stream}-{sequence}-{timestamp}.{format}"
    run = run_target(two_streams(1), config(tmp_path, file_name_template=template, compression="zstd"))
    assert run.exit_code == 0, run.stderr
    today = datetime.datetime.now(tz=datetime.timezone.utc).strftime("%Y-%m-%d")
    keys = data_files(tmp_path)
    assert [k.rsplit("-", 1)[0] for k in keys] == [f"deliveries/{today}/deliveries-1", f"metrics/{today}/metrics-1"]
    assert all(k.endswith("Z.parquet") for k in keys)


def test_a_template_without_sequence_is_refused_at_start(tmp_path: Path) -> None:
    run = run_target(two_streams(1), config(tmp_path, file_name_template="{stream}.{format}"))
    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "{sequence}" in run.error_lines[0]
    assert data_files(tmp_path) == []


def test_files_roll_at_the_row_limit(tmp_path: Path) -> None:
    messages = [schema_message("events", {"n": {"type": "integer"}})]
    messages += [record_message("events", {"n": n}) for n in range(7)]
    run = run_target(messages, config(tmp_path, max_file_rows=3))
    assert run.exit_code == 0, run.stderr
    keys = data_files(tmp_path)
    assert keys == ["events_v4_42_1.parquet", "events_v4_42_2.parquet", "events_v4_42_3.parquet"]
    assert [read_parquet(tmp_path, k).column("n").to_pylist() for k in keys] == [[0, 1, 2], [3, 4, 5], [6]]


def test_rows_are_streamed_as_several_row_groups(tmp_path: Path) -> None:
    messages = [schema_message("events", {"n": {"type": "integer"}})]
    messages += [record_message("events", {"n": n}) for n in range(10)]
    run = run_target(messages, config(tmp_path, batch_size_rows=2, row_group_rows=4))
    assert run.exit_code == 0, run.stderr
    metadata = pq.ParquetFile(tmp_path / "events_v4_42_1.parquet").metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [4, 4, 2]


def test_a_schema_change_starts_a_new_file_with_the_new_schema(tmp_path: Path) -> None:
    messages = [
        schema_message("people", {"id": {"type": "integer"}}),
        record_message("people", {"id": 1}),
        schema_message("people", {"id": {"type": "integer"}, "email": {"type": "string"}}),
        record_message("people", {"id": 2, "email": "a@b.c"}),
        state_message({"people": 2}),
    ]
    run = run_target(messages, config(tmp_path))
    assert run.exit_code == 0, run.stderr
    assert run.states == [{"people": 2}]
    first = read_parquet(tmp_path, "people_v4_42_1.parquet")
    second = read_parquet(tmp_path, "people_v4_42_2.parquet")
    assert first.schema.names == ["id"] and first.to_pylist() == [{"id": 1}]
    assert second.schema.names == ["id", "email"] and second.to_pylist() == [{"id": 2, "email": "a@b.c"}]


def test_hive_partitions_by_a_date_time_field(tmp_path: Path) -> None:
    run = run_target(two_streams(1), config(tmp_path, partition_by="created_at"))
    assert run.exit_code == 0, run.stderr
    assert data_files(tmp_path) == [
        "created_at=2026-11-22/deliveries_v4_42_1.parquet",
        "created_at=2026-11-23/deliveries_v4_42_2.parquet",
        "metrics_v4_42_1.parquet",  # no created_at field: not partitioned
    ]
    table = read_parquet(tmp_path, "created_at=2026-11-23/deliveries_v4_42_2.parquet")
    assert table.column("delivery_id").to_pylist() == ["d1b"]
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")


def test_partition_values_cannot_create_or_climb_folders(tmp_path: Path) -> None:
    messages = [
        schema_message("events", {"kind": {"type": ["null", "string"]}}),
        record_message("events", {"kind": "../../etc"}),
        record_message("events", {"kind": None}),
        record_message("events", {"kind": ""}),
    ]
    run = run_target(messages, config(tmp_path, partition_by="kind"))
    assert run.exit_code == 0, run.stderr
    assert data_files(tmp_path) == [
        "kind=..%2F..%2Fetc/events_v4_42_1.parquet",
        "kind=__HIVE_DEFAULT_PARTITION__/events_v4_42_2.parquet",
    ]
    assert read_parquet(tmp_path, data_files(tmp_path)[1]).column("kind").to_pylist() == [None, ""]


def test_many_partition_values_keep_a_bounded_number_of_files_open_and_lose_no_row(tmp_path: Path) -> None:
    messages = [schema_message("events", {"user": {"type": "integer"}})]
    messages += [record_message("events", {"user": n % 40}) for n in range(80)]
    run = run_target(messages, config(tmp_path, partition_by="user", batch_size_rows=40))
    assert run.exit_code == 0, run.stderr
    keys = data_files(tmp_path)
    rows = [row["user"] for key in keys for row in read_parquet(tmp_path, key).to_pylist()]
    assert sorted(rows) == sorted(n % 40 for n in range(80))
    assert all(key.startswith(f"user={read_parquet(tmp_path, key)['user'][0]}/") for key in keys)
    assert len(keys) > 40  # the first batch's oldest partitions were closed to make room


def test_hive_partitions_by_load_date(tmp_path: Path) -> None:
    run = run_target(two_streams(1), config(tmp_path, partition_by_load_date=True))
    assert run.exit_code == 0, run.stderr
    today = datetime.datetime.now(tz=datetime.timezone.utc).strftime("%Y-%m-%d")
    assert data_files(tmp_path) == [f"dt={today}/deliveries_v4_42_1.parquet", f"dt={today}/metrics_v4_42_1.parquet"]


def test_activate_version_closes_the_files_and_records_which_files_hold_the_version(tmp_path: Path) -> None:
    messages = [
        schema_message("segments", {"id": {"type": "integer"}}),
        {"type": "ACTIVATE_VERSION", "stream": "segments", "version": 100},
        record_message("segments", {"id": 1}, version=100),
        record_message("segments", {"id": 2}, version=100),
        {"type": "ACTIVATE_VERSION", "stream": "segments", "version": 100},
        record_message("segments", {"id": 3}, version=200),
    ]
    run = run_target(messages, config(tmp_path))
    assert run.exit_code == 0, run.stderr
    marker = json.loads((tmp_path / "_meta/activate_version/segments/100.json").read_text())
    assert marker["files"] == ["segments_v4_42_1.parquet"]
    assert read_parquet(tmp_path, "segments_v4_42_1.parquet").column("id").to_pylist() == [1, 2]
    assert read_parquet(tmp_path, "segments_v4_42_2.parquet").column("id").to_pylist() == [3]


def test_stream_maps_use_the_sdk_record_path_with_the_same_output(tmp_path: Path) -> None:
    maps = {"stream_maps": {"events": {"label": "str(n * 2)", "__alias__": "events_mapped"}}}
    messages = [
        schema_message("events", {"n": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}}),
        record_message("events", {"n": 2, "at": "2026-11-22T10:00:00Z"}),
    ]
    run = run_target(messages, config(tmp_path, **maps))
    assert run.exit_code == 0, run.stderr
    (key,) = data_files(tmp_path)
    assert key == "events_mapped_v4_42_1.parquet"
    assert read_parquet(tmp_path, key).to_pylist() == [
        {"n": 2, "at": datetime.datetime(2026, 11, 22, 10, tzinfo=datetime.timezone.utc), "label": "4"}
    ]


@pytest.mark.parametrize(
    ("compression", "codec"), [("snappy", "SNAPPY"), ("zstd", "ZSTD"), ("gzip", "GZIP"), ("none", "UNCOMPRESSED")]
)
def test_the_configured_parquet_codec_is_the_one_written(tmp_path: Path, compression: str, codec: str) -> None:
    run = run_target(two_streams(1), config(tmp_path, compression=compression))
    assert run.exit_code == 0, run.stderr
    metadata = pq.ParquetFile(tmp_path / "deliveries_v4_42_1.parquet").metadata
    assert {metadata.row_group(0).column(i).compression for i in range(metadata.num_columns)} == {codec}


@pytest.mark.parametrize(
    ("file_format", "compression", "name"),
    [("csv", "gzip", "metrics_v4_42_1.csv.gz"), ("jsonl", "zstd", "metrics_v4_42_1.jsonl.zst")],
)
def test_csv_and_jsonl_are_compressed_whole_with_a_matching_extension(
    tmp_path: Path, file_format: str, compression: str, name: str
) -> None:
    run = run_target(two_streams(1), config(tmp_path, format=file_format, compression=compression))
    assert run.exit_code == 0, run.stderr
    assert name in data_files(tmp_path)
    with pa.CompressedInputStream(pa.OSFile(str(tmp_path / name)), compression) as stream:
        text = stream.read().decode()
    assert "e1" in text and "sent" in text


def test_files_roll_at_the_size_limit(tmp_path: Path) -> None:
    import hashlib

    def digest(n: int, salt: str) -> str:
        return hashlib.sha256(f"{salt}{n}".encode()).hexdigest()

    messages = [schema_message("blobs", {"n": {"type": "integer"}, "a": {"type": "string"}, "b": {"type": "string"}})]
    messages += [record_message("blobs", {"n": n, "a": digest(n, "a"), "b": digest(n, "b")}) for n in range(40_000)]
    run = run_target(messages, config(tmp_path, max_file_size_mb=1, batch_size_rows=1000, row_group_rows=1000))
    assert run.exit_code == 0, run.stderr
    keys = data_files(tmp_path)
    assert len(keys) >= 3
    sizes = [(tmp_path / key).stat().st_size for key in keys]
    assert all(size < 1.5 * 1024 * 1024 for size in sizes)
    numbers = [n for key in keys for n in read_parquet(tmp_path, key).column("n").to_pylist()]
    assert numbers == list(range(40_000))


def test_files_of_an_old_schema_get_lower_sequences_than_files_of_the_new_one(tmp_path: Path) -> None:
    messages = [
        schema_message("people", {"id": {"type": "integer"}}),
        record_message("people", {"id": 1}),
        schema_message("people", {"id": {"type": "integer"}, "email": {"type": "string"}}),
        record_message("people", {"id": 2, "email": "a@b.c"}),
        record_message("people", {"id": 3, "email": "d@e.f"}),
    ]
    # The new schema's records fill a whole file before the old schema's sink is drained.
    run = run_target(messages, config(tmp_path, batch_size_rows=2, max_file_rows=2))
    assert run.exit_code == 0, run.stderr
    assert read_parquet(tmp_path, "people_v4_42_1.parquet").column("id").to_pylist() == [1]
    assert read_parquet(tmp_path, "people_v4_42_2.parquet").column("id").to_pylist() == [2, 3]


PER_STREAM_FOLDER = "{stream}/{stream}_v{version}_{workspace_id}_{sequence}.{format}"


def test_a_per_stream_folder_template_keeps_partition_folders_inside_the_stream_folder_that_readers_read(
    tmp_path: Path,
) -> None:
    """pyarrow.dataset (as pandas and Spark do) and DuckDB pointed at a stream's folder read that stream only."""
    import duckdb
    import pyarrow.dataset as ds

    run = run_target(two_streams(1), config(tmp_path, file_name_template=PER_STREAM_FOLDER, partition_by="created_at"))
    assert run.exit_code == 0, run.stderr

    assert data_files(tmp_path) == [
        "deliveries/created_at=2026-11-22/deliveries_v4_42_1.parquet",
        "deliveries/created_at=2026-11-23/deliveries_v4_42_2.parquet",
        "metrics/metrics_v4_42_1.parquet",
    ]
    deliveries = ds.dataset(tmp_path / "deliveries", format="parquet").to_table()
    assert sorted(deliveries.column("delivery_id").to_pylist()) == ["d1", "d1b"]
    relation = duckdb.sql(
        f"select distinct created_at::date::varchar from read_parquet('{tmp_path}/deliveries/**/*.parquet', "
        "hive_partitioning = false) order by 1"
    )
    assert relation is not None, "a SELECT gives a relation"
    days = relation.fetchall()
    assert days == [("2026-11-22",), ("2026-11-23",)]


@pytest.mark.parametrize("batch_size_rows", [20_000, 4094], ids=["batch filling", "batch full at the check"])
def test_files_close_when_a_new_state_goes_out_at_the_state_interval_and_grow_while_the_state_is_unchanged(
    tmp_path: Path, batch_size_rows: int
) -> None:
    """`state_interval_seconds: 0`: every age check (each 4096 input lines) passes a new STATE on.

    The STATE arrives at line 3001: the check at line 4096 passes it on and closes the file; the check at
    line 8192 has no new STATE, so the open file keeps growing until the end of input. With batches of
    4094 records, the batch is full at line 4096 and still decoding when the check passes the STATE on.
    """
    messages = [schema_message("events", {"n": {"type": "integer"}})]
    messages += [record_message("events", {"n": n}) for n in range(2, 3001)]
    messages.append(state_message({"bookmarks": {"events": 3000}}))
    messages += [record_message("events", {"n": n}) for n in range(3002, 9001)]

    run = run_target(messages, config(tmp_path, state_interval_seconds=0, batch_size_rows=batch_size_rows))

    assert run.exit_code == 0, run.stderr
    assert run.states == [{"bookmarks": {"events": 3000}}]
    assert data_files(tmp_path) == ["events_v4_42_1.parquet", "events_v4_42_2.parquet"]
    first, second = (read_parquet(tmp_path, key).column("n").to_pylist() for key in data_files(tmp_path))
    assert first == [*range(2, 3001), *range(3002, 4097)]
    assert second == list(range(4097, 9001))
