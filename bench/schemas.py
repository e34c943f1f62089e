"""JSON schemas of the benchmark streams, and the Arrow schema the pyarrow baseline reads them with.

`messages` uses the schema the tap itself emits, so the target is measured on the real shape. `wide` is
synthetic: many flat columns of every scalar type, the case where per-column overhead dominates.
"""

from __future__ import annotations

import typing as t

import pyarrow as pa

JsonSchema = dict[str, t.Any]

#: Column types of the wide stream, cycled over its columns: (JSON type, format).
WIDE_COLUMN_KINDS: tuple[tuple[str, str | None], ...] = (
    ("string", None),
    ("integer", None),
    ("number", None),
    ("string", "date-time"),
    ("boolean", None),
    ("string", None),
    ("integer", None),
)


def messages_schema() -> JsonSchema:
    """The `messages` schema as declared in the tap package (what its SCHEMA message carries)."""
    from tap_customerio.schemas.messages import MESSAGE

    return MESSAGE


def wide_column_names(columns: int) -> list[str]:
    """Names of the wide stream's columns: `c000_string`, `c001_integer`, ..."""
    names = []
    for index in range(columns):
        kind, fmt = WIDE_COLUMN_KINDS[index % len(WIDE_COLUMN_KINDS)]
        names.append(f"c{index:03d}_{fmt or kind}".replace("-", "_"))
    return names


def wide_schema(columns: int) -> JsonSchema:
    """A flat schema of `columns` nullable columns, plus an `id` key."""
    properties: dict[str, JsonSchema] = {"id": {"type": "integer"}}
    for index, name in enumerate(wide_column_names(columns)):
        kind, fmt = WIDE_COLUMN_KINDS[index % len(WIDE_COLUMN_KINDS)]
        properties[name] = {"type": [kind, "null"], **({"format": fmt} if fmt else {})}
    return {"type": "object", "properties": properties}


def _types(schema: JsonSchema) -> set[str]:
    declared = schema.get("type", [])
    types = {declared} if isinstance(declared, str) else set(declared)
    for option in schema.get("anyOf", []):
        types |= _types(option)
    return types - {"null"}


def arrow_type(schema: JsonSchema) -> pa.DataType | None:
    """The Arrow type pyarrow's JSON reader should produce for a JSON-schema node.

    Nested objects with declared properties become structs and arrays lists, which is what the JSON
    reader does natively (the fastest possible reading). Free-form objects return None: they are left
    out of the explicit schema and inferred by the reader.
    """
    types = _types(schema)
    if len(types) != 1:
        return pa.string() if types else None
    (kind,) = types
    if kind == "object":
        fields = [
            pa.field(name, child)
            for name, sub in schema.get("properties", {}).items()
            if (child := arrow_type(sub)) is not None
        ]
        return pa.struct(fields) if fields else None
    if kind == "array":
        item = arrow_type(schema.get("items", {}))
        return pa.list_(item) if item is not None else None
    if kind == "string":
        return {"date-time": pa.timestamp("us", tz="UTC"), "date": pa.date32()}.get(
            schema.get("format", ""), pa.string()
        )
    return {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}[kind]


def arrow_schema(schema: JsonSchema) -> pa.Schema:
    """Explicit schema for `pyarrow.json.read_json`: every typed top-level property."""
    fields = [pa.field(name, typ) for name, sub in schema["properties"].items() if (typ := arrow_type(sub)) is not None]
    return pa.schema(fields)
