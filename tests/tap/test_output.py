"""What reaches stdout when: RECORD lines may wait in the buffer, every other message goes out at once and
takes the records before it along, so a target never holds a STATE without the records it covers."""

from __future__ import annotations

import contextlib
import datetime
import io

from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage

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
    assert len(stdout.lines()) == 6  # the last record is written, waiting for the next flush
