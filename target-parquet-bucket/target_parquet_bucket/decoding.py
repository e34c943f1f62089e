"""Columnar decoding: a batch of raw RECORD lines → one Arrow record batch.

This is the hot path. singer-sdk's per-record path (Decimal JSON parsing, jsonschema validation,
timestamp parsing and dict work per record) runs at a few thousand records per second; here the
whole batch is decoded by one msgspec call into typed Structs built from the JSON Schema (which
is also the type validation), objects/arrays stay raw JSON bytes, and timestamps are parsed per
column by Arrow.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import itertools
import operator
import re
import typing as t
from types import GenericAlias

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from target_parquet_bucket.arrow_schema import (
    SDC_FROM_MESSAGE,
    TIMESTAMP_UTC,
    Column,
    Kind,
    NestedValueError,
    arrow_schema,
)

_NULL_JSON = b"null"
_RECORD = operator.attrgetter("record")
_VERSION = operator.attrgetter("version")
#: Integers beyond +-2**53 are where doubles stop holding every integer exactly.
_EXACT_DOUBLE_LIMIT = 2.0**53
#: The years every reader of the files can represent (Python's datetime, most warehouses): Arrow
#: itself parses `0000-01-01`, which pyarrow then cannot read back.
_FIRST_MOMENT = pa.scalar(datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc), TIMESTAMP_UTC)
_LAST_MOMENT = pa.scalar(datetime.datetime.max.replace(tzinfo=datetime.timezone.utc), TIMESTAMP_UTC)
_FIRST_DATE = pa.scalar(datetime.date.min, pa.date32())
_LAST_DATE = pa.scalar(datetime.date.max, pa.date32())
TOO_DEEP = "a value nests objects/arrays too deeply to decode (the limit is about 1,000 levels)"
_ERROR_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$\[(?P<index>\d+)\](?P<path>[^`]*)`)?$", re.DOTALL)


class RecordError(Exception):
    """A record that does not fit its stream's schema; `index` is its position in the batch."""

    def __init__(self, index: int | None, message: str, *, missing_key: str | None = None) -> None:
        """Keep the batch position so the sink can name the input line."""
        super().__init__(message)
        self.index = index
        self.message = message
        self.missing_key = missing_key


#: msgspec refuses these characters in renamed Struct field names (it would write them unescaped).
_UNRENAMABLE = re.compile(r'[\\"\x00-\x1f]')


class BatchDecoder:
    """Decodes batches of raw RECORD lines of one stream (one SCHEMA) into Arrow record batches."""

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
                fields.append((attr, msgspec.Raw, msgspec.Raw(_NULL_JSON)))
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
        message_type = msgspec.defstruct("RecordMessage", message_fields, kw_only=True, gc=False)
        # list[message_type] for a type built at run time (mypy reads the subscript form as a static type)
        self._decoder = msgspec.json.Decoder(GenericAlias(list, message_type))
        self._keys = keys
        self._arrow_reader = ArrowJsonReader.for_columns(self.columns, keys)

    @property
    def reads_with_arrow(self) -> bool:
        """Whether batches still go to Arrow's JSON reader first (until one needs the msgspec path)."""
        return self._arrow_reader is not None

    def decode(self, lines: t.Sequence[bytes]) -> tuple[pa.RecordBatch, set[int | None]]:
        """Decode `lines` (complete RECORD messages) → (record batch, table versions seen)."""
        with _gc_paused():
            return self._decode(lines)

    def _decode(self, lines: t.Sequence[bytes]) -> tuple[pa.RecordBatch, set[int | None]]:
        if self._arrow_reader is not None and (joined := b"\n".join(lines)) and not _may_hold_nan(joined):
            if (fast := self._arrow_reader.read(joined, len(lines))) is not None:
                arrays, versions = fast
                return pa.RecordBatch.from_arrays(arrays, schema=self.schema), versions
            self._arrow_reader = None  # this stream's data needs the msgspec path: stop trying
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
        arrays = [self._column_array(c, values, messages, rows) for c in self.columns]
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
                raws.append(bytes(raw) if raw is not None else _NULL_JSON)
            try:
                values[column.name] = msgspec.json.decode(
                    b"[" + b",".join(raws) + b"]", type=GenericAlias(list, field[1])
                )
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
    ) -> pa.Array:
        if column.name in SDC_FROM_MESSAGE:
            return self._metadata_array(column, messages, rows)
        data = values.get(column.name, [])
        try:
            array = _to_arrow(column, data)
        except RecordError as exc:
            raise RecordError(exc.index, f"column '{column.name}': {exc.message}") from None
        if not column.nullable and array.null_count:
            # Parquet would silently store a null in a required column as 0 (apache/arrow#43145).
            raise RecordError(_first_null(array), f"column '{column.name}' is declared non-nullable but is null")
        if column.name in self._keys and not column.null_declared and array.null_count:
            message = f"key property '{column.name}' is null, and its schema type does not allow null"
            raise RecordError(_first_null(array), message)
        return array

    def _metadata_array(self, column: Column, messages: t.Sequence[t.Any], rows: int) -> pa.Array:
        """`_sdc_*` values: from the message (extracted_at, table_version) or the batch."""
        now = datetime.datetime.now(tz=datetime.timezone.utc)
        if column.name == "_sdc_extracted_at":
            return _timestamps(pa.array([m.time_extracted for m in messages], pa.string()))
        if column.name == "_sdc_table_version":
            return pa.array([m.version for m in messages], pa.int64())
        if column.name in {"_sdc_received_at", "_sdc_batched_at"}:
            return pa.array([now] * rows, TIMESTAMP_UTC)
        if column.name == "_sdc_sequence":
            return pa.array([int(now.timestamp() * 1000)] * rows, pa.int64())
        return pa.array([self.sync_started_at] * rows, column.arrow_type)


#: Arrow types pyarrow's JSON reader parses each scalar kind into. Dates and date-times are read as
#: strings and converted by the same functions as on the msgspec path, so both accept the same values.
_JSON_READER_TYPES = {
    Kind.INTEGER: pa.int64(),
    Kind.NUMBER: pa.float64(),
    Kind.BOOLEAN: pa.bool_(),
    Kind.STRING: pa.string(),
    Kind.DATETIME: pa.string(),
    Kind.DATE: pa.string(),
}
_JSON_READER_BLOCK_BYTES = 4 * 1024 * 1024  # several blocks per batch keep both cores busy


def _arrow_readable(column: Column) -> bool:
    """Scalars, and native structs/lists whose leaves are all typed scalars."""
    return column.kind in _JSON_READER_TYPES or (column.kind is Kind.NATIVE and column.native_leaves_typed)


class ArrowJsonReader:
    """Fast path: pyarrow's multithreaded C++ JSON reader parses a batch straight into columns,
    without a Python object per value (about 3x less CPU than msgspec plus per-column conversion on
    a 120-column stream, and native structs in 2x less, measured with `bench/`).

    Streams with objects/arrays kept as JSON text stay on the msgspec path: Arrow cannot hand back a
    value's text, and parsing the other columns with Arrow while msgspec extracts the texts was
    measured to cost more CPU than msgspec alone.

    It only ever accepts batches it reads exactly as the msgspec path would. Anything else (a type
    it rejects, a duplicate key, a missing or null record, nulls in key or required columns,
    NaN/Infinity or integers beyond 2**53 in number fields at any depth, text that is not UTF-8, a
    line holding several values) returns None, and the msgspec path decodes the batch and names
    the line.
    """

    def __init__(self, columns: t.Sequence[Column], keys: set[str]) -> None:
        """One explicit Arrow schema per SCHEMA message: no type inference, unknown fields ignored."""
        self._columns = list(columns)
        self._strict = [i for i, c in enumerate(self._columns) if c.name in keys or not c.nullable]
        record = pa.struct([pa.field(c.name, _reader_type(c)) for c in self._columns])
        message = pa.schema([pa.field("record", record), pa.field("version", pa.int64())])
        self._parse = pa_json.ParseOptions(explicit_schema=message, unexpected_field_behavior="ignore")
        self._read = pa_json.ReadOptions(block_size=_JSON_READER_BLOCK_BYTES)

    @classmethod
    def for_columns(cls, columns: t.Sequence[Column], keys: set[str]) -> ArrowJsonReader | None:
        """A reader when Arrow can parse every column and every column is from the record itself."""
        if not columns or any(not _arrow_readable(c) or c.name in SDC_FROM_MESSAGE for c in columns):
            return None
        return cls(columns, keys)

    def read(self, joined: bytes, rows: int) -> tuple[list[pa.Array], set[int | None]] | None:
        """(column arrays, table versions) of `rows` lines joined by newlines, or None when the
        msgspec path must decide."""
        try:
            table = pa_json.read_json(pa.BufferReader(joined), read_options=self._read, parse_options=self._parse)
        except (pa.ArrowException, ValueError):  # UnicodeDecodeError is a ValueError
            return None
        records = table.column("record").combine_chunks()
        if table.num_rows != rows or records.null_count:
            return None
        try:
            records.validate(full=True)  # the reader does not check that strings are UTF-8
        except pa.ArrowInvalid:
            return None
        arrays = []
        for column, values in zip(self._columns, records.flatten(), strict=True):
            converted = self._convert(column, values)
            if converted is None:
                return None
            arrays.append(converted)
        if any(arrays[i].null_count for i in self._strict):
            return None
        return arrays, set(table.column("version").unique().to_pylist())

    @staticmethod
    def _convert(column: Column, values: pa.Array) -> pa.Array | None:
        try:
            if column.kind is Kind.DATETIME:
                return _timestamps(values)
            if column.kind is Kind.DATE:
                return _dates(values)
        except RecordError:
            return None
        # NaN/Infinity are not JSON, and beyond 2**53 the reader may have rounded an integer
        # literal: the msgspec path, which sees the literal, decides and names the line.
        return values if all(_exact(numbers) for numbers in _doubles(values)) else None


def _may_hold_nan(joined: bytes) -> bool:
    """Arrow's reader accepts the non-JSON literals NaN and Infinity, even in fields it ignores,
    which msgspec refuses: a batch mentioning them anywhere (a C substring search; usually inside
    some text) goes to the msgspec path, which tells them apart. Only that batch: the stream
    stays on the fast path."""
    return b"NaN" in joined or b"Infinity" in joined


def _reader_type(column: Column) -> pa.DataType:
    return column.arrow_type if column.kind is Kind.NATIVE else _JSON_READER_TYPES[column.kind]


def _doubles(values: pa.Array) -> t.Iterator[pa.Array]:
    """Every float64 array in `values`, at any depth of structs and lists."""
    if pa.types.is_floating(values.type):
        yield values
    elif pa.types.is_struct(values.type):
        for child in values.flatten():
            yield from _doubles(child)
    elif pa.types.is_list(values.type):
        yield from _doubles(values.flatten())


def _exact(numbers: pa.Array) -> bool:
    """No NaN/Infinity, and no magnitude at which the reader may have rounded an integer literal."""
    return pc.all(pc.less(pc.abs(numbers), _EXACT_DOUBLE_LIMIT)).as_py() is not False


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


def _first_null(array: pa.Array) -> int:
    return array.is_null().to_pylist().index(True)


def _first_bad(data: t.Sequence[t.Any], ok: t.Callable[[t.Any], bool]) -> int | None:
    return next((i for i, value in enumerate(data) if value is not None and not ok(value)), None)


def _int_in_range(value: int) -> bool:
    return -(2**63) <= value < 2**63


def _to_arrow(column: Column, data: t.Sequence[t.Any]) -> pa.Array:
    kind = column.kind
    if kind is Kind.INTEGER:
        try:
            return pa.array(data, pa.int64())
        except (OverflowError, pa.ArrowInvalid):
            index = _first_bad(data, _int_in_range)
            raise RecordError(index, "integer out of the int64 range") from None
    if kind is Kind.NUMBER:
        try:
            return pa.array(data, pa.float64())
        except (OverflowError, pa.ArrowInvalid):  # pyarrow refuses ints beyond +-2**53
            return _exact_doubles(data)
    if kind in {Kind.BOOLEAN, Kind.STRING}:
        return pa.array(data, column.arrow_type)
    if kind is Kind.DATETIME:
        return _timestamps(pa.array(data, pa.string()))
    if kind is Kind.DATE:
        return _dates(pa.array(data, pa.string()))
    if kind is Kind.JSON:
        return _of_declared_json_type(column, _json_text(data))
    if kind is Kind.UNION:
        if (
            column.json_types
            and (index := _first_bad(data, lambda raw: _is_json_type(raw, column.json_types))) is not None
        ):
            raise RecordError(
                index, f"expected {' or '.join(sorted(column.json_types))}, got {bytes(data[index])[:40]!r}"
            )
        return pa.array([_union_text(v) for v in data], pa.string())
    return _native(column, data)


def _of_declared_json_type(column: Column, text: pa.Array) -> pa.Array:
    """An object column holds objects and an array column arrays: `5` or `"x"` is refused, not
    stored as JSON text (checked per column by the first character of the compact text)."""
    opening = "{" if column.json_types == {"object"} else "["
    wrong = pc.fill_null(pc.not_equal(pc.utf8_slice_codeunits(text, 0, 1), opening), False)
    if not pc.any(wrong).as_py():
        return text
    index = wrong.to_pylist().index(True)
    expected = "an object" if opening == "{" else "an array"
    raise RecordError(index, f"expected {expected}, got {text[index].as_py()[:40]!r}")


#: The JSON type of a raw value, from its first byte (numbers are told apart by their literal).
_FIRST_BYTE_TYPES = {
    ord("{"): "object",
    ord("["): "array",
    ord('"'): "string",
    ord("t"): "boolean",
    ord("f"): "boolean",
}


def _is_json_type(raw: msgspec.Raw, allowed: frozenset[str]) -> bool:
    data = bytes(raw)
    if data == _NULL_JSON:
        return True
    found = _FIRST_BYTE_TYPES.get(data[0]) or ("number" if any(c in data for c in b".eE") else "integer")
    return found in allowed or (found == "integer" and "number" in allowed)


def _exact_doubles(data: t.Sequence[int | float | None]) -> pa.Array:
    """Numbers whose integer literals go beyond +-2**53: keep those a double holds exactly (2**60),
    refuse the rest (2**53 + 1), which a double would silently round (see `Kind.NUMBER`)."""
    index = _first_bad(data, _is_exact_double)
    if index is not None:
        value = str(data[index])
        shown = value if len(value) <= 40 else f"{value[:37]}..."
        message = f"integer {shown} is not exactly representable as a double (number columns are float64)"
        raise RecordError(index, message)
    return pa.array([None if v is None else float(v) for v in data], pa.float64())


def _is_exact_double(value: float) -> bool:
    try:
        return float(value) == value
    except OverflowError:
        return False


def _compact(text: bytes) -> bytes:
    """Objects/arrays are stored as compact JSON whatever the tap's spacing, so equal values are
    equal strings."""
    return msgspec.json.format(text, indent=-1)


def _json_text(raws: t.Sequence[msgspec.Raw]) -> pa.Array:
    """Raw JSON values → string column without a Python object per value: the bytes are joined
    once and sliced by Arrow offsets. JSON `null` becomes a real null; values containing
    whitespace (possibly pretty-printed) are compacted, the usual compact ones are untouched."""
    offsets = pa.array(itertools.accumulate(map(len, raws), initial=0), pa.int64())
    raw = pa.Array.from_buffers(
        pa.large_binary(), len(raws), [None, offsets.buffers()[1], pa.py_buffer(b"".join(raws))]
    )
    is_null = pc.equal(raw, pa.scalar(_NULL_JSON, pa.large_binary()))
    raw = pc.if_else(is_null, pa.scalar(None, pa.large_binary()), raw)
    spaced = pc.fill_null(pc.match_substring_regex(raw, r"[ \t\r\n]"), False)
    if pc.any(spaced).as_py():
        compacted = [_compact(v) for v in pc.filter(raw, spaced).to_pylist()]
        raw = pc.replace_with_mask(raw, spaced, pa.array(compacted, pa.large_binary()))
    try:
        return raw.cast(pa.string())
    except pa.ArrowInvalid:
        index = _first_bad(raw.to_pylist(), _is_utf8)
        raise RecordError(index, "text is not valid UTF-8") from None


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


def _union_text(raw: msgspec.Raw) -> str | None:
    """A value of a union/unknown column: strings as themselves, anything else as JSON text."""
    data = bytes(raw)
    if data == _NULL_JSON:
        return None
    if data[:1] == b'"':
        return msgspec.json.decode(data, type=str)
    return _compact(data).decode() if any(c in data for c in b" \t\r\n") else data.decode()


def _timestamps(strings: pa.Array) -> pa.Array:
    """ISO-8601 strings → timestamp(us, UTC), column-wise; naive values are taken as UTC.

    Arrow's cast handles the common shapes at C speed; mixed offset/naive columns and nanosecond
    fractions fall back to a slower but exact path, which also names the first bad value.
    Sub-microsecond digits are floored (toward the past), like Python's datetime drops them, so
    `1969-12-31T23:59:59.9999995Z` stays on its day. Years outside 0001-9999 are refused.
    """
    for attempt in (
        lambda: strings.cast(TIMESTAMP_UTC),
        lambda: strings.cast(pa.timestamp("us")).cast(TIMESTAMP_UTC),
        lambda: pc.floor_temporal(strings.cast(pa.timestamp("ns", tz="UTC")), unit="microsecond").cast(TIMESTAMP_UTC),
    ):
        try:
            return _within(attempt(), strings, _FIRST_MOMENT, _LAST_MOMENT, "date-time")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    parsed: list[datetime.datetime | None] = []
    for index, value in enumerate(strings.to_pylist()):
        if value is None:
            parsed.append(None)
            continue
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise RecordError(index, f"'{value[:64]}' is not an ISO-8601 date-time") from None
        parsed.append(moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc))
    return pa.array(parsed, TIMESTAMP_UTC)


def _within(values: pa.Array, strings: pa.Array, first: pa.Scalar, last: pa.Scalar, what: str) -> pa.Array:
    """`values` when every one lies in the years 0001-9999 (one vectorised pass), else the error."""
    extremes = pc.min_max(values)
    low, high = extremes["min"], extremes["max"]
    if not low.is_valid or (pc.greater_equal(low, first).as_py() and pc.less_equal(high, last).as_py()):
        return values
    outside = pc.or_(pc.less(values, first), pc.greater(values, last))
    index = pc.index(outside, value=True).as_py()
    raise RecordError(index, f"'{strings[index].as_py()[:64]}' is a {what} outside the years 0001-9999")


def _dates(strings: pa.Array) -> pa.Array:
    try:
        return _within(strings.cast(pa.date32()), strings, _FIRST_DATE, _LAST_DATE, "date")
    except pa.ArrowInvalid:
        parsed = []
        for index, value in enumerate(strings.to_pylist()):
            try:
                parsed.append(None if value is None else datetime.date.fromisoformat(value))
            except ValueError:
                raise RecordError(index, f"'{value[:64]}' is not an ISO-8601 date") from None
        return pa.array(parsed, pa.date32())


def _native(column: Column, data: t.Sequence[t.Any]) -> pa.Array:
    normalize = column.native_normalize
    assert normalize is not None  # set for every NATIVE column by arrow_schema
    normalized = []
    for index, value in enumerate(data):
        try:
            normalized.append(normalize(value))
        except NestedValueError as exc:
            where = f" at {column.name}{exc.path_text}" if exc.path else ""
            raise RecordError(index, f"{exc.message}{where}") from None
    return pa.array(normalized, column.arrow_type)
