"""The target's progress line: one per stream every few seconds while records arrive (records so far, rate)."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from target_parquet_bucket import progress
from target_parquet_bucket.progress import StreamProgress
from target_parquet_bucket.target import TargetParquetBucket


class SteppedClock:
    """A clock the test moves by hand, so no test waits for real time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_interval_with_records_so_far_and_rate(caplog: pytest.LogCaptureFixture) -> None:
    clock = SteppedClock()
    stream = StreamProgress("messages", interval=5.0, clock=clock)
    caplog.set_level(logging.INFO, logger=progress.__name__)

    for _ in range(12):
        clock.now += 1.0
        stream.add(1000)
    stream.add(500)

    assert caplog.messages == ["messages: 5,000 records so far (1,000/s)", "messages: 10,000 records so far (1,000/s)"]


def test_a_stream_shorter_than_the_interval_logs_no_line(caplog: pytest.LogCaptureFixture) -> None:
    clock = SteppedClock()
    stream = StreamProgress("segments", interval=5.0, clock=clock)
    caplog.set_level(logging.INFO, logger=progress.__name__)

    for _ in range(10_000):
        stream.add()
    clock.now += 4.9
    stream.add()

    assert caplog.messages == []


def test_the_target_counts_each_streams_records_as_they_arrive_across_schema_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With a zero interval every record gives a line, so the last line per stream is its count."""
    monkeypatch.setattr(progress, "PROGRESS_INTERVAL_SECONDS", 0.0)
    monkeypatch.setattr(progress, "_streams", {})
    caplog.set_level(logging.INFO, logger=progress.__name__)
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    wider = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
    messages = [
        {"type": "SCHEMA", "stream": "people", "schema": schema, "key_properties": ["id"]},
        {"type": "SCHEMA", "stream": "segments", "schema": schema, "key_properties": ["id"]},
        *({"type": "RECORD", "stream": "people", "record": {"id": n}} for n in range(3)),
        {"type": "RECORD", "stream": "segments", "record": {"id": 1}},
        {"type": "SCHEMA", "stream": "people", "schema": wider, "key_properties": ["id"]},
        *({"type": "RECORD", "stream": "people", "record": {"id": n, "name": "x"}} for n in range(3, 5)),
    ]
    lines = io.BytesIO(b"".join(json.dumps(message).encode() + b"\n" for message in messages))

    TargetParquetBucket(config={"bucket_url": str(tmp_path)}).listen(file_input=lines)  # type: ignore[arg-type]  # SDK says IO[str]; reader.py reads bytes

    last = {message.split(":")[0]: message for message in caplog.messages}
    assert last["people"].startswith("people: 5 records so far (")
    assert last["segments"].startswith("segments: 1 records so far (")
