"""The Singer message reader: RECORD lines bypass per-record parsing.

singer-sdk's readers turn every line into a dict (floats as Decimal) before the target sees it.
For RECORD lines that is most of the cost, so this reader only peeks at `type` and `stream`
(msgspec skips the rest without building objects) and hands the raw bytes to the target, which
decodes them per batch. SCHEMA, STATE, ACTIVATE_VERSION and BATCH lines take the SDK path.
"""

from __future__ import annotations

import contextlib
import decimal
import sys
import typing as t
from collections import Counter, defaultdict

import msgspec
from singer_sdk.singerlib.encoding.base import GenericSingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_parquet_bucket.decoding import TOO_DEEP as _TOO_DEEP
from target_parquet_bucket.sdk_hooks import refuse_unknown_message

if t.TYPE_CHECKING:
    from types import FrameType

RawRecordHandler = t.Callable[[str, bytes, int], None]
_STDIN_BUFFER_BYTES = 1024 * 1024


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


def _excerpt(line: bytes) -> str:
    return repr(line[:120])


class _StopReading(Exception):  # a control-flow signal, not an error
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
        if frame is not None and frame.f_code is FastSingerReader._route.__code__:
            raise _StopReading

    @property
    def default_input(self) -> t.IO[bytes]:
        """Standard input, as bytes (no text decoding of lines we never look into), read through
        a 1 MiB buffer: a few large reads instead of one per 8 KiB."""
        return open(sys.stdin.fileno(), "rb", buffering=_STDIN_BUFFER_BYTES, closefd=False)

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
        """The loop over input lines (a stop signal may interrupt it between two lines)."""
        handler = self.raw_record_handler
        records = 0
        # Lines of one stream usually come in runs: remember the last RECORD prefix seen.
        last_prefix, last_stream = b"\0", ""
        try:
            for number, raw in enumerate(lines, start=1):
                if self._stop_requested:
                    break
                line = raw.encode() if isinstance(raw, str) else raw
                if handler is not None:
                    if line.startswith(last_prefix):
                        handler(last_stream, line, number)
                        records += 1
                        continue
                    if (peeked := _peek_record_stream(line)) is not None:
                        last_stream, last_prefix = peeked
                        handler(last_stream, line, number)
                        records += 1
                        continue
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
            refuse_unknown_message(self, kind)
        return kind
