"""BATCH messages: the records of a stream handed over as files (singer-sdk's batch extension).

A BATCH message names a stream, an `encoding` (`format` jsonl or parquet, `compression` gzip or
none) and a `manifest` of file URLs. Its rows take the same way into the bucket as RECORD lines:

- jsonl: one record object per line (not RECORD envelopes, as singer-sdk's `JSONLinesBatcher`
  writes them). Each line is wrapped into a RECORD envelope and decoded by the stream's
  `decoding.BatchDecoder`, so the type checks and errors are those of RECORD lines.
- parquet: already Arrow; `arrow_records.ArrowRecordCaster` casts each record batch to the stream's
  columns with the same checks (types, required and key columns, nulls).

What this relies on from singer-sdk 0.54: the message layout (`helpers._batch.SDKBatchMessage`,
`BaseBatchFileEncoding`) and its storage library, fsspec (through universal_pathlib in
`helpers._batch.StorageTarget`), which opens `file://` and bucket URLs (`s3://` with s3fs, as the
SDK's `s3` extra installs). Files are opened with `fsspec.open` directly rather than through
`StorageTarget.open`, because that one creates the root folder and opens a write transaction,
which a reader must not do. Bucket credentials come from the environment (for S3 the standard AWS
chain, `AWS_ENDPOINT_URL` included), as on the tap's side that wrote the files.

Compression is read from the file itself: singer-sdk 0.54's `JSONLinesBatcher` gzips every file
even when the message says `none`, and its `ParquetBatcher` means by `gzip` the parquet codec,
not a gzipped file. A gzip stream starts with 0x1f 0x8b, which neither a JSON line nor a parquet
file (`PAR1`) can start with, so sniffing the first two bytes is unambiguous.
"""

from __future__ import annotations

import contextlib
import gzip
import typing as t

import fsspec
import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from target_parquet_bucket.arrow_records import ArrowRecordCaster
from target_parquet_bucket.decoding import RecordError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from target_parquet_bucket.sinks import ParquetBucketSink

FORMATS = ("jsonl", "parquet")
COMPRESSIONS = ("gzip", "none", None)
_GZIP_MAGIC = b"\x1f\x8b"


class BatchFileError(Exception):
    """A BATCH message or one of its files that cannot be read (one line: stream, line, file)."""


class BatchMessage(msgspec.Struct):
    """The fields of a BATCH message this target reads (singer-sdk's `SDKBatchMessage`)."""

    stream: str
    encoding: dict[str, t.Any]
    manifest: list[str]
    version: int | None = None


def parse_message(message: dict, line_number: int) -> BatchMessage:
    """Validate the message's layout and encoding; errors name the input line."""
    where = f"input line {line_number}" if line_number else "a BATCH message"
    try:
        batch = msgspec.convert(message, BatchMessage, strict=True)
    except msgspec.ValidationError as exc:
        msg = f"{where}: BATCH message is malformed: {exc}"
        raise BatchFileError(msg) from None
    file_format, compression = batch.encoding.get("format"), batch.encoding.get("compression")
    if file_format not in FORMATS or compression not in COMPRESSIONS:
        msg = (
            f"stream '{batch.stream}', {where}: BATCH encoding format {file_format!r} / compression "
            f"{compression!r} is not supported (format jsonl or parquet, compression gzip or none)"
        )
        raise BatchFileError(msg)
    return batch


def write_batch(sink: ParquetBucketSink, batch: BatchMessage, line_number: int) -> None:
    """Decode every file of the manifest, in order, into the sink's open files.

    Only reading is guarded here: an error of the sink (a failed upload) keeps its own message.
    """
    where = f"stream '{batch.stream}', input line {line_number} (BATCH)" if line_number else f"stream '{batch.stream}'"
    if batch.manifest and not sink.columns:
        msg = f"{where}: the stream declares no properties in its SCHEMA, so its records have no columns to be written"
        raise BatchFileError(msg)
    for url in batch.manifest:
        located = f"{where}, file {_display(url)}"
        if batch.encoding["format"] == "jsonl":
            chunks = _jsonl_chunks(url, sink.max_size, sink.max_buffer_bytes)
            _write_jsonl(sink, _guarded(chunks, url, located), batch.version, located)
        else:
            _write_parquet(sink, _guarded(_parquet_chunks(url, sink.max_size), url, located), batch.version, located)


def _display(url: str) -> str:
    """The URL without its query string (which may hold a SAS token or other credentials)."""
    return url.split("?", 1)[0]


_T = t.TypeVar("_T")


def _guarded(chunks: Iterator[_T], url: str, located: str) -> Iterator[_T]:
    """The chunks of one file; a file that is missing or unreadable ends in one line naming it
    (with the URL's query string, which may hold a token, left out of the reason too)."""
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except (OSError, EOFError, ValueError, ImportError, pa.ArrowException) as exc:
            reason = " ".join(str(exc).replace(url, _display(url)).split())
            msg = f"{located}: cannot be read: {type(exc).__name__}: {reason}"
            raise BatchFileError(msg) from None
        yield chunk


@contextlib.contextmanager
def _open(url: str) -> Iterator[t.IO[bytes]]:
    """The file's bytes, decompressed when they are gzip (see the module docstring)."""
    with fsspec.open(url, mode="rb") as raw:
        head = raw.read(2)
        raw.seek(0)
        if head == _GZIP_MAGIC:
            with gzip.open(raw, "rb") as unzipped:
                yield t.cast("t.IO[bytes]", unzipped)
        else:
            yield raw


def _jsonl_chunks(url: str, max_rows: int, max_bytes: int) -> Iterator[tuple[list[bytes], list[int]]]:
    """(non-blank lines, their 1-based line numbers in the file), bounded like the sink's RECORD
    buffer (`batch_size_rows`, `batch_size_mb`): a batch file is streamed, never held whole."""
    with _open(url) as file:
        lines: list[bytes] = []
        rows: list[int] = []
        size = 0
        for number, raw in enumerate(file, start=1):
            line = raw.strip()
            if not line:
                continue
            lines.append(line)
            rows.append(number)
            size += len(line)
            if len(lines) >= max_rows or size >= max_bytes:
                yield lines, rows
                lines, rows, size = [], [], 0
        if lines:
            yield lines, rows


def _parquet_chunks(url: str, max_rows: int) -> Iterator[pa.RecordBatch]:
    """The file's record batches, `batch_size_rows` rows at a time (never the whole file)."""
    with _open(url) as file:
        yield from pq.ParquetFile(file).iter_batches(batch_size=max_rows)


def _write_jsonl(
    sink: ParquetBucketSink,
    chunks: Iterator[tuple[list[bytes], list[int]]],
    version: int | None,
    located: str,
) -> None:
    """Record lines → RECORD envelopes (with the BATCH message's version) → the stream's decoder."""
    prefix = b'{"version":' + (b"null" if version is None else str(version).encode()) + b',"record":'
    for lines, rows in chunks:
        _check_one_value_per_line(lines, rows, located)
        try:
            batch, versions = sink.decoder.decode([prefix + line + b"}" for line in lines])
        except RecordError as error:
            raise _row_error(error, rows, located) from None
        sink.write_arrow(batch, versions)


_raw_values = msgspec.json.Decoder(list[msgspec.Raw])


def _check_one_value_per_line(lines: list[bytes], rows: list[int], located: str) -> None:
    """Every line holds exactly one JSON value, so wrapping it cannot smuggle envelope fields
    (`{"a": 1}, "version": 5`) into the RECORD message. One pass that builds no objects: equal
    counts and lengths mean each value is exactly its line."""
    try:
        values = _raw_values.decode(b"[" + b",".join(lines) + b"]")
    except (msgspec.DecodeError, UnicodeDecodeError):
        values = []
    if len(values) == len(lines) and all(len(v) == len(line) for v, line in zip(values, lines, strict=True)):
        return
    for line, row in zip(lines, rows, strict=True):
        try:
            msgspec.json.decode(line, type=msgspec.Raw)
        except UnicodeDecodeError:
            msg = f"{located}, row {row}: text is not valid UTF-8"
            raise BatchFileError(msg) from None
        except msgspec.DecodeError as exc:
            msg = f"{located}, row {row}: not one JSON record ({exc})"
            raise BatchFileError(msg) from None


def _row_error(error: RecordError, rows: t.Sequence[int], located: str) -> BatchFileError:
    """The decoder's error, located by the row of the file (its line number, blank lines counted)."""
    row = rows[error.index] if error.index is not None and error.index < len(rows) else None
    where = f", row {row}" if row else ""
    return BatchFileError(f"{located}{where}: {error.message}")


def _write_parquet(
    sink: ParquetBucketSink,
    chunks: Iterator[pa.RecordBatch],
    version: int | None,
    located: str,
) -> None:
    """Arrow record batches → the stream's columns (same checks as RECORD lines)."""
    caster = ArrowRecordCaster(sink.decoder, sink.key_properties)
    first_row = 1
    for chunk in chunks:
        try:
            batch = caster.cast(chunk, version)
        except RecordError as error:
            where = f", row {first_row + error.index}" if error.index is not None else ""
            raise BatchFileError(f"{located}{where}: {error.message}") from None
        sink.write_arrow(batch, {version})
        first_row += chunk.num_rows
