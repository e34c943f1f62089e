"""Columnar decoding: a batch of raw RECORD lines → one Arrow record batch.

This is the hot path. singer-sdk's per-record path (Decimal JSON parsing, jsonschema validation,
timestamp parsing and dict work per record) runs at a few thousand records per second; here a
batch is decoded by msgspec, one call per `DECODE_LINES` lines, into typed Structs built from the JSON
Schema (which is also the type validation), objects/arrays stay raw JSON bytes, and each column becomes an
Arrow array through `column_arrays` (the conversions and checks every record path shares). Streams whose
columns are all typed go to Arrow's JSON reader first (`json_reader`), which hands any batch it
would read differently back to this path.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import gc
import operator
import re
import typing as t

import msgspec
import pyarrow as pa

from target_parquet_bucket.arrow_schema import SDC_FROM_MESSAGE, TIMESTAMP_UTC, Column, arrow_schema
from target_parquet_bucket.column_arrays import NULL_JSON, RecordError, first_null, timestamps, to_arrow
from target_parquet_bucket.json_reader import ArrowJsonReader

if t.TYPE_CHECKING:
    from concurrent.futures import Future

    from target_parquet_bucket.json_reader import ArrowRead

#: A batch's rows and the table versions its records carry.
Decoded = tuple[pa.RecordBatch, set[int | None]]

_RECORD = operator.attrgetter("record")
_VERSION = operator.attrgetter("version")
TOO_DEEP = "a value nests objects/arrays too deeply to decode (the limit is about 1,000 levels)"
_ERROR_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$\[(?P<index>\d+)\](?P<path>[^`]*)`)?$", re.DOTALL)
#: msgspec refuses these characters in renamed Struct field names (it would write them unescaped).
_UNRENAMABLE = re.compile(r'[\\"\x00-\x1f]')


class BatchDecoder:
    """Decodes batches of raw RECORD lines of one stream (one SCHEMA) into Arrow record batches."""

    #: The sink calls `read_ahead` each time its batch has grown by this many lines (a few MB).
    READ_AHEAD_LINES = 4096
    #: Lines the msgspec path decodes at once. A part's records become columns while they are still in the
    #: CPU's cache: on `messages` (sink batches of 10,000 lines), parts of 1,024 lines took a sixth less decoding
    #: CPU than whole batches, their concatenation included; 512 and 2,048 did no better (docs/benchmarks.md).
    DECODE_LINES = 1024

    def __init__(
        self,
        columns: t.Sequence[Column],
        *,
        key_properties: t.Sequence[str] = (),
        sync_started_at: int | None = None,
    ) -> None:
        """Build the msgspec types once per schema: field names are opaque (`f0`, `f1`, …) and
        renamed to the property names, so any property name (`agent:os:version`) works."""
        self.columns = list(columns)
        self.schema = arrow_schema(self.columns)
        self.sync_started_at = sync_started_at
        keys = set(key_properties)
        record_columns = [c for c in self.columns if c.name not in SDC_FROM_MESSAGE]
        self._record_columns = record_columns
        fields: list[tuple[str, t.Any] | tuple[str, t.Any, t.Any]] = []
        for position, column in enumerate(record_columns):
            attr = f"f{position}"
            if column.name in keys or not column.nullable:
                fields.append((attr, column.decode_type))  # absent → error, as the spec requires
            elif column.decode_type is msgspec.Raw:
                fields.append((attr, msgspec.Raw, msgspec.Raw(NULL_JSON)))
            else:
                fields.append((attr, column.decode_type, None))
        rename = {f"f{i}": c.name for i, c in enumerate(record_columns)}
        # Property names a Struct cannot carry (`back\\slash`, `say "hi"`): records decode as dicts of
        # raw values and each column is decoded on its own, with the same checks (slower, and rare).
        self._dict_fields = fields if any(_UNRENAMABLE.search(name) for name in rename.values()) else None
        record_type: t.Any = dict[str, msgspec.Raw]
        if self._dict_fields is None:
            record_type = msgspec.defstruct("Record", fields, rename=rename, kw_only=True, gc=False)
        self._getters = [operator.attrgetter(f"f{i}") for i in range(len(record_columns))]
        message_fields: list[tuple[str, t.Any] | tuple[str, t.Any, t.Any]] = [
            ("record", record_type),
            ("version", int | None, None),
        ]
        if any(c.name == "_sdc_extracted_at" for c in self.columns):
            # Only decoded when asked for: one string object per record otherwise wasted.
            message_fields.append(("time_extracted", str | None, None))
        message_type: t.Any = msgspec.defstruct("RecordMessage", message_fields, kw_only=True, gc=False)
        self._decoder = msgspec.json.Decoder(list[message_type])
        self._keys = keys
        self._arrow_reader = ArrowJsonReader.for_columns(self.columns, keys)

    @property
    def reads_with_arrow(self) -> bool:
        """Whether batches still go to Arrow's JSON reader first (until one needs the msgspec path)."""
        return self._arrow_reader is not None

    def read_ahead(self, lines: list[bytes]) -> None:
        """The sink's batch has grown by `READ_AHEAD_LINES`: while Arrow's reader may take it, the
        new lines are parsed on the reader's thread as the next ones arrive (see `start`)."""
        if self._arrow_reader is not None:
            self._arrow_reader.read_ahead(lines)

    def decode(self, lines: t.Sequence[bytes]) -> Decoded:
        """Decode `lines` (complete RECORD messages) → (record batch, table versions seen)."""
        return self.start(lines)()

    def start(self, lines: t.Sequence[bytes]) -> t.Callable[[], Decoded]:
        """Start decoding `lines`; the call returned finishes it, giving what `decode` gives.

        While Arrow's reader takes the stream, the rest of the batch joins the parts parsed ahead on
        the reader threads, and the caller may go on reading input until it needs the rows. The
        msgspec path runs on the calling thread: it decodes now.
        """
        if self._arrow_reader is not None:
            return functools.partial(self._collect, lines, self._arrow_reader.submit_batch(lines))
        decoded = self._decode_in_parts(lines)
        return lambda: decoded

    def _collect(self, lines: t.Sequence[bytes], parts: t.Sequence[Future[ArrowRead | None]]) -> Decoded:
        if (read := ArrowJsonReader.collect(parts)) is not None:
            arrays, versions = read
            return pa.RecordBatch.from_arrays(arrays, schema=self.schema), versions
        self._arrow_reader = None  # this stream's data needs the msgspec path: stop trying
        return self._decode_in_parts(lines)

    def _decode_in_parts(self, lines: t.Sequence[bytes]) -> Decoded:
        """The msgspec path, `DECODE_LINES` lines at a time; the parts' rows make up one batch."""
        with _gc_paused():
            now = datetime.datetime.now(tz=datetime.timezone.utc)
            if len(lines) <= self.DECODE_LINES:
                return self._decode_part(lines, now)
            parts: list[pa.RecordBatch] = []
            versions: set[int | None] = set()
            for start in range(0, len(lines), self.DECODE_LINES):
                try:
                    part, seen = self._decode_part(lines[start : start + self.DECODE_LINES], now)
                except RecordError as exc:
                    raise exc.shifted(start) from None
                parts.append(part)
                versions |= seen
            return pa.concat_batches(parts), versions

    def _decode_part(self, lines: t.Sequence[bytes], now: datetime.datetime) -> Decoded:
        """The msgspec path for up to `DECODE_LINES` lines; `now` is the batch's time (`_sdc_batched_at`)."""
        messages = self._decode_messages(lines)
        rows = len(messages)
        records = list(map(_RECORD, messages))
        if self._dict_fields is not None:
            values = self._dict_values(records, self._dict_fields)
        else:
            # One C-level pass per column (attrgetter + map) beats building a tuple per row.
            values = {
                column.name: list(map(getter, records))
                for column, getter in zip(self._record_columns, self._getters, strict=True)
            }
        versions = set(map(_VERSION, messages))
        arrays = [self._column_array(c, values, messages, rows, now) for c in self.columns]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema), versions

    def _dict_values(self, records: list[dict[str, msgspec.Raw]], fields: list[tuple]) -> dict[str, list[t.Any]]:
        """Columns of records decoded as dicts: each column's raw values decoded as one JSON array
        of the column's type, so an error still says which record (`$[index]`) and field."""
        values: dict[str, list[t.Any]] = {}
        for column, field in zip(self._record_columns, fields, strict=True):
            raws = []
            for index, record in enumerate(records):
                raw = record.get(column.name)
                if raw is None and len(field) == 2:  # no default: absent is an error
                    raise self._record_error(f"Object missing required field `{column.name}` - at `$[{index}].record`")
                raws.append(bytes(raw) if raw is not None else NULL_JSON)
            value_type: t.Any = field[1]
            try:
                values[column.name] = msgspec.json.decode(b"[" + b",".join(raws) + b"]", type=list[value_type])
            except msgspec.ValidationError as exc:
                match = _ERROR_AT.match(str(exc))
                assert match is not None and match["index"] is not None  # list decoding names the item
                where = f"$[{match['index']}].record.{column.name}{match['path']}"
                raise self._record_error(f"{match['message']} - at `{where}`") from None
        return values

    def _decode_messages(self, lines: t.Sequence[bytes]) -> list[t.Any]:
        try:
            messages = self._decoder.decode(b"[" + b",".join(lines) + b"]")
        except msgspec.ValidationError as exc:
            raise self._record_error(str(exc)) from None
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            return self._decode_one_by_one(lines)
        if len(messages) != len(lines):
            # A line holding more than one JSON value ("{...}, {...}") joins into a valid array
            # of the wrong length: find it line by line rather than misnumbering records.
            return self._decode_one_by_one(lines)
        return messages

    def _decode_one_by_one(self, lines: t.Sequence[bytes]) -> list[t.Any]:
        """Slow path, only after a batch failed without saying where: find the bad line."""
        decoded = []
        for index, line in enumerate(lines):
            try:
                one = self._decoder.decode(b"[" + line + b"]")
            except msgspec.ValidationError as exc:
                error = self._record_error(str(exc))
                raise RecordError(index, error.message, missing_key=error.missing_key) from None
            except UnicodeDecodeError:
                raise RecordError(index, "text is not valid UTF-8") from None
            except msgspec.DecodeError as exc:
                raise RecordError(index, f"invalid JSON: {exc}") from None
            except RecursionError:
                raise RecordError(index, TOO_DEEP) from None
            if len(one) != 1:
                raise RecordError(index, "line holds more than one JSON value")
            decoded.extend(one)
        return decoded

    def _record_error(self, text: str) -> RecordError:
        match = _ERROR_AT.match(text)
        if match is None or match["index"] is None:
            return RecordError(None, text)
        message = match["message"]
        path = match["path"].lstrip(".")
        missing = re.match(r"Object missing required field `(.+)`", message)
        if missing and path == "record":
            key = missing[1]
            kind = "key property" if key in self._keys else "required non-nullable field"
            return RecordError(int(match["index"]), f"{kind} '{key}' is missing", missing_key=key)
        where = f" at {path}" if path else ""
        return RecordError(int(match["index"]), f"{message}{where}")

    def _column_array(
        self,
        column: Column,
        values: t.Mapping[str, t.Sequence[t.Any]],
        messages: t.Sequence[t.Any],
        rows: int,
        now: datetime.datetime,
    ) -> pa.Array:
        if column.name in SDC_FROM_MESSAGE:
            if column.name == "_sdc_extracted_at":
                return self.metadata_array(
                    column, rows, extracted=pa.array([m.time_extracted for m in messages], pa.string())
                )
            versions = pa.array(list(map(_VERSION, messages)), pa.int64())
            return self.metadata_array(column, rows, versions=versions, now=now)
        data = values.get(column.name, [])
        try:
            array = to_arrow(column, data)
        except RecordError as exc:
            raise RecordError(exc.index, f"column '{column.name}': {exc.message}") from None
        if not column.nullable and array.null_count:
            # Parquet would silently store a null in a required column as 0 (apache/arrow#43145).
            raise RecordError(first_null(array), f"column '{column.name}' is declared non-nullable but is null")
        if column.name in self._keys and not column.null_declared and array.null_count:
            message = f"key property '{column.name}' is null, and its schema type does not allow null"
            raise RecordError(first_null(array), message)
        return array

    def metadata_array(
        self,
        column: Column,
        rows: int,
        *,
        versions: pa.Array | None = None,
        extracted: pa.Array | None = None,
        now: datetime.datetime | None = None,
    ) -> pa.Array:
        """`_sdc_*` values: from the messages (their `version`s, their `time_extracted` texts;
        null when not given) or the batch (`now`, the time it is decoded, if not given). Every way records
        arrive (RECORD lines, BATCH files) takes them from here."""
        now = now or datetime.datetime.now(tz=datetime.timezone.utc)
        if column.name == "_sdc_extracted_at":
            return timestamps(extracted if extracted is not None else pa.nulls(rows, pa.string()))
        if column.name == "_sdc_table_version":
            return versions if versions is not None else pa.nulls(rows, pa.int64())
        if column.name in {"_sdc_received_at", "_sdc_batched_at"}:
            return pa.array([now] * rows, TIMESTAMP_UTC)
        if column.name == "_sdc_sequence":
            return pa.array([int(now.timestamp() * 1000)] * rows, pa.int64())
        return pa.array([self.sync_started_at] * rows, column.arrow_type)


@contextlib.contextmanager
def _gc_paused() -> t.Iterator[None]:
    """Decoding allocates hundreds of thousands of objects that form no cycles; letting the cyclic
    GC scan them over and over more than doubles the decode time (measured)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
