"""JSON Schema → Arrow columns.

Types come from the stream's declared schema, never from the values in a batch, so every file of a
stream has the same columns and types even when a column is null in every row (a known failure of
value-inferring targets). Anything we cannot type faithfully becomes a string, and a schemaless
object never becomes an empty struct (parquet cannot store a struct without children).
"""

from __future__ import annotations

import enum
import typing as t
from dataclasses import dataclass

import msgspec
import pyarrow as pa

TIMESTAMP_UTC = pa.timestamp("us", tz="UTC")

#: Metadata columns singer-sdk adds to the sink schema when `add_record_metadata` is on. Their
#: values come from the RECORD message and the batch, not from the record itself.
SDC_FROM_MESSAGE = frozenset(
    {
        "_sdc_extracted_at",
        "_sdc_received_at",
        "_sdc_batched_at",
        "_sdc_sequence",
        "_sdc_table_version",
        "_sdc_sync_started_at",
    }
)

#: Field metadata marking a string column that holds JSON text (objects, arrays), so the jsonl
#: writer can embed it back as JSON instead of as a quoted string.
JSON_TEXT_METADATA = {b"json": b"true"}


class Kind(enum.Enum):
    """How a column's values are decoded and converted."""

    INTEGER = "integer"
    #: An IEEE-754 double, as JSON Schema and Singer treat numbers. A literal with a fraction or an
    #: exponent is the double nearest to it (what every JSON reader does); an integer literal is
    #: decoded as an exact int and must be a value a double holds exactly, or the record is refused
    #: (2**53 + 1 would silently become 2**53).
    NUMBER = "number"
    BOOLEAN = "boolean"
    STRING = "string"
    DATETIME = "date-time"
    DATE = "date"
    JSON = "json"  # object/array kept as its JSON text
    UNION = "union"  # several or unknown types: strings as-is, anything else as JSON text
    NATIVE = "native"  # object/array as a native struct/list


@dataclass(frozen=True)
class Column:
    """One top-level column of a stream."""

    name: str
    kind: Kind
    arrow_type: pa.DataType
    nullable: bool
    native_normalize: t.Callable[[t.Any], t.Any] | None = None
    #: The declared type allows null (or no type is declared). A key property whose type does
    #: not is refused when null, even though the column stays nullable like any optional one.
    null_declared: bool = True
    #: JSON-text and union columns: the JSON types their values may have (empty: any type).
    json_types: frozenset[str] = frozenset()
    #: A NATIVE column whose leaves are all integers, numbers, booleans or strings (none kept as
    #: JSON text): Arrow's JSON reader parses its values straight into `arrow_type`.
    native_leaves_typed: bool = False

    @property
    def decode_type(self) -> t.Any:
        """The msgspec type a value of this column is decoded into (validation happens here)."""
        base: t.Any = {
            Kind.INTEGER: int,
            Kind.NUMBER: int | float,  # integer literals stay exact ints until checked
            Kind.BOOLEAN: bool,
            Kind.STRING: str,
            Kind.DATETIME: str,
            Kind.DATE: str,
        }.get(self.kind)
        if base is None:
            # Raw keeps objects/arrays/unions as their JSON bytes: no Python objects are built.
            return t.Any if self.kind is Kind.NATIVE else msgspec.Raw
        return base | None if self.nullable else base

    def arrow_field(self) -> pa.Field:
        """The Arrow field, marked when it carries JSON text."""
        metadata = JSON_TEXT_METADATA if self.kind is Kind.JSON else None
        return pa.field(self.name, self.arrow_type, nullable=self.nullable, metadata=metadata)


def _declared_types(prop: t.Mapping[str, t.Any]) -> tuple[set[str], set[str | None], bool]:
    """Collect (types, string formats, declared) over `type` and every `anyOf`/`oneOf` branch."""
    types: set[str] = set()
    formats: set[str | None] = set()
    declared = False
    branches = [prop, *prop.get("anyOf", []), *prop.get("oneOf", [])]
    for branch in branches:
        raw = branch.get("type")
        if raw is None:
            continue
        declared = True
        branch_types = {raw} if isinstance(raw, str) else set(raw)
        types |= branch_types
        if "string" in branch_types:
            formats.add(branch.get("format"))
    if prop.get("anyOf") or prop.get("oneOf"):
        # An anyOf branch without `type` (e.g. {"$ref": ...} or {}) accepts anything.
        for branch in [*prop.get("anyOf", []), *prop.get("oneOf", [])]:
            if "type" not in branch:
                declared = False
    return types, formats, declared


def _scalar_kind(types: set[str], formats: set[str | None]) -> Kind | None:
    """The kind for a non-null type set, or None when the set is not a single scalar type."""
    if types == {"integer"}:
        return Kind.INTEGER
    if types in ({"number"}, {"integer", "number"}):  # every integer is a number
        return Kind.NUMBER
    if types == {"boolean"}:
        return Kind.BOOLEAN
    if types == {"string"}:
        if formats == {"date-time"}:
            return Kind.DATETIME
        if formats == {"date"}:
            return Kind.DATE
        return Kind.STRING
    return None


def _is_nullable(types: set[str], declared: bool, required: bool) -> bool:
    return not (declared and required and "null" not in types)


def _json_string(value: t.Any) -> t.Any:
    """Leaves of a native struct that have no faithful Arrow type are stored as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


class NestedValueError(Exception):
    """A value inside a native struct/list that does not fit its declared type; `path` is filled in
    by the enclosing objects/arrays on the way out (only on this error path, so it costs nothing)."""

    def __init__(self, message: str) -> None:
        """`path` starts empty at the leaf."""
        super().__init__(message)
        self.message = message
        self.path: list[str] = []

    @property
    def path_text(self) -> str:
        """`.b[2].c` below the column (outermost first)."""
        return "".join(reversed(self.path))


def _describe(value: t.Any) -> str:
    return f"{type(value).__name__} {msgspec.json.encode(value)[:80].decode(errors='replace')}"


def _integer(value: t.Any) -> t.Any:
    """Exactly an int64: 2.7 (or 2.0, or true) is refused, as the flat path's msgspec type does."""
    if value is None or (type(value) is int and -(2**63) <= value < 2**63):
        return value
    raise NestedValueError(f"expected an integer within int64, got {_describe(value)}")


def _number(value: t.Any) -> t.Any:
    """A double; an integer literal only when a double holds it exactly (see `Kind.NUMBER`)."""
    if value is None or type(value) is float:
        return value
    if type(value) is int and _exact_double(value):
        return float(value)
    raise NestedValueError(f"expected a number a double holds exactly, got {_describe(value)}")


def _exact_double(value: int) -> bool:
    try:
        return float(value) == value
    except OverflowError:
        return False


def _boolean(value: t.Any) -> t.Any:
    if value is None or type(value) is bool:
        return value
    raise NestedValueError(f"expected a boolean, got {_describe(value)}")


def _string(value: t.Any) -> t.Any:
    if value is None or type(value) is str:
        return value
    raise NestedValueError(f"expected a string, got {_describe(value)}")


_NATIVE_SCALARS: dict[Kind, tuple[pa.DataType, t.Callable[[t.Any], t.Any]]] = {
    Kind.INTEGER: (pa.int64(), _integer),
    Kind.NUMBER: (pa.float64(), _number),
    Kind.BOOLEAN: (pa.bool_(), _boolean),
    Kind.STRING: (pa.string(), _string),
}


def _native_type(prop: t.Mapping[str, t.Any]) -> tuple[pa.DataType, t.Callable[[t.Any], t.Any], bool]:
    """Arrow type, value normaliser and whether every leaf is typed (none kept as JSON text) for a
    value nested inside a native struct/list.

    The normaliser checks each value against its declared type, as the flat path's msgspec types
    do: a value is stored as sent or refused, never converted (pyarrow would truncate 2.7 to 2).
    Nested date-times stay strings: parsing them would need a per-value pass over nested data,
    and the top-level columns are where warehouses expect typed timestamps.
    """
    types, formats, declared = _declared_types(prop)
    types.discard("null")
    kind = _scalar_kind(types, formats) if declared else None
    if kind in {Kind.DATETIME, Kind.DATE}:
        kind = Kind.STRING
    if kind is not None:
        return (*_NATIVE_SCALARS[kind], True)
    if types == {"object"} and isinstance(prop.get("properties"), dict) and prop["properties"]:
        children = {name: _native_type(sub) for name, sub in prop["properties"].items()}
        struct = pa.struct([pa.field(name, child[0]) for name, child in children.items()])
        normalizers = [(name, norm) for name, (_, norm, _) in children.items()]

        def normalize_object(value: t.Any) -> t.Any:
            if not isinstance(value, dict):
                return None if value is None else _raise_not(value, "an object")
            normalized = {}
            for name, norm in normalizers:
                try:
                    normalized[name] = norm(value.get(name))
                except NestedValueError as exc:
                    exc.path.append(f".{name}")
                    raise
            return normalized

        return struct, normalize_object, all(typed for _, _, typed in children.values())
    if types == {"array"} and isinstance(prop.get("items"), dict) and prop["items"]:
        item_type, item_norm, item_typed = _native_type(prop["items"])

        def normalize_array(value: t.Any) -> t.Any:
            if not isinstance(value, list):
                return None if value is None else _raise_not(value, "an array")
            normalized = []
            for index, item in enumerate(value):
                try:
                    normalized.append(item_norm(item))
                except NestedValueError as exc:
                    exc.path.append(f"[{index}]")
                    raise
            return normalized

        return pa.list_(item_type), normalize_array, item_typed
    return pa.string(), _json_string, False


def _raise_not(value: t.Any, expected: str) -> t.NoReturn:
    raise NestedValueError(f"expected {expected}, got {_describe(value)}")


def column_for(
    name: str,
    prop: t.Mapping[str, t.Any],
    *,
    required: bool,
    native_nested: bool,
) -> Column:
    """Type one top-level property."""
    types, formats, declared = _declared_types(prop)
    nullable = _is_nullable(types, declared, required)
    null_declared = not declared or "null" in types
    types.discard("null")
    scalar = _scalar_kind(types, formats) if declared else None
    if scalar is not None:
        arrow = {
            Kind.INTEGER: pa.int64(),
            Kind.NUMBER: pa.float64(),
            Kind.BOOLEAN: pa.bool_(),
            Kind.STRING: pa.string(),
            Kind.DATETIME: TIMESTAMP_UTC,
            Kind.DATE: pa.date32(),
        }[scalar]
        return Column(name, scalar, arrow, nullable, null_declared=null_declared)
    if declared and types in ({"object"}, {"array"}):
        if native_nested:
            arrow, normalize, typed = _native_type(prop)
            if arrow != pa.string():
                return Column(
                    name,
                    Kind.NATIVE,
                    arrow,
                    nullable,
                    normalize,
                    null_declared=null_declared,
                    native_leaves_typed=typed,
                )
        return Column(name, Kind.JSON, pa.string(), nullable, null_declared=null_declared, json_types=frozenset(types))
    # Unions of several types, and properties without any declared type.
    return Column(name, Kind.UNION, pa.string(), nullable, json_types=frozenset(types) if declared else frozenset())


def columns_for_schema(
    schema: t.Mapping[str, t.Any],
    *,
    native_nested: bool = False,
) -> list[Column]:
    """Every declared top-level property, in schema order, typed."""
    required = set(schema.get("required") or [])
    return [
        column_for(name, prop or {}, required=name in required, native_nested=native_nested)
        for name, prop in (schema.get("properties") or {}).items()
    ]


def arrow_schema(columns: t.Sequence[Column]) -> pa.Schema:
    """The Arrow schema every file of the stream (for this SCHEMA message) is written with."""
    return pa.schema([column.arrow_field() for column in columns])
