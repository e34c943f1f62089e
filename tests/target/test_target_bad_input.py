"""Bad input and failed uploads: one error line naming stream and input line, exit code 1, no
STATE past data that is not in the bucket, nothing outside the bucket."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from target.target_runs import (
    TARGET_EXECUTABLE,
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
    {"id": {"type": "string"}, "n": {"type": ["null", "integer"]}, "x": {"type": ["null", "number"]}},
    key_properties=["id"],
)


def failing_run(tmp_path: Path, *lines: object) -> str:
    """Run on SCHEMA + a good record + `lines` + STATE; assert a clean failure; return its error line."""
    messages = [SCHEMA, record_message("deliveries", {"id": "ok", "n": 1}), *lines, state_message({"n": 1})]
    run = run_target(messages, {"bucket_url": str(tmp_path)})
    assert run.exit_code == 1
    assert run.states == []
    assert len(run.error_lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    return run.error_lines[0]


def test_malformed_json_names_the_input_line(tmp_path: Path) -> None:
    error = failing_run(tmp_path, '{"type": "RECORD", "stream": "deliveries", "record": {"id": "a"')
    assert "input line 3" in error


@pytest.mark.parametrize(
    ("record_json", "reason"),
    [
        ('{"id": "a", "n": "seven"}', "Expected `int | null`, got `str`"),
        ('{"id": "a", "n": 92233720368547758070}', "int64"),
        ('{"id": "a", "x": NaN}', "JSON"),
        ('{"id": "a", "x": Infinity}', "JSON"),
        ('{"id": "a", "x": 1e999}', "out of range"),
    ],
)
def test_a_record_violating_its_schema_names_stream_line_and_field(
    tmp_path: Path, record_json: str, reason: str
) -> None:
    line = '{"type": "RECORD", "stream": "deliveries", "record": ' + record_json + "}"
    error = failing_run(tmp_path, line)
    assert reason in error
    if "JSON" not in reason:
        assert "stream 'deliveries', input line 3" in error


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


def test_non_utf8_text_is_rejected_with_its_line(tmp_path: Path) -> None:
    line = b'{"type": "RECORD", "stream": "deliveries", "record": {"id": "caf\xe9"}}'
    error = failing_run(tmp_path, line)
    assert "input line 3" in error
    assert "UTF-8" in error or "utf-8" in error


def test_a_record_before_its_schema_names_the_stream_and_line(tmp_path: Path) -> None:
    error = failing_run(tmp_path, record_message("unknown_stream", {"id": 1}))
    assert "stream 'unknown_stream', input line 3: RECORD before any SCHEMA of its stream" in error


def test_a_record_without_its_key_property_is_rejected(tmp_path: Path) -> None:
    error = failing_run(tmp_path, record_message("deliveries", {"n": 2}))
    assert "key property 'id' is missing" in error
    assert "input line 3" in error


def test_a_null_in_a_required_non_nullable_column_is_rejected_not_stored_as_zero(tmp_path: Path) -> None:
    schema = schema_message("s", {"n": {"type": "integer"}}, required=["n"])
    run = run_target([schema, record_message("s", {"n": None})], {"bucket_url": str(tmp_path)})
    assert run.exit_code == 1
    assert "stream 's', input line 2" in run.error_lines[0]


def test_records_of_a_stream_without_declared_properties_are_refused_not_dropped(tmp_path: Path) -> None:
    messages = [schema_message("bare", {}), record_message("bare", {"a": 1})]
    run = run_target(messages, {"bucket_url": str(tmp_path)})
    assert run.exit_code == 1
    assert "stream 'bare', input line 2: its SCHEMA declares no properties" in run.error_lines[0]


@pytest.mark.parametrize("stream", ["../escape", "/abs/path", "a/../../b", "..", "x\\..\\y"])
def test_stream_names_never_leave_the_bucket_prefix(tmp_path: Path, stream: str) -> None:
    bucket = tmp_path / "bucket"
    messages = [schema_message(stream, {"id": {"type": "integer"}}), record_message(stream, {"id": 1})]
    run = run_target(messages, {"bucket_url": str(bucket)})
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and bucket not in p.parents]
    assert outside == []
    if run.exit_code == 0:
        (key,) = data_files(bucket)
        assert "/" not in key and not key.startswith(".")
        assert read_parquet(bucket, key).column("id").to_pylist() == [1]
    else:
        assert "no characters usable" in run.error_lines[0]


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
