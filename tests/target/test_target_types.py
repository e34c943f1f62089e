"""Column types come from the stream's JSON Schema, not from the values."""

from __future__ import annotations

import datetime
import json
import typing as t
from pathlib import Path

import pyarrow as pa
import pytest
from target.target_runs import (
    Message,
    data_files,
    read_parquet,
    record_message,
    run_target,
    schema_message,
    state_message,
)

UTC = datetime.timezone.utc

PROPERTIES = {
    "id": {"type": "string"},
    "count": {"type": ["null", "integer"]},
    "ratio": {"type": ["number", "null"]},
    "whole_or_fraction": {"type": ["integer", "number"]},
    "flag": {"type": "boolean"},
    "created_at": {"type": "string", "format": "date-time"},
    "day": {"type": ["null", "string"], "format": "date"},
    "metrics": {"type": "object", "properties": {"sent": {"type": "integer"}, "opened": {"type": ["null", "integer"]}}},
    "tags": {"type": "array", "items": {"type": "string"}},
    "loose": {"type": "object"},
    "either": {"type": ["string", "integer"]},
    "anything": {},
    "never_sent": {"type": ["null", "integer"]},
    "never_sent_time": {"type": ["null", "string"], "format": "date-time"},
}

RECORDS: list[dict[str, t.Any]] = [
    {
        "id": "a",
        "count": 3,
        "ratio": 0.5,
        "whole_or_fraction": 2,
        "flag": True,
        "created_at": "2026-11-22T10:00:00Z",
        "day": "2026-11-22",
        "metrics": {"sent": 1, "opened": None},
        "tags": ["x", "y"],
        "loose": {"k": [1, {"z": None}]},
        "either": "text",
        "anything": {"deep": True},
    },
    {
        "id": "b",
        "count": None,
        "whole_or_fraction": 2.25,
        "created_at": "2026-11-22T12:30:00.123456+02:00",
        "metrics": None,
        "either": 42,
        "anything": "plain",
    },
]


def write(tmp_path: Path, config: dict | None = None, *, required: list[str] | None = None) -> pa.Table:
    """One run of the typed stream; returns its only file."""
    schema = schema_message("typed", PROPERTIES, key_properties=["id"], required=required or ["id"])
    messages = [schema, *(record_message("typed", r) for r in RECORDS), state_message({"done": 1})]
    run = run_target(messages, {"bucket_url": str(tmp_path), **(config or {})})
    assert run.exit_code == 0, run.stderr
    (key,) = data_files(tmp_path)
    return read_parquet(tmp_path, key)


def test_columns_are_typed_from_the_json_schema_including_never_sent_ones(tmp_path: Path) -> None:
    table = write(tmp_path)
    types = {field.name: field.type for field in table.schema}
    assert types == {
        "id": pa.string(),
        "count": pa.int64(),
        "ratio": pa.float64(),
        "whole_or_fraction": pa.float64(),
        "flag": pa.bool_(),
        "created_at": pa.timestamp("us", tz="UTC"),
        "day": pa.date32(),
        "metrics": pa.string(),
        "tags": pa.string(),
        "loose": pa.string(),
        "either": pa.string(),
        "anything": pa.string(),
        "never_sent": pa.int64(),
        "never_sent_time": pa.timestamp("us", tz="UTC"),
    }
    assert table.column("never_sent").null_count == 2


def test_required_non_null_columns_are_not_nullable_everything_else_is(tmp_path: Path) -> None:
    table = write(tmp_path)
    assert [f.name for f in table.schema if not f.nullable] == ["id"]


def test_values_round_trip_with_timestamps_in_utc_and_nested_values_as_json_text(tmp_path: Path) -> None:
    rows = write(tmp_path).to_pylist()
    assert rows[0]["created_at"] == datetime.datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert rows[1]["created_at"] == datetime.datetime(2026, 11, 22, 10, 30, 0, 123456, tzinfo=UTC)
    assert rows[0]["day"] == datetime.date(2026, 11, 22)
    assert json.loads(rows[0]["metrics"]) == {"sent": 1, "opened": None}
    assert json.loads(rows[0]["tags"]) == ["x", "y"]
    assert json.loads(rows[0]["loose"]) == {"k": [1, {"z": None}]}
    assert rows[1]["metrics"] is None
    assert [r["either"] for r in rows] == ["text", "42"]
    assert [r["anything"] for r in rows] == ['{"deep":true}', "plain"]
    assert [r["whole_or_fraction"] for r in rows] == [2.0, 2.25]


def test_native_nested_option_writes_structs_and_lists_where_the_schema_declares_them(tmp_path: Path) -> None:
    table = write(tmp_path, {"native_nested": True})
    types = {field.name: field.type for field in table.schema}
    assert types["metrics"] == pa.struct([("sent", pa.int64()), ("opened", pa.int64())])
    assert types["tags"] == pa.list_(pa.string())
    assert types["loose"] == pa.string()  # no properties: never an empty struct
    rows = table.to_pylist()
    assert rows[0]["metrics"] == {"sent": 1, "opened": None}
    assert rows[0]["tags"] == ["x", "y"]
    assert json.loads(rows[0]["loose"]) == {"k": [1, {"z": None}]}


def test_naive_date_times_are_taken_as_utc(tmp_path: Path) -> None:
    messages = [
        schema_message("events", {"at": {"type": "string", "format": "date-time"}}),
        record_message("events", {"at": "2026-01-02T03:04:05"}),
        record_message("events", {"at": "2026-01-02 03:04:05.5"}),
    ]
    run = run_target(messages, {"bucket_url": str(tmp_path)})
    assert run.exit_code == 0, run.stderr
    (key,) = data_files(tmp_path)
    assert read_parquet(tmp_path, key).column("at").to_pylist() == [
        datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime.datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
    ]


def test_record_metadata_columns_on_demand(tmp_path: Path) -> None:
    messages = [
        schema_message("events", {"id": {"type": "integer"}}),
        record_message("events", {"id": 1}, time_extracted="2026-11-22T09:00:00Z", version=7),
    ]
    run = run_target(messages, {"bucket_url": str(tmp_path), "add_record_metadata": True})
    assert run.exit_code == 0, run.stderr
    (key,) = data_files(tmp_path)
    table = read_parquet(tmp_path, key)
    assert {f.name for f in table.schema} >= {"_sdc_extracted_at", "_sdc_received_at", "_sdc_table_version"}
    row = table.to_pylist()[0]
    assert row["_sdc_extracted_at"] == datetime.datetime(2026, 11, 22, 9, tzinfo=UTC)
    assert row["_sdc_table_version"] == 7
    assert table.schema.field("_sdc_received_at").type == pa.timestamp("us", tz="UTC")


def test_state_with_decimals_is_emitted_exactly(tmp_path: Path) -> None:
    raw_state = '{"type": "STATE", "value": {"bookmarks": {"s": {"score": 0.1000000000000000055511151231257827}}}}'
    messages: list[Message] = [
        schema_message("s", {"id": {"type": "integer"}}),
        record_message("s", {"id": 1}),
        raw_state,
    ]
    run = run_target(messages, {"bucket_url": str(tmp_path)})
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == '{"bookmarks":{"s":{"score":0.1000000000000000055511151231257827}}}'


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_csv_and_jsonl_keep_the_same_rows(tmp_path: Path, file_format: str) -> None:
    messages = [
        schema_message("people", {"id": {"type": "integer"}, "traits": {"type": "object"}, "name": {"type": "string"}}),
        record_message("people", {"id": 1, "traits": {"first_name": "Bugs"}, "name": 'say "hi", ok'}),
        record_message("people", {"id": 2, "name": None}),
    ]
    run = run_target(messages, {"bucket_url": str(tmp_path), "format": file_format, "workspace_id": "7"})
    assert run.exit_code == 0, run.stderr
    assert data_files(tmp_path) == [f"people_v4_7_1.{file_format}"]
    text = (tmp_path / f"people_v4_7_1.{file_format}").read_text()
    if file_format == "jsonl":
        rows = [json.loads(line) for line in text.splitlines()]
        assert rows == [
            {"id": 1, "traits": {"first_name": "Bugs"}, "name": 'say "hi", ok'},
            {"id": 2, "traits": None, "name": None},
        ]
    else:
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(tmp_path / "people_v4_7_1.csv")
        assert table.column("id").to_pylist() == [1, 2]
        assert json.loads(table.column("traits")[0].as_py()) == {"first_name": "Bugs"}
        assert table.column("name")[0].as_py() == 'say "hi", ok'


def test_the_sdk_record_path_used_with_stream_maps_writes_the_same_table(tmp_path: Path) -> None:
    fast = write(tmp_path / "fast")
    # jsonschema validation would refuse the explicit null in "metrics" ({"type": "object"});
    # the columnar path treats every non-required column as nullable, as a missing key is null too.
    sdk_path = write(tmp_path / "sdk", {"stream_maps": {"typed": {}}, "validate_records": False})
    assert sdk_path.schema == fast.schema
    assert sdk_path.to_pylist() == fast.to_pylist()
