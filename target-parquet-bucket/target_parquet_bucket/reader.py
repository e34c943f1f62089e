"""The Singer message reader: RECORD lines bypass per-record parsing.

singer-sdk's readers turn every line into a dict (floats as Decimal) before the target sees it.
For RECORD lines that is most of the cost, so this reader reads the input in blocks, finds each
run of consecutive RECORD lines of one stream (by their common prefix, without a Python step per
line) and hands the run's raw bytes to the target, which decodes them per batch. Lines in another
layout have their `type` and `stream` peeked by msgspec (which skips the rest without building
objects). SCHEMA, STATE, ACTIVATE_VERSION and BATCH lines take the SDK path.
"""

from __future__ import annotations

import contextlib
import decimal
import io
import itertools
import os
import select
import stat
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

#: Called with (stream, a run of consecutive RECORD lines of that stream, the first one's line number).
RawRecordHandler = t.Callable[[str, list[bytes], int], None]
#: Input is read in blocks of up to this size (`read1`: whatever has arrived, so a slow tap's lines
#: are handled as soon as they come, not when a block is full).
_BLOCK_BYTES = 1024 * 1024
#: A run of RECORD lines is measured this many lines at a time, so a run of 3 lines in a block of
#: 10,000 does not compare the other 9,997 (doubling up to the block's end for long runs).
_FIRST_RUN_PROBE = 64


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


def _line_blocks(source: t.IO[t.Any], on_idle: t.Callable[[], None] | None = None) -> t.Iterator[list[bytes]]:
    """The input's lines, a block at a time, without line endings (a `\\r` before them stays: JSON
    whitespace). A line longer than a block is gathered from its pieces. `on_idle` is called before
    a read that would wait for input.

    Text inputs (tests, `Target.listen(file_input=StringIO(...))`) have no `read1`: their lines are
    encoded one by one and grouped, which is slower but only ever used off the hot path.
    """
    if isinstance(source, io.TextIOBase):
        buffer = getattr(source, "buffer", None)
        if buffer is None:
            lines = (line.rstrip("\n").encode() for line in source)
            while block := list(itertools.islice(lines, 1024)):
                yield block
            return
        source = buffer
    read = getattr(source, "read1", source.read)  # an unbuffered file has no read1
    ready = _ready_check(source)
    pieces: list[bytes] = []
    while True:
        if on_idle is not None and not ready():
            on_idle()  # the next read waits for the writer: nothing else would be done meanwhile
        if not (chunk := read(_BLOCK_BYTES)):
            break
        lines = chunk.split(b"\n")
        if len(lines) == 1:  # no line ends in this chunk: part of a long line
            pieces.append(chunk)
            continue
        if pieces:
            lines[0] = b"".join([*pieces, lines[0]])
            pieces = []
        if lines[-1]:
            pieces.append(lines[-1])
        del lines[-1]
        yield lines
    if pieces:  # the last line had no line end
        yield [b"".join(pieces)]


def _ready_check(source: t.IO[bytes]) -> t.Callable[[], bool]:
    """Whether `source` has input to read without waiting, as `select` tells for its file descriptor
    (a file is always ready). In-memory input is always ready; where `select` cannot tell (pipes on
    Windows), every read counts as one that waits."""
    try:
        fd = source.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last two
        return lambda: True

    def ready() -> bool:
        try:
            return bool(select.select([fd], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    return ready


def _widen_pipe(fd: int) -> None:
    """Let a pipe on `fd` hold a whole read block instead of Linux's default 64 KiB, where the
    system allows it (`/proc/sys/fs/pipe-max-size`, 1 MiB by default).

    With the default, a tap (or Meltano) writing into the pipe and this target reading from it
    take turns every 64 KiB: on 1M `messages` through `cat | target` that cost 0.2-2.5 s more wall
    time (6.0-7.4 s with 1 MiB, three alternating runs) and up to 1.4 s more system time. Python's
    `fcntl` has the constant on Linux only; elsewhere, on a file or a socket, or when refused, the
    input is read as it is.
    """
    try:
        import fcntl  # Unix only
    except ImportError:  # Windows: no pipe size to set
        return
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    try:
        if set_size is not None and stat.S_ISFIFO(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, set_size, _BLOCK_BYTES)
    except OSError:  # EPERM beyond the system's maximum, EBUSY when the pipe holds more than that
        return


def _run_length(lines: list[bytes], start: int, prefix: bytes) -> int:
    """How many lines from `start` on begin with `prefix` (at least one: the caller checked `start`)."""
    end, probe = start + 1, _FIRST_RUN_PROBE
    while end < len(lines):
        stop = min(len(lines), end + probe)
        matches = list(map(bytes.startswith, lines[end:stop], itertools.repeat(prefix)))
        if not all(matches):
            return end + matches.index(False) - start
        end, probe = stop, probe * 2
    return end - start


class FastSingerReader(GenericSingerReader[bytes]):
    """Reads bytes; RECORD lines go to `raw_record_handler` when one is set."""

    def __init__(self) -> None:
        """No handler until the target decides the fast path applies (no stream maps)."""
        super().__init__()
        self.raw_record_handler: RawRecordHandler | None = None
        #: Called when the next read would wait for input (see `_line_blocks`).
        self.idle_handler: t.Callable[[], None] | None = None
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
        if frame is not None and frame.f_code in _READING_LOOP:
            raise _StopReading

    @property
    def default_input(self) -> t.IO[bytes]:
        """Standard input, as bytes (no text decoding of lines we never look into), read in blocks
        (see `_line_blocks`); a pipe is widened first (see `_widen_pipe`)."""
        _widen_pipe(sys.stdin.fileno())
        return open(sys.stdin.fileno(), "rb", buffering=_BLOCK_BYTES, closefd=False)

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
        source: t.IO[t.Any],
        callbacks: dict[str, t.Callable[[dict], None]],
        stats: dict[str, int],
    ) -> None:
        """The loop over input blocks (a stop signal may interrupt it between two runs of lines)."""
        handler = self.raw_record_handler
        records = 0
        # Lines of one stream come in runs: the prefix of the last RECORD line seen finds the next run.
        last_prefix, last_stream = b"\0", ""
        number = 0  # of the line before the block
        try:
            for lines in _line_blocks(source, self.idle_handler):
                position = 0
                while position < len(lines):
                    if self._stop_requested:
                        return
                    line = lines[position]
                    if handler is not None:
                        if not line.startswith(last_prefix) and (peeked := _peek_record_stream(line)):
                            last_stream, last_prefix = peeked
                        if line.startswith(last_prefix):
                            run = _run_length(lines, position, last_prefix)
                            handler(last_stream, lines[position : position + run], number + position + 1)
                            records += run
                            position += run
                            continue
                    position += 1
                    if line[:1] != b"{" and not line.strip():
                        continue
                    stats[self._route_message(line, number + position, callbacks, handler)] += 1
                number += len(lines)
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
            handler(envelope.stream, [line], number)
        elif callback := callbacks.get(kind):
            try:
                callback(self.deserialize_json(line))
            except InvalidInputLine as exc:
                raise InvalidInputLine(f"input line {number}: {exc}") from None
        else:
            refuse_unknown_message(self, kind)
        return kind


#: Code of the frames in which a stop request may end reading at once (see `request_stop`).
_READING_LOOP = (FastSingerReader._route.__code__, _line_blocks.__code__)
