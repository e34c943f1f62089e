"""How the target reads its input: in blocks of up to 1 MiB, each run of one stream's RECORD lines handed
to that stream at once. Whatever the block and run boundaries, every record lands once, in input order,
and an error names the right input line."""

from __future__ import annotations

import fcntl
import json
import random
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from target.target_runs import (
    TARGET_EXECUTABLE,
    assert_refused,
    data_files,
    read_parquet,
    record_message,
    run_target,
    schema_message,
    singer_lines,
    state_message,
)

SCHEMA = {"id": {"type": "integer"}, "text": {"type": ["string", "null"]}, "doc": {"type": ["object", "null"]}}


def config(tmp_path: Path, **settings: object) -> dict:
    return {"bucket_url": str(tmp_path / "bucket"), "workspace_id": "42", **settings}


def rows(tmp_path: Path, stream: str) -> list[dict]:
    keys = [key for key in data_files(tmp_path / "bucket") if key.startswith(f"{stream}_")]
    return [row for key in keys for row in read_parquet(tmp_path / "bucket", key).to_pylist()]


def test_interleaved_runs_of_two_streams_land_in_input_order_with_batches_cut_by_rows_and_by_bytes(
    tmp_path: Path,
) -> None:
    """Runs of 1 to 5,000 lines alternate over ~12 MB (a dozen read blocks); `small` batches fill by rows
    (batch_size_rows 700), `wide` ones by bytes (10 KB records, batch_size_mb 1)."""
    rng = random.Random(5)
    messages: list[dict] = [schema_message("small", SCHEMA), schema_message("wide", SCHEMA)]
    sent: dict[str, list[int]] = {"small": [], "wide": []}
    while len(sent["small"]) < 20_000:
        stream = rng.choice(["small", "wide"])
        for _ in range(rng.choice([1, 2, 37, 700, 5_000]) if stream == "small" else rng.choice([1, 3, 150])):
            number = len(sent[stream])
            text = "x" * (10_000 if stream == "wide" else 3)
            messages.append(record_message(stream, {"id": number, "text": text, "doc": {"n": number}}))
            sent[stream].append(number)
    messages.append(state_message({"done": True}))

    run = run_target(messages, config(tmp_path, batch_size_rows=700, batch_size_mb=1))

    assert run.exit_code == 0, run.stderr[-2000:]
    assert run.states == [{"done": True}]
    for stream, numbers in sent.items():
        written = rows(tmp_path, stream)
        assert [row["id"] for row in written] == numbers
        assert all(json.loads(row["doc"]) == {"n": row["id"]} for row in written)


def test_a_bad_record_deep_in_a_run_spanning_several_blocks_is_named_by_its_line(tmp_path: Path) -> None:
    messages: list[dict | str] = [schema_message("events", SCHEMA)]
    messages += [record_message("events", {"id": n, "text": "y" * 100}) for n in range(30_000)]
    messages[25_000] = '{"type": "RECORD", "stream": "events", "record": {"id": "not a number"}}'

    run = run_target(messages, config(tmp_path))

    assert_refused(run, "stream 'events', input line 25001", "int")


def test_records_in_other_layouts_and_key_orders_are_read_like_the_sdk_layout(tmp_path: Path) -> None:
    layouts = [
        '{"type": "RECORD", "stream": "events", "record": {"id": %d}}',
        '{"type":"RECORD","stream":"events","record":{"id":%d}}',
        '{"stream": "events", "type": "RECORD", "record": {"id": %d}}',
        '{"record": {"id": %d}, "type": "RECORD", "stream": "events"}',
        '  {"type" : "RECORD", "stream" : "events", "record" : {"id" : %d}}  ',
        '{"type": "RECORD", "stream": "ev\\u0065nts", "record": {"id": %d}}',
    ]
    lines = [json.dumps(schema_message("events", SCHEMA))]
    lines += [layouts[(n // 3) % len(layouts)] % n for n in range(600)]

    run = run_target(lines, config(tmp_path))

    assert run.exit_code == 0, run.stderr[-2000:]
    assert [row["id"] for row in rows(tmp_path, "events")] == list(range(600))


def test_crlf_line_ends_blank_lines_and_a_last_line_without_a_line_end_are_read(tmp_path: Path) -> None:
    lines = [json.dumps(schema_message("events", SCHEMA))]
    lines += [json.dumps(record_message("events", {"id": n})) for n in range(5)]
    data = ("\r\n".join(lines[:3]) + "\r\n\r\n\n" + "\n".join(lines[3:])).encode()  # no final line end

    run = run_target(data, config(tmp_path))

    assert run.exit_code == 0, run.stderr[-2000:]
    assert [row["id"] for row in rows(tmp_path, "events")] == list(range(5))


def test_a_line_longer_than_a_read_block_lands_whole_between_runs_of_short_ones(tmp_path: Path) -> None:
    long_text = "é" * 1_800_000  # 3.6 MB of UTF-8 in one line: gathered from several reads
    messages = [schema_message("events", SCHEMA)]
    messages += [record_message("events", {"id": n, "text": "short"}) for n in range(3)]
    messages.append(record_message("events", {"id": 3, "text": long_text}))
    messages += [record_message("events", {"id": n, "text": "short"}) for n in range(4, 7)]
    data = singer_lines(messages)
    assert len(data) > 3 * 1024 * 1024

    run = run_target(data, config(tmp_path))

    assert run.exit_code == 0, run.stderr[-2000:]
    written = rows(tmp_path, "events")
    assert [row["id"] for row in written] == list(range(7))
    assert written[3]["text"] == long_text
    assert pq.read_metadata(tmp_path / "bucket" / data_files(tmp_path / "bucket")[0]).num_rows == 7


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are set through fcntl on Linux only")
def test_a_pipe_on_stdin_is_widened_to_hold_a_whole_read_block(tmp_path: Path) -> None:
    """The writer and the target then take turns every MiB rather than every 64 KiB (Linux's default)."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config(tmp_path)))
    target = subprocess.Popen(
        [str(TARGET_EXECUTABLE), "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert target.stdin is not None
    pipe = target.stdin.fileno()
    default_size = fcntl.fcntl(pipe, fcntl.F_GETPIPE_SZ)
    target.stdin.write(singer_lines([schema_message("events", SCHEMA), record_message("events", {"id": 1})]))
    target.stdin.flush()
    deadline = time.monotonic() + 60
    while fcntl.fcntl(pipe, fcntl.F_GETPIPE_SZ) == default_size and time.monotonic() < deadline:
        time.sleep(0.05)
    widened = fcntl.fcntl(pipe, fcntl.F_GETPIPE_SZ)
    _, stderr = target.communicate(timeout=60)

    assert (default_size, widened) == (64 * 1024, 1024 * 1024)
    assert target.returncode == 0, stderr.decode()[-2000:]
    assert [row["id"] for row in rows(tmp_path, "events")] == [1]
