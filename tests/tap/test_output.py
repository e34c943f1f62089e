"""What reaches stdout when: RECORD lines may wait in the buffer, every other message goes out at once and
takes the records before it along, so a target never holds a STATE without the records it covers."""

from __future__ import annotations

import contextlib
import datetime
import io
from collections.abc import Callable

import pytest
from cio_simulator import Simulator
from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage
from tap.tap_harness import run_tap, tap_config

from tap_customerio.output import RECORD_BUFFER_BYTES, RecordBufferingWriter
from tap_customerio.tap import TapCustomerIO


class RecordedStdout:
    """A stdout that keeps what had been written each time it was flushed."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.flushes: list[list[str]] = []

    def flush(self) -> None:
        self.flushes.append([line.split('"type":"')[1].split('"')[0] for line in self.lines()])

    def lines(self) -> list[str]:
        return self.buffer.getvalue().decode().splitlines()


def test_records_are_flushed_with_the_next_state_not_one_by_one() -> None:
    writer = TapCustomerIO.message_writer_class()
    stdout = RecordedStdout()
    now = datetime.datetime.now(datetime.timezone.utc)
    with contextlib.redirect_stdout(stdout):  # type: ignore[type-var]  # the writer needs `buffer` and `flush` only
        writer.write_message(SchemaMessage(stream="s", schema={"type": "object"}, key_properties=[]))
        for n in range(3):
            writer.write_message(RecordMessage(stream="s", record={"n": n}, time_extracted=now))
        writer.write_message(StateMessage(value={"bookmarks": {"s": {"n": 2}}}))
        writer.write_message(RecordMessage(stream="s", record={"n": 3}, time_extracted=now))
    assert stdout.flushes == [["SCHEMA"], ["SCHEMA", "RECORD", "RECORD", "RECORD", "STATE"]]
    assert len(stdout.lines()) == 5  # the last record waits in the writer for the next message or the end


def test_record_lines_reach_stdout_in_blocks_not_one_by_one() -> None:
    writer = TapCustomerIO.message_writer_class()
    stdout = RecordedStdout()
    now = datetime.datetime.now(datetime.timezone.utc)
    record = {"text": "x" * 1000}
    with contextlib.redirect_stdout(stdout):  # type: ignore[type-var]  # the writer needs `buffer` and `flush` only
        sizes = []
        for _ in range(2 * RECORD_BUFFER_BYTES // 1000):
            writer.write_record("s", record, None, now)
            sizes.append(len(stdout.buffer.getvalue()))
    line = len(stdout.lines()[0]) + 1
    block = line * (RECORD_BUFFER_BYTES // line + 1)  # the first line reaching the block size completes it
    assert sorted(set(sizes)) == [0, block, 2 * block]


def written(write: Callable[[RecordBufferingWriter], None]) -> bytes:
    """The bytes one writer call puts on stdout."""
    stdout = RecordedStdout()
    with contextlib.redirect_stdout(stdout):  # type: ignore[type-var]  # the writer needs `buffer` and `flush` only
        writer = TapCustomerIO.message_writer_class()
        write(writer)
        writer.flush_records()
    return stdout.buffer.getvalue()


@pytest.mark.parametrize("version", [None, 1764540000])
def test_a_record_written_directly_is_the_line_singer_sdk_writes_for_its_record_message(version: int | None) -> None:
    record = {"id": "dgQ", "created": "2026-01-01T00:00:00+00:00", "metrics": {"opened": None}, "subject": "Grüße 👋"}
    now = datetime.datetime.now(datetime.timezone.utc)
    message = RecordMessage(stream="messages", record=record, version=version, time_extracted=now)

    direct = written(lambda writer: writer.write_record("messages", record, version, now))

    assert direct == written(lambda writer: writer.write_message(message))
    assert direct.endswith(b"\n") and direct.count(b"\n") == 1


def test_stream_maps_still_shape_the_records_and_their_schema(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.2)
    maps = {"campaigns": {"name": None, "label": "str(id) + name"}, "segments": {"__alias__": "audiences"}}
    config = tap_config(sim, stream_maps=maps)
    plain = run_tap(tap_config(sim), ["campaigns", "segments"])

    mapped = run_tap(config, ["campaigns", "segments"])

    campaigns = plain.records["campaigns"]
    assert campaigns
    assert mapped.records["campaigns"] == [
        {**{k: v for k, v in c.items() if k != "name"}, "label": f"{c['id']}{c['name']}"} for c in campaigns
    ]
    assert "name" not in mapped.schema("campaigns")["properties"]
    assert "segments" not in mapped.records
    assert mapped.records["audiences"] == plain.records["segments"]


def test_flattening_still_flattens_nested_properties(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.2)

    run = run_tap(tap_config(sim, flattening_enabled=True, flattening_max_depth=1), ["messages"])

    records = run.records["messages"]
    assert records
    assert all("metrics" not in record for record in records)
    assert any(key.startswith("metrics__") for key in records[0])
