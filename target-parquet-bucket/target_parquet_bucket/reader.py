"""The Singer message reader: RECORD lines bypass per-record parsing.

singer-sdk's readers turn every line into a dict (floats as Decimal) before the target sees it.
For RECORD lines that is most of the cost, so this reader only peeks at `type` and `stream`
(msgspec skips the rest without building objects) and hands the raw bytes to the target, which
decodes them per batch. SCHEMA, STATE, ACTIVATE_VERSION and BATCH lines take the SDK path.

Input is read in large blocks, and a run of RECORD lines of one stream (the lines that start like
the previous one) is found by one regex search over the block and handed over whole: no Python
work per line, which was a sixth of the target's time.
"""

from __future__ import annotations

import contextlib
import decimal
import io
import re
import sys
import typing as t
from collections import Counter, defaultdict

import msgspec
from singer_sdk.singerlib.encoding.base import GenericSingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine

if t.TYPE_CHECKING:
    from types import FrameType

#: (stream, one or more complete RECORD lines of that stream, number of the first line)
RawRecordHandler = t.Callable[[str, bytes, int], None]

#: Bytes asked of the input per read: one read returns what is there (a pipe holds 64 KiB), so
#: a slow tap's lines are handled as they come; a file or a full pipe fills large blocks.
_BLOCK_BYTES = 1024 * 1024


class Envelope(msgspec.Struct):
    """The two fields every routing decision needs."""

    type: str
    stream: str | None = None


_envelope = msgspec.json.Decoder(Envelope)
# Non-RECORD messages keep the SDK's Decimal floats so STATE values round-trip exactly.
_message = msgspec.json.Decoder(dict, float_hook=decimal.Decimal)


#: How singer-sdk (json.dumps / msgspec) starts RECORD lines. For these the stream name is sliced
#: out without parsing; the line is still fully parsed, with its line number, when its batch is
#: decoded, so nothing malformed gets through (see decoding.BatchDecoder).
_RECORD_PREFIXES = (b'{"type": "RECORD", "stream": "', b'{"type":"RECORD","stream":"')


def _peek_record_stream(line: bytes) -> tuple[str, bytes] | None:
    """(stream, the line's prefix up to the stream name's closing quote) of a RECORD line in the
    SDK's canonical layout, else None (then: a full parse of the envelope)."""
    for prefix in _RECORD_PREFIXES:
        if line.startswith(prefix):
            end = line.find(b'"', len(prefix))
            name = line[len(prefix) : end]
            if end > 0 and b"\\" not in name:
                try:
                    return name.decode(), line[: end + 1]
                except UnicodeDecodeError:
                    return None
    return None


_TOO_DEEP = "a value nests objects/arrays too deeply to decode (the limit is about 1,000 levels)"


def _run_end(prefix: bytes) -> re.Pattern[bytes]:
    """Finds the end of a run: the first newline not followed by `prefix` (or the block's end)."""
    return re.compile(b"\n(?!" + re.escape(prefix) + b")")


def _blocks(source: t.Iterable[bytes | str]) -> t.Iterator[bytes]:
    """The input as blocks of whole lines (the last block may lack its final newline).

    Binary inputs are read in large blocks; any other iterable of lines (text streams in tests)
    is passed on line by line.
    """
    read = getattr(source, "read1", None)
    if read is None or isinstance(source, io.TextIOBase):
        for raw in source:
            yield raw.encode() if isinstance(raw, str) else raw
        return
    pending: list[bytes] = []  # a line longer than one read, in parts: joined once, not quadratically
    while data := read(_BLOCK_BYTES):
        cut = data.rfind(b"\n") + 1
        if not cut:
            pending.append(data)
            continue
        if pending:
            pending.append(data[:cut])
            yield b"".join(pending)
            pending.clear()
        else:
            yield data if cut == len(data) else data[:cut]
        if cut < len(data):
            pending.append(data[cut:])
    if pending:
        yield b"".join(pending)


def _excerpt(line: bytes) -> str:
    return repr(line[:120])


class _StopReading(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised by a termination signal that arrives while the reader waits for the next line."""


class FastSingerReader(GenericSingerReader[bytes]):
    """Reads bytes; RECORD lines go to `raw_record_handler` when one is set."""

    def __init__(self) -> None:
        """No handler until the target decides the fast path applies (no stream maps)."""
        super().__init__()
        self.raw_record_handler: RawRecordHandler | None = None
        #: Number of the line whose message is being handled (not kept for fast-path RECORD lines,
        #: which carry their number with them): lets the SDK record path name the line too.
        self.line_number = 0
        self._stop_requested = False

    def request_stop(self, frame: FrameType | None) -> None:
        """Stop reading at a line boundary; called from a SIGTERM/SIGINT handler.

        Lines already handed to the target are drained and committed with their STATE by the normal
        end-of-input path. If the signal interrupted the line loop itself (blocked on input, or
        between two lines), reading stops right there; anywhere deeper (decoding a batch, uploading)
        the current line is finished first and the loop stops before the next one.
        """
        self._stop_requested = True
        if frame is not None and frame.f_code in _INTERRUPTIBLE:
            raise _StopReading

    @property
    def default_input(self) -> t.IO[bytes]:
        """Standard input, as bytes (no text decoding of lines we never look into), with a buffer
        large enough for block reads."""
        return open(sys.stdin.fileno(), "rb", buffering=_BLOCK_BYTES, closefd=False)  # noqa: SIM115

    def deserialize_json(self, line: bytes) -> dict:
        """Full parse for non-RECORD lines (and RECORD lines on the SDK path)."""
        try:
            return _message.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            msg = f"input is not valid JSON ({exc}): {_excerpt(line)}"
            raise InvalidInputLine(msg) from None
        except RecursionError:
            raise InvalidInputLine(_TOO_DEEP) from None

    def process_lines(
        self,
        file_input: t.IO[t.Any] | None,
        callbacks: dict[str, t.Callable[[dict], None]],
    ) -> t.Counter[str]:
        """Route every line until end of input or a stop request; errors name the input line number."""
        stats: dict[str, int] = defaultdict(int)
        with contextlib.suppress(_StopReading):
            self._route(file_input or self.default_input, callbacks, stats)
        return Counter(**stats)

    def _route(
        self,
        lines: t.Iterable[bytes | str],
        callbacks: dict[str, t.Callable[[dict], None]],
        stats: dict[str, int],
    ) -> None:
        """The loop over input blocks (a stop signal may interrupt it between two handovers)."""
        handler = self.raw_record_handler
        records = 0
        number = 0  # lines before the current position
        # Lines of one stream usually come in runs: remember the last RECORD prefix seen.
        last_prefix, last_stream, run_end = b"\0", "", _run_end(b"\0")
        run_ends: dict[bytes, re.Pattern[bytes]] = {}
        try:
            for block in _blocks(lines):
                position, size = 0, len(block)
                while position < size:
                    if self._stop_requested:
                        return
                    if handler is not None and block.startswith(last_prefix, position):
                        found = run_end.search(block, position)
                        end = found.end() if found else size
                        run = block[position:end]
                        count = run.count(b"\n") + (run[-1:] != b"\n")
                        handler(last_stream, run, number + 1)
                        records += count
                        number += count
                        position = end
                        continue
                    end = block.find(b"\n", position) + 1 or size
                    line = block[position:end]
                    if handler is not None and (peeked := _peek_record_stream(line)) is not None:
                        last_stream, last_prefix = peeked
                        run_end = run_ends.get(last_prefix) or run_ends.setdefault(last_prefix, _run_end(last_prefix))
                        continue  # the run starting here is handed over whole
                    number += 1
                    position = end
                    if line[:1] != b"{" and not line.strip():
                        continue
                    stats[self._route_message(line, number, callbacks, handler)] += 1
        finally:
            stats["RECORD"] += records

    def _route_message(
        self,
        line: bytes,
        number: int,
        callbacks: dict[str, t.Callable[[dict], None]],
        handler: RawRecordHandler | None,
    ) -> str:
        """A line not recognised as a canonical RECORD: parse its envelope, dispatch it, return its type.

        An `InvalidInputLine` raised while a message is handled (by the SDK's checks or the target's)
        is about that message, so it is given the line's number here, where it is known.
        """
        self._current_message = line
        self.line_number = number
        try:
            envelope = _envelope.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            msg = f"input line {number}: not a valid Singer message ({exc}): {_excerpt(line)}"
            raise InvalidInputLine(msg) from None
        except RecursionError:
            raise InvalidInputLine(f"input line {number}: {_TOO_DEEP}") from None
        kind = envelope.type
        if kind == "RECORD" and handler is not None:
            if envelope.stream is None:
                msg = f"input line {number}: RECORD without 'stream': {_excerpt(line)}"
                raise InvalidInputLine(msg)
            handler(envelope.stream, line, number)
        elif callback := callbacks.get(kind):
            try:
                callback(self.deserialize_json(line))
            except InvalidInputLine as exc:
                raise InvalidInputLine(f"input line {number}: {exc}") from None
        else:
            self._process_unknown_message({"type": kind})
        return kind


#: Frames in which a stop signal may end reading at once (between two handovers, or waiting for input).
_INTERRUPTIBLE = frozenset({FastSingerReader._route.__code__, _blocks.__code__})  # noqa: SLF001
