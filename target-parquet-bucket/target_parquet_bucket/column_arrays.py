"""Values of one column → one Arrow array, with the checks every record path shares.

RECORD lines (`decoding`), BATCH files of records (`batch_files`) and parquet BATCH files
(`arrow_records`) all end here, so a value is accepted or refused by the same rule whichever way
it arrived. Errors carry the value's position in the batch (`RecordError.index`), which the
caller turns into an input line or file row.
"""

from __future__ import annotations

import datetime
import itertools
import typing as t

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from target_parquet_bucket.arrow_schema import TIMESTAMP_UTC, Kind, NestedValueError

if t.TYPE_CHECKING:
    from target_parquet_bucket.arrow_schema import Column

NULL_JSON = b"null"

#: The years every reader of the files can represent (Python's datetime, most warehouses): Arrow
#: itself parses `0000-01-01`, which pyarrow then cannot read back.
_FIRST_MOMENT = pa.scalar(datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc), TIMESTAMP_UTC)
_LAST_MOMENT = pa.scalar(datetime.datetime.max.replace(tzinfo=datetime.timezone.utc), TIMESTAMP_UTC)
_FIRST_DATE = pa.scalar(datetime.date.min, pa.date32())
_LAST_DATE = pa.scalar(datetime.date.max, pa.date32())


class RecordError(Exception):
    """A record that does not fit its stream's schema; `index` is its position in the batch."""

    def __init__(self, index: int | None, message: str, *, missing_key: str | None = None) -> None:
        """Keep the batch position so the sink can name the input line."""
        super().__init__(message)
        self.index = index
        self.message = message
        self.missing_key = missing_key

    def shifted(self, offset: int) -> RecordError:
        """The same error for a part of the batch that starts at `offset`."""
        index = None if self.index is None else self.index + offset
        return RecordError(index, self.message, missing_key=self.missing_key)


def first_null(array: pa.Array) -> int:
    return array.is_null().to_pylist().index(True)


def _first_bad(data: t.Sequence[t.Any], ok: t.Callable[[t.Any], bool]) -> int | None:
    return next((i for i, value in enumerate(data) if value is not None and not ok(value)), None)


def _int_in_range(value: int) -> bool:
    return -(2**63) <= value < 2**63


def to_arrow(column: Column, data: t.Sequence[t.Any]) -> pa.Array:
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
        return timestamps(pa.array(data, pa.string()))
    if kind is Kind.DATE:
        return dates(pa.array(data, pa.string()))
    if kind is Kind.JSON:
        return _of_declared_json_type(column, json_text(data))
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
    if data == NULL_JSON:
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


def json_text(raws: t.Sequence[msgspec.Raw]) -> pa.Array:
    """Raw JSON values → string column without a Python object per value: the bytes are joined
    once and sliced by Arrow offsets. JSON `null` becomes a real null; values containing
    whitespace (possibly pretty-printed) are compacted, the usual compact ones are untouched."""
    offsets = pa.array(itertools.accumulate(map(len, raws), initial=0), pa.int64())
    joined = b"".join(raws)
    raw = pa.Array.from_buffers(pa.large_binary(), len(raws), [None, offsets.buffers()[1], pa.py_buffer(joined)])
    is_null = pc.equal(raw, pa.scalar(NULL_JSON, pa.large_binary()))
    raw = pc.if_else(is_null, pa.scalar(None, pa.large_binary()), raw)
    # Four C substring searches over the joined bytes spare the per-value regex when no value holds
    # whitespace, the usual case.
    if any(space in joined for space in _JSON_WHITESPACE):
        spaced = pc.fill_null(pc.match_substring_regex(raw, r"[ \t\r\n]"), False)
        raw = _compacted(raw, spaced)
    try:
        return raw.cast(pa.string())
    except pa.ArrowInvalid:
        index = _first_bad(raw.to_pylist(), _is_utf8)
        raise RecordError(index, "text is not valid UTF-8") from None


_JSON_WHITESPACE = (b" ", b"\t", b"\r", b"\n")


def _compacted(raw: pa.Array, spaced: pa.Array) -> pa.Array:
    """`raw` with the values marked `spaced` compacted."""
    if pc.any(spaced).as_py():
        compacted = [_compact(v) for v in pc.filter(raw, spaced).to_pylist()]
        raw = pc.replace_with_mask(raw, spaced, pa.array(compacted, pa.large_binary()))
    return raw


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


def _union_text(raw: msgspec.Raw) -> str | None:
    """A value of a union/unknown column: strings as themselves, anything else as JSON text."""
    data = bytes(raw)
    if data == NULL_JSON:
        return None
    if data[:1] == b'"':
        return msgspec.json.decode(data, type=str)
    return _compact(data).decode() if any(c in data for c in b" \t\r\n") else data.decode()


def timestamps(strings: pa.Array) -> pa.Array:
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


def dates(strings: pa.Array) -> pa.Array:
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
