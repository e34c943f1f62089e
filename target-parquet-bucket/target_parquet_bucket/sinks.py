"""The sink: buffers raw RECORD lines of one stream, decodes them per batch into Arrow and hands the
rows down to the bucket with the stream's identity (`FileStream`); the bucket owns the files."""

from __future__ import annotations

import array
import bisect
import datetime
import itertools
import typing as t
from urllib.parse import quote

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
from singer_sdk.exceptions import InvalidInputLine, MissingKeyPropertiesError
from singer_sdk.sinks import BatchSink

from target_parquet_bucket.arrow_schema import columns_for_schema
from target_parquet_bucket.bucket import FileStream
from target_parquet_bucket.decoding import BatchDecoder, Decoded, RecordError
from target_parquet_bucket.naming import safe_segment
from target_parquet_bucket.progress import stream_progress
from target_parquet_bucket.writers import MEBIBYTE

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from singer_sdk.target_base import Target

    from target_parquet_bucket.bucket import Bucket
    from target_parquet_bucket.settings import Settings

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


class InvalidRecordError(Exception):
    """A RECORD that does not match its stream's schema (one line: stream, input line, reason)."""


def _encode_fallback(value: t.Any) -> t.Any:
    """The SDK path hands us dates and Decimals; msgspec handles the rest natively."""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


_fallback_encoder = msgspec.json.Encoder(enc_hook=_encode_fallback, decimal_format="number")


class ParquetBucketSink(BatchSink):
    """One stream under one SCHEMA message; a schema change gives a new sink and new files."""

    #: Records decoded per batch: large enough for msgspec/Arrow to work in bulk, small enough that
    #: the decoded Python objects stay a few tens of MB. Row groups are assembled from several.
    MAX_SIZE_DEFAULT = 20_000

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        """Type the columns from the schema once, and validate the stream name for keys."""
        super().__init__(target, stream_name, schema, key_properties)
        self._target = target
        self.bucket: Bucket = target.bucket  # type: ignore[attr-defined]  # the target's, set before any sink
        self.settings: Settings = target.settings  # type: ignore[attr-defined]
        self.file_stream = self.bucket.claim_stream(stream_name)
        self.columns = columns_for_schema(self.schema, native_nested=self.settings.native_nested)
        self.decoder = BatchDecoder(
            self.columns,
            key_properties=self.key_properties,
            sync_started_at=self.sync_started_at,
        )
        self._lines: list[bytes] = []
        self._line_numbers = array.array("q")
        #: A full batch whose rows are not handed down yet (see `drain_while_reading`).
        self._pending: _Batch | None = None
        self._buffered_bytes = 0
        self._max_buffer_bytes = self.settings.batch_size_mb * MEBIBYTE
        self._max_rows = self.max_size
        self._partition_field = self._resolve_partition_field()
        self.progress = stream_progress(stream_name)
        self._open_destination(target)

    def _open_destination(self, target: Target) -> None:
        """Where the decoded rows go: the stream's files in the bucket (tables: see `TableSink`)."""
        _ = target
        self.files = FileStream(self.file_stream, self.decoder.schema)

    # Buffering ------------------------------------------------------------------------------

    def extend_raw(self, lines: list[bytes], start: int, stop: int, first_number: int) -> int:
        """Fast path: keep RECORD lines from `lines[start:stop]` as bytes (decoded with their batch)
        until the batch is full; return how many were kept. `first_number` is `lines[0]`'s line.

        Like one line at a time: the line that reaches `batch_size_mb` is the batch's last.
        """
        buffered = len(self._lines)
        end = min(stop, start + self._max_rows - buffered)
        sizes = list(itertools.accumulate(map(len, lines[start:end])))
        room = self._max_buffer_bytes - self._buffered_bytes
        if sizes and sizes[-1] >= room:
            end = start + bisect.bisect_left(sizes, room) + 1
        kept = end - start
        self._lines.extend(lines[start:end])
        self._line_numbers.extend(range(first_number + start, first_number + end))
        self._buffered_bytes += sizes[kept - 1] if kept else 0
        self.progress.add(kept)
        ahead = BatchDecoder.READ_AHEAD_LINES
        if buffered // ahead != len(self._lines) // ahead:
            self.decoder.read_ahead(self._lines)
        return kept

    def process_record(self, record: dict, context: dict) -> None:
        """SDK path (stream maps / flattening): re-encode the transformed record as a line."""
        _ = context
        message = {
            "record": record,
            "time_extracted": record.get("_sdc_extracted_at"),
            "version": record.get("_sdc_table_version"),
        }
        line = bytes(_fallback_encoder.encode(message))
        self._lines.append(line)
        self._line_numbers.append(getattr(self._target.message_reader, "line_number", 0))
        self._buffered_bytes += len(line)
        self.progress.add()

    @property
    def max_buffer_bytes(self) -> int:
        """`batch_size_mb`: bytes of input decoded at once (also for BATCH files)."""
        return self._max_buffer_bytes

    @property
    def current_size(self) -> int:
        """Records waiting to be drained, whichever path buffered them."""
        return len(self._lines)

    @property
    def is_full(self) -> bool:
        """Full by record count (`batch_size_rows`) or by buffered bytes (wide records)."""
        return self.current_size >= self.max_size or self._buffered_bytes >= self._max_buffer_bytes

    # Draining -------------------------------------------------------------------------------

    def process_batch(self, context: dict) -> None:
        """Decode the buffered lines at once and stream the rows into the open file(s)."""
        _ = context
        self._decode_buffer(defer=False)

    def drain_while_reading(self) -> None:
        """The batch is full and input is still being read. While Arrow's reader takes the stream, its
        decoding starts and its rows are handed down by `finish_pending` (at this stream's next batch,
        or when the target needs them), so the reader threads parse its last lines while the next ones
        are read; it holds one more batch of the stream meanwhile. The msgspec path has decoded it on
        this thread already: its rows go down at once."""
        self._drain_buffer(defer=True)

    @property
    def pending_since(self) -> int | None:
        """The input line of the first record of the batch still decoding, if any."""
        return self._pending.numbers[0] if self._pending is not None else None

    def finish_pending(self) -> None:
        """Hand down the rows of the batch still decoding, if any (or fail, naming its line)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._hand_down(pending)

    def _start_batch(self) -> _Batch | None:
        lines, numbers = self._lines, self._line_numbers
        self._lines, self._line_numbers, self._buffered_bytes = [], array.array("q"), 0
        if not lines:
            return None
        if not self.columns:
            where = f", input line {numbers[0]}" if numbers[0] else ""
            msg = (
                f"stream '{self.stream_name}'{where}: its SCHEMA declares no properties, so its records "
                "have no columns to be written; declare the properties"
            )
            raise InvalidRecordError(msg)
        # The SDK path tallies each record as it arrives; the fast path tallies here, per batch
        # (singer-sdk's `current_size` counts the records tallied; this class's, the lines buffered).
        self.tally_record_read(len(lines) - super().current_size)
        try:
            return _Batch(self.decoder.start(lines), numbers)
        except RecordError as exc:
            raise self._located(exc, numbers) from None

    def _hand_down(self, started: _Batch) -> None:
        try:
            batch, versions = started.decoded()
        except RecordError as exc:
            raise self._located(exc, started.numbers) from None
        self._write_rows(batch, versions)

    def write_arrow(self, batch: pa.RecordBatch, versions: set[int | None]) -> None:
        """Rows already decoded to this stream's schema (from BATCH files): handed down like
        decoded lines.

        Records buffered before are written first, so files keep the input order; the rows are
        then in open files, which the commit before every STATE uploads.
        """
        self._drain_buffer()
        self.progress.add(batch.num_rows)
        self._write_rows(batch, versions)

    def _write_rows(self, batch: pa.RecordBatch, versions: set[int | None]) -> None:
        """Count the decoded rows, take the workspace id they may carry, and write them."""
        self.record_counter_metric.increment(batch.num_rows)
        self.bucket.namer.take_workspace_id(self.file_stream, batch)
        self._write(batch, versions)

    def _write(self, batch: pa.RecordBatch, versions: set[int | None]) -> None:
        """Hand decoded rows down to the bucket, split into partition folders."""
        self.bucket.write(self.files, self._partitions(batch), versions)

    def _drain_buffer(self, *, defer: bool = False) -> None:
        """Decode and hand down the buffered records now (or, with `defer`, start decoding them: see
        `drain_while_reading`), before rows or markers that must follow them. The same steps as
        `Target.drain_one`, taken by the sink itself so that it never calls back up into the target."""
        if not self.current_size:
            self.finish_pending()
            return
        self.start_drain()
        with self.batch_processing_timer:
            self._decode_buffer(defer=defer)
        self.mark_drained()

    def _decode_buffer(self, *, defer: bool) -> None:
        """Start decoding the buffered lines, after the batch still decoding; hand their rows down now,
        or with `defer` keep them pending while Arrow's reader takes the stream."""
        self.finish_pending()  # first: a batch Arrow's reader refuses moves the stream to the msgspec path
        keep_pending = defer and self.decoder.reads_with_arrow
        started = self._start_batch()
        if keep_pending:
            self._pending = started
        elif started is not None:
            self._hand_down(started)

    def _located(self, error: RecordError, numbers: array.array) -> Exception:
        line = numbers[error.index] if error.index is not None and error.index < len(numbers) else 0
        where = f"input line {line}" if line else "a record"
        message = f"stream '{self.stream_name}', {where}: {error.message}"
        if error.missing_key is not None and error.missing_key in self.key_properties:
            return MissingKeyPropertiesError(message)
        return InvalidRecordError(message)

    def retire(self) -> None:
        """A new SCHEMA replaced this one: its rows are finished now, before the new schema's."""
        self.finish_pending()
        self._finish_output(end_of_input=False)

    def clean_up(self) -> None:
        """End of input: the stream's last rows are finished."""
        self.finish_pending()
        self._finish_output(end_of_input=True)
        super().clean_up()

    def _finish_output(self, *, end_of_input: bool) -> None:
        """Upload the stream's open files: they become visible (after a retire as at the end of input)."""
        _ = end_of_input
        self.bucket.close_stream(self.files)

    def activate_version(self, new_version: int) -> None:
        """Full-table stream finished writing `new_version`.

        Buffered records are written and the open files uploaded, then
        `_meta/activate_version/<stream>/<version>.json` lists the files holding that version, so
        a loader can make exactly those rows the table's contents. Nothing is deleted.

        The version names that marker, so anything but an integer stops the run before any of it.
        """
        if not isinstance(new_version, int) or isinstance(new_version, bool):
            # The reader prefixes the input line's number to an InvalidInputLine.
            msg = (
                f"stream '{self.stream_name}': ACTIVATE_VERSION 'version' must be an integer, "
                f"got {repr(new_version)[:80]}"
            )
            raise InvalidInputLine(msg)
        self._drain_buffer()
        key = self.bucket.activate_version(self.files, new_version)
        self.logger.info("ACTIVATE_VERSION %s for '%s' recorded in %s", new_version, self.stream_name, key)

    # Partitioning ---------------------------------------------------------------------------

    def _resolve_partition_field(self) -> str | None:
        field = self.settings.partition_by
        if not field:
            return None
        if field not in {c.name for c in self.columns}:
            self.logger.warning(
                "partition_by: stream '%s' has no field '%s'; its files are not partitioned",
                self.stream_name,
                field,
            )
            return None
        return field

    def _partitions(self, batch: pa.RecordBatch) -> Iterator[tuple[str, pa.RecordBatch]]:
        """Split a batch into Hive-style folders: `dt=<load date>/` and/or `<field>=<value>/`."""
        prefix = ""
        if self.settings.partition_by_load_date:
            prefix = f"dt={datetime.datetime.now(tz=datetime.timezone.utc):%Y-%m-%d}/"
        if self._partition_field is None:
            yield prefix, batch
            return
        values = _partition_values(batch.column(self._partition_field))
        folder = safe_segment(self._partition_field, what="partition_by field")
        for value in pc.unique(values).to_pylist():
            part = batch.filter(pc.equal(values, value))
            # quote() escapes "/" and "%": a value can never add folders or climb out of one.
            yield f"{prefix}{folder}={quote(value, safe='')}/", part


class _Batch(t.NamedTuple):
    """A batch being decoded, and the input line of each of its records."""

    decoded: t.Callable[[], Decoded]
    numbers: array.array


def _partition_values(column: pa.Array) -> pa.Array:
    """Partition value per row as text: dates for date/timestamp columns, else the value."""
    is_time = pa.types.is_timestamp(column.type)
    text = pc.strftime(column, format="%Y-%m-%d") if is_time else column.cast(pa.string())
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return pc.fill_null(text, HIVE_NULL)
