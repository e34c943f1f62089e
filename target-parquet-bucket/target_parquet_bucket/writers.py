"""File writers: parquet, csv, jsonl into a local temporary file, uploaded only once closed.

Parquet row groups are streamed: record batches are buffered only up to one row group and then
written, so memory is bounded by the row group size, not by the file or the stream. A row group is
encoded on a background thread (pyarrow releases the GIL), overlapping the next batches' decoding;
each file has at most one row group in flight.
"""

from __future__ import annotations

import abc
import contextlib
import typing as t
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from target_parquet_bucket.arrow_schema import JSON_TEXT_METADATA

if t.TYPE_CHECKING:
    from target_parquet_bucket.settings import Settings

MEBIBYTE = 1024 * 1024
FORMATS = ("parquet", "csv", "jsonl")
COMPRESSIONS = ("snappy", "zstd", "gzip", "none")
#: csv/jsonl files are compressed as a whole; snappy is a parquet page codec, so it means "none" here.
_STREAM_CODECS = {"gzip": ("gzip", ".gz"), "zstd": ("zstd", ".zst")}


def file_extension(file_format: str, compression: str) -> str:
    """The `{format}` token: `parquet`, or `csv`/`jsonl` plus `.gz`/`.zst` when compressed whole."""
    if file_format == "parquet":
        return "parquet"
    return file_format + _STREAM_CODECS.get(compression, ("", ""))[1]


class FileWriter(abc.ABC):
    """One output file being written locally."""

    def __init__(self, schema: pa.Schema, directory: Path, compression: str) -> None:
        """Open a uniquely named temporary file in `directory`."""
        self.schema = schema
        self.compression = compression
        self.path = directory / f"{uuid.uuid4().hex}.part"
        self.rows = 0
        self.table_versions: set[int | None] = set()

    @abc.abstractmethod
    def write(self, batch: pa.RecordBatch) -> None:
        """Append rows (the batch has exactly `schema`)."""

    @property
    @abc.abstractmethod
    def size_bytes(self) -> int:
        """Approximate size of the finished file so far, for rolling."""

    def bytes_on_disk(self) -> int:
        """How many bytes of the file are written; they are final, as every format only appends."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    @abc.abstractmethod
    def close(self) -> Path:
        """Finish the file (parquet footer, compression trailer) and return its path."""

    def discard(self) -> None:
        """Forget a file that will not be uploaded (e.g. after an error)."""
        self.path.unlink(missing_ok=True)

    def abort(self) -> None:
        """The run failed: release the file handle whatever state the file is in, and delete it."""
        with contextlib.suppress(Exception):  # a full disk may fail the footer; the handle is released either way
            self._release()
        self.discard()

    @abc.abstractmethod
    def _release(self) -> None:
        """Close the open handle(s) without caring whether the file is complete."""


#: A row group is also cut at this much buffered Arrow data, so wide rows do not multiply memory.
ROW_GROUP_MAX_BYTES = 48 * 1024 * 1024
#: A column whose dictionary outgrows this is written plain from then on. Arrow's default (1 MiB)
#: builds large dictionaries for columns of mostly distinct values (ids, date-times, JSON text,
#: each leaf of a native struct) before giving up; 64 KiB still holds the dictionary of a column
#: of a few thousand repeated values, and took 25-30% less encoding CPU with smaller files on the
#: bench's `messages` (pyarrow 26, snappy).
DICTIONARY_PAGE_MAX_BYTES = 64 * 1024
#: One thread encodes every file's row groups, in the order they were cut.
_row_group_encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-encode")


class ParquetFileWriter(FileWriter):
    """Streams row groups of about `row_group_rows` rows (or `ROW_GROUP_MAX_BYTES`)."""

    def __init__(
        self,
        schema: pa.Schema,
        directory: Path,
        compression: str,
        *,
        row_group_rows: int,
    ) -> None:
        """Open the pyarrow ParquetWriter right away; nothing is kept but one row group."""
        super().__init__(schema, directory, compression)
        self.row_group_rows = row_group_rows
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self._in_flight: Future[None] | None = None
        self._in_flight_bytes = 0
        self._writer = pq.ParquetWriter(
            self.path,
            schema,
            compression=None if compression == "none" else compression,
            write_statistics=True,
            dictionary_pagesize_limit=DICTIONARY_PAGE_MAX_BYTES,
        )

    def write(self, batch: pa.RecordBatch) -> None:
        """Buffer until a full row group is available, then write it."""
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        self._pending_bytes += batch.nbytes
        self.rows += batch.num_rows
        if self._pending_rows >= self.row_group_rows or self._pending_bytes >= ROW_GROUP_MAX_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._pending_rows:
            return
        table = pa.Table.from_batches(self._pending, schema=self.schema)
        self._wait()
        self._in_flight = _row_group_encoder.submit(
            self._writer.write_table, table, row_group_size=max(self._pending_rows, 1)
        )
        self._in_flight_bytes = self._pending_bytes
        self._pending = []
        self._pending_rows = 0
        self._pending_bytes = 0

    def _wait(self) -> None:
        """Let the row group in flight finish (re-raising its error, e.g. a full disk)."""
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            in_flight.result()
            self._in_flight_bytes = 0

    @property
    def size_bytes(self) -> int:
        """Bytes on disk plus a guess for the row groups not yet written (parquet compresses ~4x)."""
        in_flight = self._in_flight_bytes if self._in_flight is not None and not self._in_flight.done() else 0
        pending = (self._pending_bytes + in_flight) // 4
        return self.bytes_on_disk() + pending

    def close(self) -> Path:
        """Write the last row group and the footer."""
        self._flush()
        self._wait()
        self._writer.close()
        return self.path

    def _release(self) -> None:
        self._pending = []
        self._writer.close()


class _StreamFileWriter(FileWriter):
    """csv/jsonl: a byte stream, optionally compressed as a whole."""

    def __init__(self, schema: pa.Schema, directory: Path, compression: str) -> None:
        """Open the (compressed) output stream."""
        super().__init__(schema, directory, compression)
        self._raw = pa.OSFile(str(self.path), "wb")
        codec = _STREAM_CODECS.get(compression)
        self._sink: pa.NativeFile = pa.CompressedOutputStream(self._raw, codec[0]) if codec else self._raw

    @property
    def size_bytes(self) -> int:
        """Bytes written so far (compressed when the codec has flushed)."""
        return self._raw.tell()

    def close(self) -> Path:
        """Flush the codec and close the file."""
        self._finish()
        if self._sink is not self._raw:
            self._sink.close()
        self._raw.close()
        return self.path

    def _finish(self) -> None:
        """Hook for format trailers."""

    def _release(self) -> None:
        for stream in (self._sink, self._raw):
            with contextlib.suppress(Exception):
                stream.close()


class CsvFileWriter(_StreamFileWriter):
    """CSV with a header row; objects/arrays are JSON text, as in Customer.io's csv export."""

    def __init__(self, schema: pa.Schema, directory: Path, compression: str) -> None:
        """Open Arrow's CSV writer on the output stream."""
        super().__init__(schema, directory, compression)
        self._writer = pacsv.CSVWriter(self._sink, schema)

    def write(self, batch: pa.RecordBatch) -> None:
        """Append rows."""
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def _finish(self) -> None:
        self._writer.close()


class JsonlFileWriter(_StreamFileWriter):
    """One JSON object per line; objects/arrays are written as JSON again, not as strings."""

    _encoder = msgspec.json.Encoder()

    def __init__(self, schema: pa.Schema, directory: Path, compression: str) -> None:
        """Remember which columns carry JSON text to embed it raw."""
        super().__init__(schema, directory, compression)
        self._json_columns = [field.name for field in schema if (field.metadata or {}) == JSON_TEXT_METADATA]

    def write(self, batch: pa.RecordBatch) -> None:
        """Encode the rows with msgspec (timestamps as RFC 3339) and append them."""
        rows: list[dict[str, t.Any]] = batch.to_pylist()
        for row in rows:
            for name in self._json_columns:
                value = row[name]
                if value is not None:
                    row[name] = msgspec.Raw(value.encode())
        buffer = bytearray()
        for row in rows:
            buffer += self._encoder.encode(row)
            buffer += b"\n"
        self._sink.write(bytes(buffer))
        self.rows += batch.num_rows


@dataclass(frozen=True)
class FileLayout:
    """How the run's output files are written and when one is complete (the rolling limits)."""

    file_format: str
    compression: str
    row_group_rows: int
    #: 0: no row limit.
    max_file_rows: int
    max_file_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> FileLayout:
        """The layout the target's settings ask for."""
        return cls(
            file_format=settings.format,
            compression=settings.compression,
            row_group_rows=settings.row_group_rows,
            max_file_rows=settings.max_file_rows,
            max_file_bytes=settings.max_file_size_mb * MEBIBYTE,
        )

    def open(self, schema: pa.Schema, directory: Path) -> FileWriter:
        """A new writer of this format with `schema` in `directory`."""
        if self.file_format == "parquet":
            return ParquetFileWriter(schema, directory, self.compression, row_group_rows=self.row_group_rows)
        if self.file_format == "csv":
            return CsvFileWriter(schema, directory, self.compression)
        return JsonlFileWriter(schema, directory, self.compression)

    def rows_left(self, writer: FileWriter) -> int | None:
        """How many more rows fit into `writer` (None: no row limit)."""
        return self.max_file_rows - writer.rows if self.max_file_rows else None

    def is_complete(self, writer: FileWriter) -> bool:
        """The file reached `max_file_size_mb` or `max_file_rows`: it is uploaded."""
        return writer.size_bytes >= self.max_file_bytes or (
            self.max_file_rows > 0 and writer.rows >= self.max_file_rows
        )
