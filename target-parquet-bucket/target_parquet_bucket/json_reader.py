"""Fast path of `decoding.BatchDecoder`: pyarrow's C++ JSON reader parses a batch into columns.

For streams whose every column is typed (scalars, and with `native_nested` structs/lists of typed
scalars), Arrow's reader parses a batch with an explicit schema, on reader threads and without a
Python object per value (about 3x less CPU than msgspec plus per-column conversion on a 120-column
stream, and native structs in 2x less, measured with `bench/`).

Streams with columns kept as JSON text (objects, arrays, unions) stay on the msgspec path: Arrow
cannot hand back a value's text, and having msgspec extract the texts while Arrow parses the other
columns (both then parse every byte) was measured on `messages` (300k records, two A/B pairs at a
load average of 12 on 2 cores) to take 10-50% more CPU and more wall time than msgspec alone.

It only ever accepts batches it reads exactly as the msgspec path would. Anything else (a type
it rejects, a duplicate key, a missing or null record, nulls in key or required columns,
NaN/Infinity or integers beyond 2**53 in number fields at any depth, text that is not UTF-8, a
line holding several values, a value the shared checks refuse) returns None, and the msgspec path
decodes the batch and names the line.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from target_parquet_bucket.arrow_schema import SDC_FROM_MESSAGE, Column, Kind
from target_parquet_bucket.column_arrays import RecordError, dates, timestamps

if t.TYPE_CHECKING:
    from concurrent.futures import Future

ArrowRead = tuple[list[pa.Array], set[int | None]]

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
_BLOCK_BYTES = 4 * 1024 * 1024
#: Integers beyond +-2**53 are where doubles stop holding every integer exactly.
_EXACT_DOUBLE_LIMIT = 2.0**53
#: What precedes a bare NaN/Infinity literal (a value), as opposed to the same letters inside text.
_VALUE_START = frozenset(b":,[")


def _arrow_readable(column: Column) -> bool:
    """Scalars, and native structs/lists whose leaves are all typed scalars."""
    return column.kind in _JSON_READER_TYPES or (column.kind is Kind.NATIVE and column.native_leaves_typed)


class ArrowJsonReader:
    """Reads batches of one stream's RECORD lines with Arrow."""

    def __init__(self, columns: t.Sequence[Column], keys: set[str]) -> None:
        """One explicit Arrow schema per SCHEMA message: no type inference, unknown fields ignored."""
        self._columns = list(columns)
        self._checked = {c.name for c in self._columns if c.name in keys or not c.nullable}
        record = pa.struct([pa.field(c.name, _reader_type(c)) for c in self._columns])
        message = [pa.field("record", record), pa.field("version", pa.int64())]
        self._lenient = pa_json.ParseOptions(explicit_schema=pa.schema(message), unexpected_field_behavior="ignore")
        envelope = [pa.field(name, pa.string()) for name in ("type", "stream", "time_extracted")]
        self._strict = pa_json.ParseOptions(
            explicit_schema=pa.schema(message + envelope), unexpected_field_behavior="error"
        )
        #: Whether every batch so far held only declared fields (then no field is ignored, see `read`).
        #: Two parts may be read at once (see `_readers`): the flag only ever turns False, and a part
        #: read either way yields the same rows (a strict read that fails is read again leniently; at
        #: worst the batch goes to the msgspec path, which decodes it the same, only slower).
        self._all_declared = True
        #: Blocks of 4 MiB: a part of `messages` (~3 MB) is one block, parsed by one of Arrow's threads
        #: while the other takes the next part; a part of wide records is shared by both. Four
        #: alternating rounds (1M `messages` with `native_nested`; 100k records of 120 columns) gave
        #: medians of 6.00 and 3.29 s, against 6.19 and 4.23 s parsing each part on its reader thread
        #: alone (one 16 MiB block) and 6.91 and 3.46 s before a full batch was finished while the
        #: next one was read (docs/benchmarks.md).
        self._read_options = pa_json.ReadOptions(block_size=_BLOCK_BYTES)
        #: Parts of the batch being buffered, handed to `_readers` by `read_ahead`.
        self._ahead_of: list[bytes] | None = None
        self._ahead: list[Future[ArrowRead | None]] = []
        self._ahead_lines = 0

    @classmethod
    def for_columns(cls, columns: t.Sequence[Column], keys: set[str]) -> ArrowJsonReader | None:
        """A reader when Arrow can parse every column and every column is from the record itself."""
        if not columns or any(not _arrow_readable(c) or c.name in SDC_FROM_MESSAGE for c in columns):
            return None
        return cls(columns, keys)

    def read_ahead(self, lines: list[bytes]) -> None:
        """Start parsing the lines of `lines` (the batch the sink is buffering) not handed over yet,
        on a reader thread: Arrow's reader releases the GIL, so it parses while this thread
        reads the next input lines. `submit_batch(lines)` hands over the rest. What is kept is the
        parsed form of lines the batch holds anyway, so memory stays one batch per stream."""
        if lines is not self._ahead_of:
            self._ahead_of, self._ahead, self._ahead_lines = lines, [], 0
        if len(lines) > self._ahead_lines:
            self._ahead.append(_readers.submit(self.read, lines[self._ahead_lines :]))
            self._ahead_lines = len(lines)

    def submit_batch(self, lines: t.Sequence[bytes]) -> list[Future[ArrowRead | None]]:
        """Every part of `lines` being parsed on the reader threads: the parts read ahead (when `lines` is
        the batch they came from) and the rest. `collect` waits for them."""
        ahead, parsed = (self._ahead, self._ahead_lines) if lines is self._ahead_of else ([], 0)
        self._ahead_of, self._ahead, self._ahead_lines = None, [], 0
        if parsed < len(lines):
            ahead.append(_readers.submit(self.read, lines[parsed:]))
        return ahead

    @staticmethod
    def collect(parts: t.Sequence[Future[ArrowRead | None]]) -> ArrowRead | None:
        """`read` of the whole batch, from its parts; None when any part needs the msgspec path."""
        done = [future.result() for future in parts]
        if None in done:
            return None
        reads = t.cast("list[ArrowRead]", done)
        if len(reads) == 1:
            return reads[0]
        columns = [pa.concat_arrays(list(arrays)) for arrays in zip(*(arrays for arrays, _ in reads), strict=True)]
        return columns, set().union(*(versions for _, versions in reads))

    def read(self, lines: t.Sequence[bytes]) -> ArrowRead | None:
        """(column arrays, table versions) of the batch, or None when the msgspec path must decide.

        While records hold only declared fields, unknown fields are an error to Arrow's reader, so
        every value it accepts was typed by it (NaN/Infinity included: refused by every type but
        doubles, which `_convert` checks). Once a batch holds a field the schema does not declare,
        the stream's batches are read ignoring such fields, after a search for NaN/Infinity,
        which the reader would otherwise accept in them.
        """
        joined = b"\n".join(lines)
        if self._all_declared:
            if (table := self._parse_json(joined, self._strict)) is not None:
                return self._arrays(table, len(lines))
            self._all_declared = False
        if may_hold_nan(joined):
            return None
        return self._arrays(self._parse_json(joined, self._lenient), len(lines))

    def _parse_json(self, joined: bytes, options: pa_json.ParseOptions) -> pa.Table | None:
        try:
            return pa_json.read_json(pa.BufferReader(joined), read_options=self._read_options, parse_options=options)
        except (pa.ArrowException, ValueError):  # UnicodeDecodeError is a ValueError
            return None

    def _arrays(self, table: pa.Table | None, rows: int) -> tuple[list[pa.Array], set[int | None]] | None:
        if table is None:
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
            converted = _convert(column, values)
            if converted is None or (column.name in self._checked and converted.null_count):
                return None
            arrays.append(converted)
        return arrays, set(table.column("version").unique().to_pylist())


#: Parses the parts of batches (every stream's), two at a time, one on each core of a 2-core machine
#: while the main thread reads input; `collect` takes the parts in the order they were cut. With one
#: thread (and Arrow's threads sharing each part), `native_nested` on 1M `messages` took 5.19-5.34 s
#: (median 5.26) against 4.84-4.96 s (4.90) with two, in alternating runs on 2 cores, at the same CPU
#: time and 10-17 MB more peak memory.
_readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="arrow-json")


def may_hold_nan(joined: bytes) -> bool:
    """Arrow's reader accepts the non-JSON literals NaN and Inf(inity), even in fields it ignores,
    which msgspec refuses. A batch holding one where a value starts (after `:`, `,` or `[`, a sign
    and spaces) goes to the msgspec path; the same letters inside text (`"NaN"`, an id that
    happens to contain them) are skipped by a look at what precedes each occurrence."""
    for literal in (b"NaN", b"Inf"):
        position = joined.find(literal)
        while position >= 0:
            before = joined[max(0, position - 64) : position].rstrip(b" \t\r\n").rstrip(b"+-").rstrip(b" \t\r\n")
            if not before or before[-1] in _VALUE_START:
                return True
            position = joined.find(literal, position + len(literal))
    return False


def _reader_type(column: Column) -> pa.DataType:
    return column.arrow_type if column.kind is Kind.NATIVE else _JSON_READER_TYPES[column.kind]


def _convert(column: Column, values: pa.Array) -> pa.Array | None:
    try:
        if column.kind is Kind.DATETIME:
            return timestamps(values)
        if column.kind is Kind.DATE:
            return dates(values)
    except RecordError:
        return None
    # NaN/Infinity are not JSON, and beyond 2**53 the reader may have rounded an integer
    # literal: the msgspec path, which sees the literal, decides and names the line.
    return values if all(_exact(numbers) for numbers in _doubles(values)) else None


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
