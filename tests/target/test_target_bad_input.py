"""Bad input and failed uploads never make the target lose, corrupt or misplace data, and it always says
what was wrong.

Most tests feed the real `target-parquet-bucket` process a few good records and a STATE (input lines
1-4), then the bad line (line 5), then more records and a later STATE. The rules checked after each run:
- a failure exits non-zero with one stderr line naming the problem (stream, input line, field);
- no STATE beyond the last good one is emitted, and an emitted STATE's records are all in the bucket;
- every object in the bucket is complete and readable, and nothing is written outside the bucket.
Where the target accepts odd input instead (a sanitised stream name), the data must survive intact.
"""

from __future__ import annotations

import decimal
import json
import signal
import subprocess
import typing as t
from pathlib import Path

import pytest
from fixtures import bucket_audit
from target.target_runs import (
    TARGET_EXECUTABLE,
    Message,
    TargetRun,
    assert_refused,
    data_files,
    read_parquet,
    record_message,
    run_target,
    schema_message,
    singer_lines,
    state_message,
)

SCHEMA = schema_message(
    "deliveries",
    {
        "id": {"type": "string"},
        "n": {"type": ["null", "integer"]},
        "x": {"type": ["null", "number"]},
        "name": {"type": ["null", "string"]},
    },
    key_properties=["id"],
)
GOOD_STATE = {"bookmarks": {"deliveries": 2}}
LATER_STATE = {"bookmarks": {"deliveries": 4}}
GOOD_IDS = {"1", "2"}


def delivery(delivery_id: str, **values: t.Any) -> dict:
    return record_message("deliveries", {"id": delivery_id, **values})


def good_prefix() -> list[Message]:
    """Lines 1-4: the schema, two records and the state covering them."""
    return [SCHEMA, delivery("1", name="ada"), delivery("2", name="grace"), state_message(GOOD_STATE)]


def good_suffix() -> list[Message]:
    """What follows the bad line: another record and a state that must never be emitted."""
    return [delivery("4", name="alan"), state_message(LATER_STATE)]


def run_in(tmp_path: Path, messages: t.Iterable[Message] | bytes, **settings: t.Any) -> TargetRun:
    """Run the target in `tmp_path` (so a stray relative write is seen) on the bucket `tmp_path/bucket`."""
    config = {"bucket_url": str(tmp_path / "bucket"), "workspace_id": "123456", **settings}
    return run_target(messages, config, cwd=tmp_path)


def run_with_bad_line(tmp_path: Path, bad: Message) -> TargetRun:
    """Good lines 1-4, `bad` on line 5, then more records and a later STATE."""
    return run_in(tmp_path, [*good_prefix(), bad, *good_suffix()])


def rows(bucket: Path) -> list[dict[str, t.Any]]:
    """Every row of every data file in the bucket."""
    return bucket_audit.read_table(bucket, bucket_audit.data_files(bucket)).drop_columns(["_file"]).to_pylist()


def assert_failed_keeping_the_good_lines(run: TargetRun, bucket: Path, *words: str) -> None:
    """Refused in one line naming `words`; the records before the bad line are in readable files or absent,
    none after it is written."""
    assert_refused(run, *words)
    bucket_audit.assert_every_file_readable(bucket)
    written = {r["id"] for r in rows(bucket)}
    assert written <= GOOD_IDS, f"rows from after the bad input were written: {sorted(written - GOOD_IDS)}"


def test_malformed_json_names_the_input_line(tmp_path: Path) -> None:
    run = run_with_bad_line(tmp_path, '{"type": "RECORD", "stream": "deliveries", "record": {"id": "3", "na')

    assert_failed_keeping_the_good_lines(run, tmp_path / "bucket", "input line 5", "JSON")


def test_input_cut_mid_line_by_a_killed_tap_fails_without_state_for_it(tmp_path: Path) -> None:
    cut = b'{"type": "RECORD", "stream": "deliveries", "record": {"id": "3", "name": "ba'

    run = run_in(tmp_path, singer_lines(good_prefix()) + cut)

    assert_failed_keeping_the_good_lines(run, tmp_path / "bucket", "input line 5")


@pytest.mark.parametrize(
    ("record_json", "reason"),
    [
        ('{"id": "3", "n": "seven"}', "Expected `int | null`, got `str`"),
        ('{"id": "3", "n": 92233720368547758070}', "int64"),
        ('{"id": "3", "n": 9223372036854775808}', "int64"),
        ('{"id": "3", "n": -9223372036854775809}', "int64"),
        ('{"id": "3", "x": NaN}', "JSON"),
        ('{"id": "3", "x": Infinity}', "JSON"),
        ('{"id": "3", "x": -Infinity}', "JSON"),
        ('{"id": "3", "x": 1e999}', "out of range"),
    ],
)
def test_a_record_violating_its_schema_names_stream_line_and_reason(
    tmp_path: Path, record_json: str, reason: str
) -> None:
    run = run_with_bad_line(tmp_path, '{"type": "RECORD", "stream": "deliveries", "record": ' + record_json + "}")

    assert_failed_keeping_the_good_lines(run, tmp_path / "bucket", "stream 'deliveries', input line 5", reason)


@pytest.mark.parametrize("batch_size_rows", [1, 2], ids=["every record a full batch", "ending a full batch"])
def test_a_bad_record_in_a_full_batch_fails_the_run_before_any_later_row_or_state(
    tmp_path: Path, batch_size_rows: int
) -> None:
    """A full batch is decoded while the next lines are read (its rows are handed down later): its bad
    record still stops the run before a later row is written or any STATE is passed on."""
    run = run_in(tmp_path, [*good_prefix(), delivery("3", n="seven"), *good_suffix()], batch_size_rows=batch_size_rows)

    assert_failed_keeping_the_good_lines(run, tmp_path / "bucket", "stream 'deliveries', input line 5", "`int")
    assert run.states == []
    assert {r["id"] for r in rows(tmp_path / "bucket")} == set()


def test_bad_records_in_two_streams_still_decoding_fail_the_run_naming_the_one_read_first(tmp_path: Path) -> None:
    """Both streams' full batches are still decoding when the input ends; the error names the bad record
    that came first in the input, although the other stream's sink was opened first."""
    events = {"id": {"type": "string"}, "n": {"type": ["null", "integer"]}}
    messages = [
        schema_message("events", events),
        SCHEMA,
        delivery("1"),
        delivery("2", n="two"),
        record_message("events", {"id": "e1"}),
        record_message("events", {"id": "e2", "n": "six"}),
    ]

    run = run_in(tmp_path, messages, batch_size_rows=2)

    assert_refused(run, "stream 'deliveries', input line 4", "`int")
    assert "input line 6" not in run.stderr
    assert rows(tmp_path / "bucket") == []


@pytest.mark.parametrize("value", ["0000000000004651", "yesterday", "2026-13-45T00:00:00Z"])
def test_an_unparseable_date_time_names_stream_line_column_and_value(tmp_path: Path, value: str) -> None:
    schema = schema_message("events", {"at": {"type": ["null", "string"], "format": "date-time"}})
    messages = [
        schema,
        record_message("events", {"at": "2026-11-22T10:00:00Z"}),
        record_message("events", {"at": value}),
    ]
    run = run_target(messages, {"bucket_url": str(tmp_path)})
    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert f"stream 'events', input line 3: column 'at': '{value}' is not an ISO-8601 date-time" in run.error_lines[0]


def test_non_utf8_text_is_rejected_naming_its_line(tmp_path: Path) -> None:
    run = run_with_bad_line(tmp_path, b'{"type": "RECORD", "stream": "deliveries", "record": {"id": "caf\xe9"}}')

    assert_failed_keeping_the_good_lines(run, tmp_path / "bucket", "input line 5", "UTF-8")


def test_a_record_before_its_schema_names_the_stream_and_line(tmp_path: Path) -> None:
    run = run_with_bad_line(tmp_path, record_message("unknown_stream", {"id": 1}))

    assert_failed_keeping_the_good_lines(
        run, tmp_path / "bucket", "stream 'unknown_stream', input line 5: RECORD before any SCHEMA of its stream"
    )


def test_a_record_without_its_key_property_is_rejected_naming_the_key(tmp_path: Path) -> None:
    run = run_with_bad_line(tmp_path, record_message("deliveries", {"n": 2}))

    assert_failed_keeping_the_good_lines(run, tmp_path / "bucket", "input line 5", "key property 'id' is missing")


def test_an_unknown_message_type_fails_naming_the_type(tmp_path: Path) -> None:
    run = run_with_bad_line(tmp_path, {"type": "HEARTBEAT", "at": 1})

    assert_failed_keeping_the_good_lines(run, tmp_path / "bucket", "Unknown message type 'HEARTBEAT'")


def test_a_null_in_a_required_non_nullable_column_is_rejected_not_stored_as_zero(tmp_path: Path) -> None:
    schema = schema_message("s", {"n": {"type": "integer"}}, required=["n"])
    run = run_target([schema, record_message("s", {"n": None})], {"bucket_url": str(tmp_path)})
    assert run.exit_code == 1
    assert "stream 's', input line 2" in run.error_lines[0]


@pytest.mark.parametrize(
    ("free_schema", "reason"),
    [
        ({"type": "object"}, "input line 1: stream 'free': SCHEMA has no 'properties'"),
        ({"type": "object", "additionalProperties": True}, "input line 1: stream 'free': SCHEMA has no 'properties'"),
        ({"type": "object", "properties": {}}, "stream 'free', input line 2: its SCHEMA declares no properties"),
    ],
    ids=["no-properties-key", "additional-properties", "empty-properties"],
)
def test_records_of_a_stream_without_declared_properties_are_refused_not_dropped(
    tmp_path: Path, free_schema: dict, reason: str
) -> None:
    messages = [
        {"type": "SCHEMA", "stream": "free", "schema": free_schema, "key_properties": []},
        record_message("free", {"plan": "gold", "seats": 7}),
        state_message(GOOD_STATE),
    ]

    run = run_in(tmp_path, messages)

    assert_refused(run, reason)
    assert bucket_audit.data_files(tmp_path / "bucket") == []


@pytest.mark.parametrize(
    "stream",
    ["../escape", "../../etc/cron.d/x", "/abs/path", "a/b", "a/../../b", "x\\..\\y", "ünïcødé_流量", "CON", ".hidden"],
)
def test_unsafe_stream_names_are_written_inside_the_bucket_under_a_plain_name(tmp_path: Path, stream: str) -> None:
    bucket = tmp_path / "bucket"

    run = run_in(tmp_path, [schema_message(stream, {"id": {"type": "integer"}}), record_message(stream, {"id": 1})])

    assert run.exit_code == 0, run.stderr[-800:]
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and bucket not in p.parents]
    assert [p.name for p in outside] == [], "files written outside the bucket"
    (key,) = data_files(bucket)
    assert "/" not in key and not key.startswith("."), key
    assert read_parquet(bucket, key).column("id").to_pylist() == [1]


@pytest.mark.parametrize("stream", ["", ".."], ids=["empty", "dotdot"])
def test_stream_names_without_usable_characters_fail_naming_the_stream(tmp_path: Path, stream: str) -> None:
    run = run_in(tmp_path, [schema_message(stream, {"id": {"type": "integer"}}), record_message(stream, {"id": 1})])

    assert_refused(run, f"stream '{stream}'", "no characters usable in an object name")
    assert bucket_audit.data_files(tmp_path / "bucket") == []


def test_a_stream_name_too_long_for_a_local_file_name_fails_in_one_line_naming_it(tmp_path: Path) -> None:
    stream = "x" * 300

    run = run_in(tmp_path, [schema_message(stream, {"id": {"type": "integer"}}), record_message(stream, {"id": 1})])

    assert run.exit_code == 1, run.stderr[-800:]
    assert run.states == []
    [line] = run.error_lines  # names the object key it could not create, whose name holds the whole stream name
    assert f"object key '_meta/sequences/{stream}.json'" in line, line
    assert "is 305 bytes, over the 255 a local file system allows" in line, line
    assert ".tmp" not in line, line
    assert bucket_audit.data_files(tmp_path / "bucket") == []


def test_a_stream_named_like_one_of_an_earlier_run_fails_keeping_the_earlier_files(tmp_path: Path) -> None:
    first = run_in(tmp_path, [schema_message("a/b", {"id": {"type": "integer"}}), record_message("a/b", {"id": 1})])
    written = bucket_audit.fingerprints(tmp_path / "bucket")

    second = run_in(tmp_path, [schema_message("a_b", {"id": {"type": "integer"}}), record_message("a_b", {"id": 2})])

    assert first.exit_code == 0, first.stderr[-800:]
    assert_refused(second, "stream 'a_b'", "earlier runs used for stream 'a/b'")
    assert bucket_audit.fingerprints(tmp_path / "bucket") == written


def nested(depth: int) -> dict:
    value: dict = {"leaf": "bottom"}
    for level in range(depth):
        value = {"level": level, "child": value}
    return value


def test_deeply_nested_and_huge_values_round_trip(tmp_path: Path) -> None:
    doc_schema = {"id": {"type": "integer"}, "doc": {"type": ["object", "null"]}, "text": {"type": ["string", "null"]}}
    deep = nested(200)
    huge = "cio" * 4_000_000  # 12 MB in one cell
    messages = [
        schema_message("docs", doc_schema, key_properties=["id"]),
        record_message("docs", {"id": 1, "doc": deep, "text": "small"}),
        record_message("docs", {"id": 2, "doc": {"k": "v"}, "text": huge}),
        state_message(GOOD_STATE),
    ]

    run = run_in(tmp_path, messages)

    assert run.exit_code == 0, run.last_stderr_line
    by_id = {r["id"]: r for r in rows(tmp_path / "bucket")}
    assert json.loads(by_id[1]["doc"]) == deep
    assert by_id[2]["text"] == huge
    assert run.states == [GOOD_STATE]


def test_state_with_decimals_is_emitted_digit_for_digit(tmp_path: Path) -> None:
    exact = (
        '{"type": "STATE", "value": {"bookmarks": {"deliveries": '
        '{"replication_key_value": 1732290000.123456789012345, "ratio": 0.1, "huge": 1e400}}}}'
    )

    run = run_in(tmp_path, [SCHEMA, delivery("1"), exact])

    assert run.exit_code == 0, run.last_stderr_line
    [emitted] = [json.loads(line, parse_float=decimal.Decimal) for line in run.stdout.splitlines() if line.strip()]
    sent = json.loads(exact, parse_float=decimal.Decimal)["value"]
    assert emitted == sent
    for name in ("replication_key_value", "ratio", "huge"):
        assert str(emitted["bookmarks"]["deliveries"][name]) == str(sent["bookmarks"]["deliveries"][name])


@pytest.mark.parametrize("stdin", [b"", b"\n\n  \n"], ids=["empty", "blank-lines"])
def test_empty_input_writes_nothing_and_succeeds(tmp_path: Path, stdin: bytes) -> None:
    run = run_in(tmp_path, stdin)

    assert run.exit_code == 0, run.last_stderr_line
    assert bucket_audit.data_files(tmp_path / "bucket") == []
    assert run.stdout.strip() == ""


def test_a_failed_upload_exits_non_zero_without_emitting_state(tmp_path: Path) -> None:
    (tmp_path / "deliveries").write_text("a regular file where the stream's folder must go")
    messages = [SCHEMA, record_message("deliveries", {"id": "a"}), state_message({"bookmark": 1})]
    config = {"bucket_url": str(tmp_path), "file_name_template": "{stream}/{sequence}.{format}"}
    run = run_target(messages, config)
    assert run.exit_code == 1
    assert run.states == []
    assert len(run.error_lines) == 1
    assert not list((tmp_path / "_meta").rglob("manifests/*"))


def test_state_received_before_a_failing_stream_is_not_emitted_either(tmp_path: Path) -> None:
    (tmp_path / "b").write_text("blocks the folder of stream b")
    messages = [
        schema_message("a", {"id": {"type": "integer"}}),
        record_message("a", {"id": 1}),
        state_message({"a": 1}),
        schema_message("b", {"id": {"type": "integer"}}),
        record_message("b", {"id": 1}),
        state_message({"a": 1, "b": 1}),
    ]
    run = run_target(messages, {"bucket_url": str(tmp_path), "file_name_template": "{stream}/{sequence}.{format}"})
    assert run.exit_code == 1
    assert run.states == []


def test_sigterm_while_waiting_for_input_commits_what_was_read_with_its_state(tmp_path: Path) -> None:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({"bucket_url": str(tmp_path / "bucket"), "batch_size_rows": 1}))
    process = subprocess.Popen(  # our own console script
        [str(TARGET_EXECUTABLE), "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stderr is not None
    process.stdin.write(
        singer_lines(
            [
                SCHEMA,
                record_message("deliveries", {"id": "a"}),
                state_message({"n": 1}),
                record_message("deliveries", {"id": "b"}),
            ]
        )
    )
    process.stdin.flush()
    drains = 0
    for line in process.stderr:  # each record is drained into the open file; the second drain
        drains += b"batch_processing_time" in line  # proves the STATE before it was read
        if drains == 2:
            break
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert stdout.decode().splitlines() == ['{"n":1}']
    [written] = data_files(tmp_path / "bucket")
    assert read_parquet(tmp_path / "bucket", written).column("id").to_pylist() == ["a", "b"]
