"""Arrow rows (a parquet BATCH file) → the stream's columns, checked like decoded RECORD lines.

A RECORD line is checked against the type of each column (`decoding.BatchDecoder`, with the
conversions of `column_arrays`); here the same rule is applied to the Arrow type of each column
of the file, column-wise:

- integer: integer types only (a float is refused, as `2.0` is in a RECORD), within int64;
- number: integers (those beyond +-2**53 only when a double holds them exactly, as in a RECORD),
  floats and decimals, finite (JSON has no NaN/Infinity);
- boolean: booleans; string: strings;
- date-time / date: ISO-8601 strings, parsed by the same functions as RECORD values, or Arrow
  timestamps/dates (naive timestamps are UTC, as naive strings are; sub-microseconds are floored);
- objects, arrays, unions and native structs/lists: the values, through the same conversion as
  RECORD values (JSON text, or the native normaliser).

A column absent from the file is null, as a property absent from a record; a key property or a
required non-nullable property absent from the file, or null in a non-nullable column, is an
error. Columns the schema does not declare are ignored, as unknown properties of a RECORD are.
"""

from __future__ import annotations

import typing as t

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from target_parquet_bucket.arrow_schema import SDC_FROM_MESSAGE, TIMESTAMP_UTC, Kind
from target_parquet_bucket.column_arrays import RecordError, dates, timestamps, to_arrow

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    from target_parquet_bucket.arrow_schema import Column
    from target_parquet_bucket.decoding import BatchDecoder

#: Objects/arrays read from parquet come back as Python values; they are re-encoded as the JSON a
#: RECORD would have carried (decimals as numbers, timestamps as RFC 3339).
_json = msgspec.json.Encoder(decimal_format="number")


class ArrowRecordCaster:
    """Casts record batches of one BATCH stream to the columns of its SCHEMA."""

    def __init__(self, decoder: BatchDecoder, key_properties: Sequence[str]) -> None:
        """The stream's RECORD decoder gives the columns, the Arrow schema and the `_sdc_*` values."""
        self.columns = decoder.columns
        self.schema = decoder.schema
        self._keys = set(key_properties)
        self._decoder = decoder

    def cast(self, batch: pa.RecordBatch, version: int | None) -> pa.RecordBatch:
        """The batch with the stream's columns and types; RecordError(row index) when it does not fit."""
        arrays = [self._column(column, batch, version) for column in self.columns]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _column(self, column: Column, batch: pa.RecordBatch, version: int | None) -> pa.Array:
        rows = batch.num_rows
        if column.name in SDC_FROM_MESSAGE:
            # The same `_sdc_*` values as a RECORD without time_extracted: one rule, in the decoder.
            return self._decoder.metadata_array(column, rows, versions=pa.array([version] * rows, pa.int64()))
        index = batch.schema.get_field_index(column.name)
        if index < 0:
            if column.name in self._keys or not column.nullable:
                kind = "key property" if column.name in self._keys else "required non-nullable field"
                raise RecordError(0 if rows else None, f"{kind} '{column.name}' is missing")
            return pa.nulls(rows, column.arrow_type)
        values = batch.column(index)
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        try:
            array = _convert(column, values)
        except RecordError as exc:
            raise RecordError(exc.index, f"column '{column.name}': {exc.message}") from None
        if not column.nullable and array.null_count:
            first = array.is_null().to_pylist().index(True)
            raise RecordError(first, f"column '{column.name}' is declared non-nullable but is null")
        return array


def _convert(column: Column, values: pa.Array) -> pa.Array:
    """One column of the file → the column's Arrow type, or RecordError naming the first bad row."""
    source = values.type
    if pa.types.is_null(source):
        return pa.nulls(len(values), column.arrow_type)
    kind = column.kind
    if kind is Kind.INTEGER and pa.types.is_integer(source):
        try:
            return values.cast(pa.int64())
        except pa.ArrowInvalid:
            first = _first_true(pc.greater(values, 2**63 - 1))
            raise RecordError(first, "integer out of the int64 range") from None
    if kind is Kind.NUMBER and (
        pa.types.is_integer(source) or pa.types.is_floating(source) or pa.types.is_decimal(source)
    ):
        try:
            numbers = values.cast(pa.float64())
        except pa.ArrowInvalid:  # integers beyond +-2**53: kept when a double holds them exactly
            return to_arrow(column, values.to_pylist())
        if pc.any(pc.invert(pc.is_finite(numbers))).as_py():
            first = _first_true(pc.invert(pc.is_finite(numbers)))
            raise RecordError(first, "NaN or Infinity is not a JSON number")
        return numbers
    if kind is Kind.BOOLEAN and pa.types.is_boolean(source):
        return values
    if kind is Kind.STRING and _is_text(source):
        return values.cast(pa.string())
    if kind is Kind.DATETIME:
        if _is_text(source):
            return timestamps(values.cast(pa.string()))
        if pa.types.is_timestamp(source):
            utc = values if source.tz else values.cast(pa.timestamp(source.unit, tz="UTC"))
            return pc.floor_temporal(utc, unit="microsecond").cast(TIMESTAMP_UTC)
    if kind is Kind.DATE:
        if _is_text(source):
            return dates(values.cast(pa.string()))
        if pa.types.is_date(source):
            return values.cast(pa.date32())
    if kind in {Kind.JSON, Kind.UNION}:
        return to_arrow(column, [msgspec.Raw(_json.encode(value)) for value in values.to_pylist()])
    if kind is Kind.NATIVE:
        return to_arrow(column, values.to_pylist())
    first = _first_true(values.is_valid())
    raise RecordError(first, f"expected {column.kind.value}, got {source}")


def _is_text(source: pa.DataType) -> bool:
    return pa.types.is_string(source) or pa.types.is_large_string(source)


def _first_true(mask: pa.Array) -> int | None:
    """Row index of the first true value (nulls are false), or None."""
    filled = pc.fill_null(mask, False)
    return filled.to_pylist().index(True) if pc.any(filled).as_py() else None
