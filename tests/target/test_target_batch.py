"""BATCH messages (singer-sdk's batch extension): the rows of every manifest file reach the bucket with
their values, through the same checks as RECORD lines, before the STATE that follows them.

Batch files are written by singer-sdk's own batchers where they can be (jsonl+gzip, parquet), the way a
tap in batch mode writes them; rows are read back with pyarrow and DuckDB.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import typing as t
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from singer_sdk.contrib.batch_encoder_jsonl import JSONLinesBatcher
from singer_sdk.contrib.batch_encoder_parquet import ParquetBatcher
from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig, SDKBatchMessage, StorageTarget
from target.target_runs import data_files, record_message, run_target, schema_message, state_message

if t.TYPE_CHECKING:
    from fixtures.storage_services import S3Service

STREAM = "people"
PROPERTIES = {
    "id": {"type": "integer"},
    "email": {"type": ["string", "null"]},
    "score": {"type": ["number", "null"]},
    "active": {"type": ["boolean", "null"]},
    "created_at": {"type": ["string", "null"], "format": "date-time"},
    "attributes": {"type": ["object", "null"]},
}
SCHEMA = schema_message(STREAM, PROPERTIES, key_properties=["id"])
STATE = state_message({"bookmarks": {STREAM: {"replication_key_value": "2026-01-01T00:00:00+00:00"}}})


def people(first: int, count: int) -> list[dict]:
    return [
        {
            "id": i,
            "email": f"p{i}@example.com" if i % 3 else None,
            "score": i / 4,
            "active": bool(i % 2),
            "created_at": f"2026-01-{1 + i % 28:02d}T10:{i % 60:02d}:00+00:00",
            "attributes": {"plan": f"p{i % 4}", "seats": i},
        }
        for i in range(first, first + count)
    ]


def expected_rows(records: list[dict]) -> list[dict]:
    """What the bucket must hold: typed timestamps, objects as compact JSON text (as for RECORD lines)."""
    return [
        {
            **r,
            "created_at": dt.datetime.fromisoformat(r["created_at"]),
            "attributes": json.dumps(r["attributes"], separators=(",", ":")),
        }
        for r in records
    ]


def sdk_batch(root: str, records: list[dict], file_format: str, compression: str, *, batch_size: int = 1000) -> dict:
    """A BATCH message whose files singer-sdk's own batcher wrote under `root` (one file per `batch_size`)."""
    config = BatchConfig(
        encoding=BaseBatchFileEncoding(file_format, compression),
        storage=StorageTarget(root=root),
        batch_size=batch_size,
    )
    batcher = {"jsonl": JSONLinesBatcher, "parquet": ParquetBatcher}[file_format]("tap-test", STREAM, config)
    manifest = [url for urls in batcher.get_batches(iter(records)) for url in urls]
    return SDKBatchMessage(stream=STREAM, encoding=config.encoding, manifest=manifest).to_dict()


def batch_message(file_format: str, manifest: list[str], *, compression: str = "none", **extra: t.Any) -> dict:
    """A BATCH message of the stream for the files at the `manifest` URLs."""
    encoding = {"format": file_format, "compression": compression}
    return {"type": "BATCH", "stream": STREAM, "encoding": encoding, "manifest": manifest, **extra}


def jsonl_batch(path: Path, lines: list[bytes], *, compression: str = "none", **extra: t.Any) -> dict:
    """A BATCH message with one hand-written jsonl file (for plain files and malformed content)."""
    data = b"".join(line + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if compression == "gzip" else data)
    return batch_message("jsonl", [path.as_uri()], compression=compression, **extra)


def bucket_rows(bucket: Path) -> list[dict]:
    """Every row of every data file (pyarrow), in sequence order."""
    rows: list[dict] = []
    for key in data_files(bucket):
        rows.extend(pq.read_table(bucket / key, partitioning=None).to_pylist())
    return rows


def duckdb_rows(bucket: Path) -> list[tuple]:
    """The same rows read by DuckDB, ordered by id."""
    relation = duckdb.sql(
        "SELECT id, email, score, active, created_at, attributes "
        f"FROM read_parquet('{bucket}/{STREAM}_*.parquet') ORDER BY id"
    )
    assert relation is not None, "a SELECT gives a relation"
    return relation.fetchall()


def assert_bucket_holds(bucket: Path, records: list[dict]) -> None:
    expected = expected_rows(records)
    assert bucket_rows(bucket) == expected
    assert [tuple(r.values()) for r in expected] == [
        (i, e, s, a, c.astimezone(dt.timezone.utc), j) for i, e, s, a, c, j in duckdb_rows(bucket)
    ]


@pytest.mark.parametrize(
    ("file_format", "compression"),
    # jsonl/none: singer-sdk 0.54 gzips jsonl batch files whatever the message says; read from their bytes.
    [("jsonl", "gzip"), ("jsonl", "none"), ("parquet", "none"), ("parquet", "gzip")],
)
def test_rows_of_sdk_written_batch_files_land_with_their_values_before_the_state(
    tmp_path: Path, file_format: str, compression: str
) -> None:
    records = people(1, 50)
    batch = sdk_batch((tmp_path / "batches").as_uri(), records, file_format, compression)

    run = run_target([SCHEMA, batch, STATE], {"bucket_url": str(tmp_path / "bucket")})

    assert run.exit_code == 0, run.stderr
    assert run.states == [STATE["value"]]
    assert data_files(tmp_path / "bucket") == [f"{STREAM}_v4_0_1.parquet"]
    assert_bucket_holds(tmp_path / "bucket", records)


def test_rows_of_an_uncompressed_jsonl_batch_file_land_with_their_values(tmp_path: Path) -> None:
    records = people(1, 20)
    batch = jsonl_batch(tmp_path / "plain.jsonl", [json.dumps(r).encode() for r in records])

    run = run_target([SCHEMA, batch, STATE], {"bucket_url": str(tmp_path / "bucket")})

    assert run.exit_code == 0, run.stderr
    assert run.states == [STATE["value"]]
    assert_bucket_holds(tmp_path / "bucket", records)


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_every_file_of_a_manifest_lands_in_order_between_records(tmp_path: Path, file_format: str) -> None:
    before, batched, after = people(1, 3), people(4, 25), people(29, 2)
    batch = sdk_batch((tmp_path / "batches").as_uri(), batched, file_format, "gzip", batch_size=10)
    assert len(batch["manifest"]) == 3

    run = run_target(
        [
            SCHEMA,
            *(record_message(STREAM, r) for r in before),
            batch,
            *(record_message(STREAM, r) for r in after),
            STATE,
        ],
        {"bucket_url": str(tmp_path / "bucket")},
    )

    assert run.exit_code == 0, run.stderr
    assert bucket_rows(tmp_path / "bucket") == expected_rows(before + batched + after)


def test_an_s3_manifest_is_read_from_the_bucket(tmp_path: Path, s3_service: S3Service) -> None:
    source = s3_service.create_bucket()
    records = people(1, 30)
    s3_env = {
        "AWS_ACCESS_KEY_ID": s3_service.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3_service.secret_access_key,
        "AWS_ENDPOINT_URL_S3": s3_service.endpoint_url,
        "AWS_DEFAULT_REGION": s3_service.region,
    }
    client = s3_service.client()
    for number, chunk in enumerate((records[:12], records[12:]), start=1):
        client.put_object(
            Bucket=source,
            Key=f"batches/people-{number}.jsonl.gz",
            Body=gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in chunk)),
        )
    batch = batch_message(
        "jsonl",
        [f"s3://{source}/batches/people-1.jsonl.gz", f"s3://{source}/batches/people-2.jsonl.gz"],
        compression="gzip",
    )

    run = run_target([SCHEMA, batch, STATE], {"bucket_url": str(tmp_path / "bucket")}, env={**os.environ, **s3_env})

    assert run.exit_code == 0, run.stderr
    assert run.states == [STATE["value"]]
    assert_bucket_holds(tmp_path / "bucket", records)


def test_activate_version_after_a_batch_lists_the_files_holding_its_rows(tmp_path: Path) -> None:
    batch = jsonl_batch(tmp_path / "v.jsonl", [json.dumps(r).encode() for r in people(1, 5)], version=1700000000)

    run = run_target(
        [SCHEMA, batch, {"type": "ACTIVATE_VERSION", "stream": STREAM, "version": 1700000000}, STATE],
        {"bucket_url": str(tmp_path / "bucket")},
    )

    assert run.exit_code == 0, run.stderr
    marker = json.loads((tmp_path / "bucket" / "_meta" / "activate_version" / STREAM / "1700000000.json").read_text())
    assert marker["files"] == [f"{STREAM}_v4_0_1.parquet"]


def test_a_jsonl_row_violating_the_schema_fails_like_its_record_naming_stream_line_file_and_row(tmp_path: Path) -> None:
    bad = {"id": "three", "email": "x@example.com"}
    lines = [json.dumps(r).encode() for r in people(1, 4)]
    lines[2] = json.dumps(bad).encode()
    batch = jsonl_batch(tmp_path / "bad.jsonl.gz", lines, compression="gzip")
    as_record = run_target([SCHEMA, record_message(STREAM, bad)], {"bucket_url": str(tmp_path / "records")})
    record_error = as_record.error_lines[0].split(f"stream '{STREAM}', input line 2: ")[1]

    run = run_target(
        [SCHEMA, record_message(STREAM, people(0, 1)[0]), batch, STATE], {"bucket_url": str(tmp_path / "bucket")}
    )

    assert run.exit_code == 1
    assert run.states == []
    assert run.error_lines == [
        f"target-parquet-bucket: error: BatchFileError: stream '{STREAM}', input line 3 (BATCH), "
        f"file {(tmp_path / 'bad.jsonl.gz').as_uri()}, row 3: {record_error}"
    ]
    assert "record.id" in record_error
    assert data_files(tmp_path / "bucket") == []


@pytest.mark.parametrize(
    ("column", "values", "error"),
    [
        ("id", pa.array([1, 2, 3], pa.float64()), "row 1: column 'id': expected integer, got double"),
        ("active", pa.array(["true", None, "yes"]), "row 1: column 'active': expected boolean, got string"),
        ("score", pa.array([1.0, float("nan"), 3.0]), "row 2: column 'score': NaN or Infinity is not a JSON number"),
        (
            "created_at",
            pa.array(["2026-01-01T00:00:00Z", "yesterday", None]),
            "row 2: column 'created_at': 'yesterday' is not an ISO-8601 date-time",
        ),
    ],
)
def test_a_parquet_column_violating_the_schema_fails_naming_stream_line_file_and_row(
    tmp_path: Path, column: str, values: pa.Array, error: str
) -> None:
    table = pa.table({"id": pa.array([1, 2, 3]), "email": pa.array(["a", "b", "c"])})
    table = table.drop_columns([column]) if column in table.column_names else table
    path = tmp_path / "bad.parquet"
    pq.write_table(table.append_column(column, values), path)
    batch = batch_message("parquet", [path.as_uri()])

    run = run_target([SCHEMA, batch, STATE], {"bucket_url": str(tmp_path / "bucket")})

    assert run.exit_code == 1
    assert run.states == []
    assert run.error_lines == [
        "target-parquet-bucket: error: BatchFileError: "
        f"stream '{STREAM}', input line 2 (BATCH), file {path.as_uri()}, {error}"
    ]


def test_integers_in_a_parquet_number_column_land_when_a_double_holds_them_exactly(tmp_path: Path) -> None:
    schema = schema_message(STREAM, {"id": {"type": "integer"}, "x": {"type": ["number", "null"]}})
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "x": pa.array([2**60, -(2**63), 5], pa.int64())}), path)
    batch = {
        "type": "BATCH",
        "stream": STREAM,
        "encoding": {"format": "parquet", "compression": "none"},
        "manifest": [path.as_uri()],
    }

    run = run_target([schema, batch, STATE], {"bucket_url": str(tmp_path / "bucket")})

    assert run.exit_code == 0, run.error_lines
    assert [row["x"] for row in bucket_rows(tmp_path / "bucket")] == [2.0**60, -(2.0**63), 5.0]


def test_an_integer_in_a_parquet_number_column_a_double_cannot_hold_fails_naming_its_row(tmp_path: Path) -> None:
    schema = schema_message(STREAM, {"id": {"type": "integer"}, "x": {"type": ["number", "null"]}})
    path = tmp_path / "inexact.parquet"
    pq.write_table(pa.table({"id": [1, 2], "x": pa.array([1, 2**53 + 1], pa.int64())}), path)
    batch = {
        "type": "BATCH",
        "stream": STREAM,
        "encoding": {"format": "parquet", "compression": "none"},
        "manifest": [path.as_uri()],
    }

    run = run_target([schema, batch, STATE], {"bucket_url": str(tmp_path / "bucket")})

    assert run.exit_code == 1
    assert run.states == []
    assert run.error_lines[0].endswith(
        f"file {path.as_uri()}, row 2: column 'x': integer 9007199254740993 is not exactly representable "
        "as a double (number columns are float64)"
    )


def test_a_parquet_file_without_the_key_column_fails_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "nokey.parquet"
    pq.write_table(pa.table({"email": ["a@example.com"]}), path)
    batch = batch_message("parquet", [path.as_uri()])

    run = run_target([SCHEMA, batch, STATE], {"bucket_url": str(tmp_path / "bucket")})

    assert run.exit_code == 1
    assert run.states == []
    assert run.error_lines[0].endswith(f"file {path.as_uri()}, row 1: key property 'id' is missing")


def test_a_null_in_a_required_non_nullable_parquet_column_fails_naming_its_row(tmp_path: Path) -> None:
    schema = schema_message(STREAM, {"id": {"type": "integer"}, "email": {"type": "string"}}, required=["id", "email"])
    path = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "email": ["a", "b", None]}), path)
    batch = batch_message("parquet", [path.as_uri()])

    run = run_target([schema, batch, STATE], {"bucket_url": str(tmp_path / "bucket")})

    assert run.exit_code == 1
    assert run.states == []
    assert run.error_lines[0].endswith(
        f"file {path.as_uri()}, row 3: column 'email' is declared non-nullable but is null"
    )


def test_a_missing_batch_file_fails_with_one_line_and_no_state_past_it(tmp_path: Path) -> None:
    first = jsonl_batch(tmp_path / "first.jsonl", [json.dumps(r).encode() for r in people(1, 3)])
    missing = tmp_path / "gone.jsonl.gz"
    batch = batch_message("jsonl", [missing.as_uri()], compression="gzip")

    run = run_target(
        [SCHEMA, first, STATE, batch, state_message({"after": True})], {"bucket_url": str(tmp_path / "bucket")}
    )

    assert run.exit_code == 1
    assert run.states == []
    assert len(run.error_lines) == 1
    assert run.error_lines[0].startswith(
        f"target-parquet-bucket: error: BatchFileError: stream '{STREAM}', input line 4 (BATCH), "
        f"file {missing.as_uri()}: cannot be read: FileNotFoundError"
    )


def test_a_line_holding_more_than_the_record_cannot_set_envelope_fields(tmp_path: Path) -> None:
    batch = jsonl_batch(tmp_path / "smuggle.jsonl", [b'{"id": 1}, "version": 5, "x": {"id": 2}'])

    run = run_target([SCHEMA, batch, STATE], {"bucket_url": str(tmp_path / "bucket")})

    assert run.exit_code == 1
    assert run.states == []
    assert f"file {(tmp_path / 'smuggle.jsonl').as_uri()}, row 1: not one JSON record" in run.error_lines[0]


def test_a_batch_is_refused_when_stream_maps_would_be_skipped(tmp_path: Path) -> None:
    batch = jsonl_batch(tmp_path / "mapped.jsonl", [json.dumps(r).encode() for r in people(1, 2)])
    config = {"bucket_url": str(tmp_path / "bucket"), "stream_maps": {STREAM: {"email": "md5(email)"}}}

    run = run_target([SCHEMA, batch, STATE], config)

    assert run.exit_code == 1
    assert run.states == []
    assert run.error_lines == [
        f"target-parquet-bucket: error: BatchFileError: stream '{STREAM}', input line 2: BATCH messages cannot be "
        "combined with stream_maps or flattening_enabled (their files would be written untransformed); turn off "
        "the tap's batch_config"
    ]
