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

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest
from target.target_runs import data_files, record_message, run_target, schema_message

from target_parquet_bucket.arrow_schema import columns_for_schema
from target_parquet_bucket.decoding import BatchDecoder, RecordError
from target_parquet_bucket.json_reader import ArrowJsonReader, may_hold_nan

SCHEMA: dict[str, t.Any] = {
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
    "NaN in an integer field": '{"id": 1, "n": NaN}',
    "Infinity in a string field": '{"id": 1, "s": -Infinity}',
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
    assert decoder(native=False).reads_with_arrow  # without the JSON text columns, the stream reads with Arrow
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


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        (b'{"x": NaN}', True),
        (b'{"x": [1, -Infinity]}', True),
        (b'{"x":\t+Inf}', True),
        (b'{"id": "aNaNb", "s": "Infinity and beyond"}', False),
        (b'{"id": "x", "s": "NaN"}', False),
    ],
)
def test_only_nan_or_infinity_where_a_value_starts_sends_a_batch_to_the_msgspec_path(
    text: bytes, literal: bool
) -> None:
    """Ids and texts containing the letters (random base64 ids do, every few thousand records)
    keep their batch on Arrow's reader."""
    assert may_hold_nan(text) is literal


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


def buffered_with_read_ahead(decoder: BatchDecoder, lines: list[bytes], every: int) -> list[bytes]:
    """The lines buffered one by one, as the sink does, handing the batch to `read_ahead` every
    `every` lines (the sink does it every `BatchDecoder.READ_AHEAD_LINES`)."""
    batch: list[bytes] = []
    for one in lines:
        batch.append(one)
        if len(batch) % every == 0:
            decoder.read_ahead(batch)
    return batch


def numbered(count: int) -> list[bytes]:
    return [line(GOOD.replace('"id": 1', f'"id": {index}')) for index in range(count)]


@pytest.mark.parametrize("native", [False, True], ids=["scalars", "native"])
def test_a_batch_parsed_ahead_in_parts_decodes_to_the_rows_of_one_read(
    native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines handed over ahead are parsed while the batch fills (only the rest when it is
    decoded), and the parts make up the very batch one read of all the lines gives."""
    parsed: list[int] = []
    read = ArrowJsonReader.read

    def counting_read(self: ArrowJsonReader, lines: t.Sequence[bytes], **options: t.Any) -> t.Any:
        parsed.append(len(lines))
        return read(self, lines, **options)

    monkeypatch.setattr(ArrowJsonReader, "read", counting_read)
    ahead = decoder(native=native)
    batch = buffered_with_read_ahead(ahead, numbered(10), every=3)
    in_parts = outcome(ahead, batch)
    assert parsed == [3, 3, 3, 1]
    assert ahead.reads_with_arrow
    assert in_parts == outcome(decoder(native=native), numbered(10))


@pytest.mark.parametrize("native", [False, True], ids=["scalars", "native"])
@pytest.mark.parametrize("bad", [1, 4, 9], ids=["first part", "second part", "the rest"])
def test_a_bad_record_in_a_part_parsed_ahead_gets_the_msgspec_paths_error_with_its_index(
    native: bool, bad: int
) -> None:
    lines = numbered(10)
    lines[bad] = line('{"id": 1, "n": 2.7}')
    ahead = decoder(native=native)
    result = outcome(ahead, buffered_with_read_ahead(ahead, lines, every=3))
    reference = decoder(native=native)
    reference._arrow_reader = None
    assert result == outcome(reference, lines)
    assert result[:2] == ("error", bad)
    assert not ahead.reads_with_arrow


def test_lines_read_ahead_for_another_batch_are_not_mixed_into_this_one() -> None:
    ahead = decoder(native=True)
    buffered_with_read_ahead(ahead, numbered(6), every=3)
    other = [line('{"id": 99, "s": "other"}')]
    batch, _ = ahead.decode(other)
    assert batch.column("id").to_pylist() == [99]


def test_native_structs_of_a_batch_parsed_in_parts_are_read_back_as_sent_by_pyarrow_duckdb_and_polars(
    tmp_path: Path,
) -> None:
    """More records than one part, so the sink hands the batch over ahead more than once."""
    count = 2 * BatchDecoder.READ_AHEAD_LINES + 7
    records = [
        {
            "id": index,
            "obj": None if index % 5 == 0 else {"i": index, "f": index / 4, "t": f"t{index}" if index % 3 else None},
            "tags": [index, -index] if index % 2 else [],
        }
        for index in range(count)
    ]
    messages = [schema_message("s", SCHEMA["properties"], key_properties=["id"])]
    messages += [record_message("s", record) for record in records]
    run = run_target(messages, {"bucket_url": str(tmp_path), "native_nested": True})
    assert run.exit_code == 0, run.stderr
    (key,) = data_files(tmp_path)
    path = tmp_path / key
    expected = [(r["id"], r["obj"], r["tags"]) for r in records]
    by_pyarrow = pq.read_table(path, columns=["id", "obj", "tags"]).to_pylist()
    assert [(r["id"], r["obj"], r["tags"]) for r in by_pyarrow] == expected
    relation = duckdb.sql(f"SELECT id, obj, tags FROM read_parquet('{path}') ORDER BY id")
    assert relation is not None, "a SELECT gives a relation"
    by_duckdb = relation.fetchall()
    assert [(i, o, tg) for i, o, tg in by_duckdb] == expected
    by_polars = pl.read_parquet(path, columns=["id", "obj", "tags"]).rows()
    assert by_polars == expected


def test_a_bad_record_among_records_parsed_ahead_is_refused_naming_its_input_line(tmp_path: Path) -> None:
    count = BatchDecoder.READ_AHEAD_LINES + 100
    records = [record_message("s", {"id": index, "obj": {"i": index}}) for index in range(count)]
    records[BatchDecoder.READ_AHEAD_LINES // 2] = record_message("s", {"id": -1, "obj": {"i": 2.5}})
    schema = schema_message("s", SCHEMA["properties"], key_properties=["id"])
    run = run_target([schema, *records], {"bucket_url": str(tmp_path), "native_nested": True})
    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    line_number = BatchDecoder.READ_AHEAD_LINES // 2 + 2  # the SCHEMA is line 1
    assert f"stream 's', input line {line_number}:" in run.error_lines[0], run.error_lines[0]
    assert not data_files(tmp_path)


def msgspec_decoder() -> BatchDecoder:
    """A decoder of `SCHEMA` with objects as JSON text: the msgspec path, which decodes a batch in parts."""
    decoder = BatchDecoder(columns_for_schema(SCHEMA, native_nested=False), key_properties=["id"])
    assert not decoder.reads_with_arrow
    return decoder


def test_a_batch_longer_than_one_msgspec_part_decodes_to_every_record_in_order() -> None:
    count = 2 * BatchDecoder.DECODE_LINES + 3
    lines = [line(json.dumps({"id": index, "obj": {"i": index}, "tags": [index]})) for index in range(count)]
    batch, versions = msgspec_decoder().decode(lines)
    assert batch.num_rows == count
    assert batch.column("id").to_pylist() == list(range(count))
    assert batch.column("obj").to_pylist() == [f'{{"i":{index}}}' for index in range(count)]
    assert batch.column("tags").to_pylist() == [f"[{index}]" for index in range(count)]
    assert versions == {None}


@pytest.mark.parametrize("bad", [0, BatchDecoder.DECODE_LINES + 1, 2 * BatchDecoder.DECODE_LINES + 2])
def test_a_bad_record_in_any_msgspec_part_is_refused_with_its_index_in_the_batch(bad: int) -> None:
    lines = [line(json.dumps({"id": index})) for index in range(2 * BatchDecoder.DECODE_LINES + 3)]
    lines[bad] = line('{"id": 1, "obj": 5}')
    assert outcome(msgspec_decoder(), lines) == ("error", bad, "column 'obj': expected an object, got '5'")


def test_a_record_missing_its_key_in_a_later_msgspec_part_is_refused_with_its_index() -> None:
    lines = [line(json.dumps({"id": index})) for index in range(BatchDecoder.DECODE_LINES + 10)]
    lines[BatchDecoder.DECODE_LINES + 7] = line('{"n": 1}')
    assert outcome(msgspec_decoder(), lines) == (
        "error",
        BatchDecoder.DECODE_LINES + 7,
        "key property 'id' is missing",
    )


def test_every_row_of_a_batch_decoded_in_parts_has_the_batchs_one_batched_at_time() -> None:
    at = {"type": ["string", "null"], "format": "date-time"}
    schema = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "obj": {"type": "object"}, "_sdc_batched_at": at},
    }
    decoder = BatchDecoder(columns_for_schema(schema, native_nested=False), key_properties=["id"])
    lines = [line(json.dumps({"id": index, "obj": {}})) for index in range(3 * BatchDecoder.DECODE_LINES)]
    batch, _ = decoder.decode(lines)
    assert batch.num_rows == len(lines)
    assert len(set(batch.column("_sdc_batched_at").to_pylist())) == 1
