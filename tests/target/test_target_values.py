"""A value reaches the bucket as it was sent, or the run fails naming stream, input line and field.

Each case here used to be written changed without a word: truncated, rounded, moved across a
day, stored as a value readers cannot read back, or merged with another column by loaders.
"""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from target.target_runs import (
    TargetRun,
    assert_refused,
    data_files,
    read_parquet,
    record_message,
    run_target,
    schema_message,
    state_message,
)

GOOD_STATE = {"bookmarks": {"s": 1}}
LATER_STATE = {"bookmarks": {"s": 2}}


def run_with_bad_line(
    tmp_path: Path, schema: dict, good: dict, bad: dict | str, config: dict | None = None
) -> TargetRun:
    """Lines 1-3: SCHEMA, a good record, STATE; line 4: the bad record; then a record and a later STATE."""
    messages = [schema, good, state_message(GOOD_STATE), bad, good, state_message(LATER_STATE)]
    return run_target(messages, {"bucket_url": str(tmp_path), **(config or {})})


NESTED = schema_message(
    "s",
    {
        "id": {"type": "integer"},
        "n": {
            "type": ["object", "null"],
            "properties": {"i": {"type": ["integer", "null"]}, "l": {"type": "array", "items": {"type": "integer"}}},
        },
    },
    key_properties=["id"],
)


@pytest.mark.parametrize(
    ("good", "bad", "words"),
    [
        ({"i": 2}, {"i": 2.7}, ("n.i", "2.7")),
        ({"l": [1]}, {"l": [1.9, -3.5]}, ("n.l[0]", "1.9")),
        ({"i": 1}, {"i": 2**64}, ("n.i", str(2**64))),
    ],
    ids=["fraction-in-an-integer-field", "fractions-in-an-integer-list", "integer-beyond-int64"],
)
def test_native_nested_refuses_an_integer_it_cannot_store_exactly_naming_line_field_and_value(
    tmp_path: Path, good: dict, bad: dict, words: tuple[str, ...]
) -> None:
    run = run_with_bad_line(
        tmp_path,
        NESTED,
        record_message("s", {"id": 1, "n": good}),
        record_message("s", {"id": 2, "n": bad}),
        {"native_nested": True},
    )
    assert_refused(run, "stream 's', input line 4", *words)


def test_native_nested_refuses_an_object_in_a_string_field_instead_of_storing_its_json_text(tmp_path: Path) -> None:
    schema = schema_message(
        "s",
        {"id": {"type": "integer"}, "n": {"type": "object", "properties": {"tag": {"type": "string"}}}},
        key_properties=["id"],
    )
    run = run_with_bad_line(
        tmp_path,
        schema,
        record_message("s", {"id": 1, "n": {"tag": "a"}}),
        record_message("s", {"id": 2, "n": {"tag": {"not": "a string"}}}),
        {"native_nested": True},
    )
    assert_refused(run, "stream 's', input line 4", "n.tag", "expected a string")


NUMBERS = schema_message("s", {"id": {"type": "integer"}, "x": {"type": ["number", "null"]}}, key_properties=["id"])


def test_an_integer_literal_a_double_cannot_hold_is_refused_not_rounded(tmp_path: Path) -> None:
    exact = record_message("s", {"id": 1, "x": 2**60})  # beyond 2**53 but exactly a double: kept
    run = run_with_bad_line(tmp_path, NUMBERS, exact, record_message("s", {"id": 2, "x": 2**53 + 1}))
    assert_refused(run, "stream 's', input line 4", "column 'x'", str(2**53 + 1), "double")


def test_a_forty_digit_integer_in_a_number_field_is_refused_not_rounded(tmp_path: Path) -> None:
    forty_digits = (
        '{"type": "RECORD", "stream": "s", "record": {"id": 2, "x": 1234567890123456789012345678901234567891}}'
    )
    run = run_with_bad_line(tmp_path, NUMBERS, record_message("s", {"id": 1, "x": 0.5}), forty_digits)
    assert_refused(run, "stream 's', input line 4", "column 'x'", "1234567890123456789012345678901234567891")


def test_a_null_primary_key_whose_type_excludes_null_is_refused(tmp_path: Path) -> None:
    schema = schema_message(
        "s", {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}, key_properties=["id"]
    )
    run = run_with_bad_line(tmp_path, schema, record_message("s", {"id": 1}), record_message("s", {"id": None}))
    assert_refused(run, "stream 's', input line 4", "key property 'id' is null")


def test_key_properties_naming_a_field_absent_from_the_schema_are_refused_at_the_schema(tmp_path: Path) -> None:
    schema = schema_message("s", {"id": {"type": "integer"}}, key_properties=["uid"])
    run = run_target([schema, record_message("s", {"id": 1}), state_message(GOOD_STATE)], {"bucket_url": str(tmp_path)})
    assert_refused(run, "input line 1", "stream 's'", "key_properties names 'uid'")
    assert data_files(tmp_path) == []


EVENTS = schema_message(
    "s",
    {
        "id": {"type": "integer"},
        "at": {"type": ["string", "null"], "format": "date-time"},
        "day": {"type": ["string", "null"], "format": "date"},
    },
    key_properties=["id"],
)


def test_a_date_time_in_year_zero_is_refused_naming_the_value(tmp_path: Path) -> None:
    good = record_message("s", {"id": 1, "at": "2026-01-01T00:00:00Z"})
    run = run_with_bad_line(tmp_path, EVENTS, good, record_message("s", {"id": 2, "at": "0000-01-01T00:00:00Z"}))
    assert_refused(run, "stream 's', input line 4", "column 'at'", "'0000-01-01T00:00:00Z'", "0001-9999")


def test_a_date_in_year_zero_is_refused_naming_the_value(tmp_path: Path) -> None:
    good = record_message("s", {"id": 1, "day": "2026-01-01"})
    run = run_with_bad_line(tmp_path, EVENTS, good, record_message("s", {"id": 2, "day": "0000-03-01"}))
    assert_refused(run, "stream 's', input line 4", "column 'day'", "'0000-03-01'", "0001-9999")


def test_sub_microsecond_digits_are_floored_so_a_moment_keeps_its_day_and_partition(tmp_path: Path) -> None:
    messages = [EVENTS, record_message("s", {"id": 1, "at": "1969-12-31T23:59:59.9999995Z"}), state_message(GOOD_STATE)]
    run = run_target(messages, {"bucket_url": str(tmp_path), "partition_by": "at"})
    assert run.exit_code == 0, run.stderr[-800:]
    [key] = data_files(tmp_path)
    assert key.startswith("at=1969-12-31/")
    assert read_parquet(tmp_path, key).column("at").to_pylist() == [
        datetime.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.timezone.utc)
    ]


def test_columns_differing_only_in_case_are_refused_unless_allowed(tmp_path: Path) -> None:
    schema = schema_message(
        "s", {"id": {"type": "integer"}, "Id": {"type": ["integer", "null"]}}, key_properties=["id"]
    )
    messages = [schema, record_message("s", {"id": 1, "Id": 2}), state_message(GOOD_STATE)]

    refused = run_target(messages, {"bucket_url": str(tmp_path / "default")})
    allowed = run_target(messages, {"bucket_url": str(tmp_path / "allowed"), "allow_case_colliding_columns": True})

    assert_refused(refused, "input line 1", "stream 's'", "'id' and 'Id'", "allow_case_colliding_columns")
    assert data_files(tmp_path / "default") == []
    assert allowed.exit_code == 0, allowed.stderr[-800:]
    [key] = data_files(tmp_path / "allowed")
    assert read_parquet(tmp_path / "allowed", key).to_pylist() == [{"id": 1, "Id": 2}]
    assert allowed.states == [GOOD_STATE]


def test_a_column_of_distinct_values_stops_building_its_dictionary_at_64_kib(tmp_path: Path) -> None:
    """Dictionary encoding only pays for repeated values: a column of distinct ids falls back to
    plain encoding once its dictionary reaches 64 KiB instead of Arrow's 1 MiB, while a column of a
    few repeated values keeps its dictionary. The values read back as sent either way."""
    ids = [hashlib.sha256(str(index).encode()).hexdigest() for index in range(8000)]  # ~0.5 MB distinct
    schema = schema_message(
        "s", {"id": {"type": "string"}, "kind": {"type": ["string", "null"]}}, key_properties=["id"]
    )
    records = [record_message("s", {"id": value, "kind": ("a", "b", "c")[i % 3]}) for i, value in enumerate(ids)]
    run = run_target([schema, *records], {"bucket_url": str(tmp_path)})
    assert run.exit_code == 0, run.stderr[-800:]
    [key] = data_files(tmp_path)
    chunks = pq.ParquetFile(tmp_path / key).metadata.row_group(0)
    by_name = {chunks.column(i).path_in_schema: chunks.column(i) for i in range(chunks.num_columns)}
    distinct, repeated = by_name["id"], by_name["kind"]
    assert distinct.data_page_offset - distinct.dictionary_page_offset <= 64 * 1024 + 1024
    assert "PLAIN" in distinct.encodings
    assert repeated.has_dictionary_page and "RLE_DICTIONARY" in repeated.encodings
    table = read_parquet(tmp_path, key)
    assert table.column("id").to_pylist() == ids
    assert table.column("kind").to_pylist() == [("a", "b", "c")[i % 3] for i in range(len(ids))]
