"""Singer messages to stdout: RECORD lines buffered, every other message flushed with what preceded it.

singer-sdk's msgspec writer flushes stdout after every message: one `write` system call per record, the
largest single cost of writing a `messages` record to a file or a pipe. Here RECORD lines are collected
(written in blocks of `RECORD_BUFFER_BYTES`) and every other message (SCHEMA, STATE, ACTIVATE_VERSION, BATCH)
writes them and flushes stdout. So a target still receives each STATE right after the records it covers, and
a tap that dies loses from its output at most records that no STATE vouched for (the next run reads them
again).
"""

from __future__ import annotations

import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib import Message, RecordMessage

if t.TYPE_CHECKING:
    import datetime


#: RECORD lines are collected up to this many bytes and written to stdout at once: stdout's own buffer holds
#: 8 KiB, about ten `messages` lines, so writing line by line cost a system call per ten records.
RECORD_BUFFER_BYTES = 1 << 16


class RecordBufferingWriter(MsgSpecWriter):
    """singer-sdk's msgspec writer, RECORD lines collected and written with the next message that is not one."""

    def __init__(self) -> None:
        super().__init__()
        self._records = bytearray()

    def write_message(self, message: Message) -> None:
        """Write `message` to stdout after the RECORD lines before it; flush unless it is a RECORD."""
        if isinstance(message, RecordMessage):
            self._records += self.format_message(message)  # a copy: the encoder reuses its buffer
            self._write_if_full()
            return
        self.flush_records()
        sys.stdout.buffer.write(self.format_message(message))
        sys.stdout.flush()

    def write_record(
        self, stream: str, record: dict[str, t.Any], version: int | None, time_extracted: datetime.datetime
    ) -> None:
        """Write the RECORD line of `record`, byte for byte what `write_message` writes for the `RecordMessage`
        (the same dict, in `RecordMessage.to_dict`'s key order, through the same encoder), without building the
        message object first: a fifth of the cost of writing a `messages` record."""
        message: dict[str, t.Any] = {"type": "RECORD", "stream": stream, "record": record}
        if version is not None:
            message["version"] = version
        message["time_extracted"] = time_extracted
        encoder.encode_into(message, self._records, -1)
        self._records += b"\n"
        self._write_if_full()

    def _write_if_full(self) -> None:
        if len(self._records) >= RECORD_BUFFER_BYTES:
            self.flush_records()

    def flush_records(self) -> None:
        """Hand the collected RECORD lines to stdout."""
        if self._records:
            sys.stdout.buffer.write(self._records)
            self._records.clear()
