"""Arrow's JSON reader decodes a batch exactly as the msgspec path would, or hands it over.

`BatchDecoder` tries pyarrow's C++ JSON reader first for streams of scalars and, with
`native_nested`, of native structs/lists, and falls back to the msgspec path for any batch the
reader would read differently: these are the values where the two parsers disagree. Each case is
decoded by a decoder on the Arrow path and one forced onto the msgspec path; the outcomes (batch,
or error with its record index) must be identical.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
from target.target_runs import record_message, run_target, schema_message

from target_parquet_bucket.arrow_schema import columns_for_schema
from target_parquet_bucket.decoding import BatchDecoder, RecordError

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "n": {"type": ["integer", "null"]},
        "x": {"type": ["number", "null"]},
        "s": {"type": ["string", "null"]},
        "at": {"type": ["string", "null"], "format": "date-time"},
        "obj": {
            "type": ["object", "null"],
            "properties": {
                "i": {"type": ["integer", "null"]},
                "f": {"type": ["number", "null"]},
                "t": {"type": ["string", "null"]},
            },
        },
        "tags": {"type": ["array", "null"], "items": {"type": "integer"}},
    },
}
#: Without native_nested, objects are JSON text, which only the msgspec path produces: the
#: scalar columns alone go to Arrow's reader (the objects of the records are then unknown fields).
FLAT = {**SCHEMA, "properties": {k: v for k, v in SCHEMA["properties"].items() if k not in {"obj", "tags"}}}
GOOD = (
    '{"id": 1, "n": 5, "x": 0.5, "s": "a", "at": "2026-01-02T03:04:05Z", '
    '"obj": {"i": 1, "f": 2.5, "t": "u"}, "tags": [1, 2]}'
)


def line(record: str) -> bytes:
    return f'{{"type": "RECORD", "stream": "s", "record": {record}}}'.encode()


def decoder(*, native: bool) -> BatchDecoder:
    schema = SCHEMA if native else FLAT
    return BatchDecoder(columns_for_schema(schema, native_nested=native), key_properties=["id"])


def outcome(decoder: BatchDecoder, lines: list[bytes]) -> t.Any:
    try:
        batch, versions = decoder.decode(lines)
    except RecordError as exc:
        return ("error", exc.index, exc.message)
    return (batch.to_pylist(), versions)


def both_paths(lines: list[bytes], *, native: bool) -> tuple[t.Any, t.Any, bool]:
    """(outcome on the Arrow path, outcome on the msgspec path, whether Arrow kept the batch)."""
    fast, slow = decoder(native=native), decoder(native=native)
    assert fast.reads_with_arrow
    slow._arrow_reader = None  # the reference: the msgspec path alone
    fast_outcome = outcome(fast, lines)
    return fast_outcome, outcome(slow, lines), fast.reads_with_arrow


@pytest.mark.parametrize("native", [False, True], ids=["scalars", "native"])
def test_good_records_stay_on_arrows_reader_with_the_msgspec_paths_values(native: bool) -> None:
    other = '{"id": 2, "obj": {"i": null, "extra": {"deep": [1]}, "t": "sp ace"}, "tags": [], "unknown": 1}'
    fast, slow, kept = both_paths([line(GOOD), line(other), line('{"id": 3, "obj": null}')], native=native)
    assert kept
    assert fast == slow


FALLBACKS = {
    "fraction in an integer field": '{"id": 1, "n": 2.7}',
    "2.0 in an integer field": '{"id": 1, "n": 2.0}',
    "integer beyond int64": '{"id": 1, "n": 9223372036854775808}',
    "integer a double cannot hold in a number field": '{"id": 1, "x": 9007199254740993}',
    "integer a double holds beyond 2**53": '{"id": 1, "x": 1152921504606846976}',
    "NaN in a number field": '{"id": 1, "x": NaN}',
    "Infinity in a number field": '{"id": 1, "x": Infinity}',
    "duplicate key": '{"id": 1, "s": "a", "s": "b"}',
    "null key": '{"id": null}',
    "missing key": '{"s": "a"}',
    "year 0": '{"id": 1, "at": "0000-01-01T00:00:00Z"}',
    "sub-microsecond digits": '{"id": 1, "at": "1969-12-31T23:59:59.9999995Z"}',
    "number in a string field": '{"id": 1, "s": 5}',
    "nested fraction in an integer field": '{"id": 1, "obj": {"i": 2.5}}',
    "nested integer a double cannot hold": '{"id": 1, "obj": {"f": 9007199254740993}}',
    "nested NaN": '{"id": 1, "obj": {"f": NaN}}',
    "nested object in a string field": '{"id": 1, "obj": {"t": {"a": 1}}}',
    "nested duplicate key": '{"id": 1, "obj": {"i": 1, "i": 2}}',
    "fraction in an integer list": '{"id": 1, "tags": [1, 1.5]}',
    "string where an object is declared": '{"id": 1, "obj": "text"}',
}


@pytest.mark.parametrize("native", [False, True], ids=["scalars", "native"])
@pytest.mark.parametrize("record", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_values_arrows_reader_would_read_differently_get_the_msgspec_paths_outcome(record: str, native: bool) -> None:
    fast, slow, _ = both_paths([line(GOOD), line(record), line(GOOD)], native=native)
    assert fast == slow


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("a record that is null", [line(GOOD), line("null")]),
        ("a line holding two messages", [line(GOOD), line(GOOD) + b" " + line(GOOD)]),
        ("text that is not UTF-8", [line(GOOD), line('{"id": 1, "s": "X"}').replace(b'"X"', b'"\xff"')]),
        ("a message without record", [line(GOOD), b'{"type": "RECORD", "stream": "s"}']),
    ],
)
@pytest.mark.parametrize("native", [False, True], ids=["scalars", "native"])
def test_malformed_lines_get_the_msgspec_paths_error(name: str, lines: list[bytes], native: bool) -> None:
    fast, slow, kept = both_paths(lines, native=native)
    assert fast == slow
    assert slow[0] == "error", name
    assert not kept


def test_nested_text_that_is_not_utf8_gets_the_msgspec_paths_error() -> None:
    lines = [line(GOOD), line('{"id": 1, "obj": {"t": "X"}}').replace(b'"X"', b'"\xff"')]
    fast, slow, kept = both_paths(lines, native=True)
    assert fast == slow
    assert slow[0] == "error"
    assert not kept


def test_streams_with_json_text_columns_stay_on_the_msgspec_path() -> None:
    assert not decoder(native=False).reads_with_arrow or "obj" not in FLAT["properties"]
    json_text = BatchDecoder(columns_for_schema(SCHEMA, native_nested=False), key_properties=["id"])
    assert not json_text.reads_with_arrow


@pytest.mark.parametrize("native", [False, True], ids=["scalars", "native"])
def test_nan_in_a_field_the_schema_does_not_declare_is_refused_as_the_msgspec_path_refuses_it(native: bool) -> None:
    fast, slow, _ = both_paths([line(GOOD), line('{"id": 1, "undeclared": NaN}')], native=native)
    assert fast == slow
    assert slow[0] == "error"


def test_text_mentioning_nan_is_decoded_and_the_stream_stays_on_arrows_reader() -> None:
    fast, slow, kept = both_paths([line('{"id": 1, "s": "NaN and Infinity"}')], native=True)
    assert fast == slow
    assert kept


def test_an_exact_double_beyond_two_to_the_53_is_kept_by_the_msgspec_path() -> None:
    fast, slow, kept = both_paths([line('{"id": 1, "x": 1152921504606846976}')], native=False)
    assert fast == slow
    assert fast[0][0]["x"] == float(2**60)
    assert not kept  # the reader may have rounded such a literal: the msgspec path saw it


def test_the_messages_versions_are_read_from_the_envelope() -> None:
    record = json.loads(GOOD)
    lines = [json.dumps({"type": "RECORD", "stream": "s", "record": record, "version": v}).encode() for v in (7, 8)]
    fast, slow, kept = both_paths(lines, native=True)
    assert kept
    assert fast == slow
    assert fast[1] == {7, 8}


def test_a_record_with_nan_in_an_undeclared_field_is_refused_naming_its_line(tmp_path: Path) -> None:
    schema = schema_message("s", {"id": {"type": "integer"}}, key_properties=["id"])
    bad = '{"type": "RECORD", "stream": "s", "record": {"id": 2, "extra": NaN}}'
    run = run_target([schema, record_message("s", {"id": 1}), bad], {"bucket_url": str(tmp_path)})
    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "stream 's', input line 3" in run.error_lines[0], run.error_lines[0]
