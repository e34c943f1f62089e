"""Checks of SCHEMA, STATE and ACTIVATE_VERSION messages before singer-sdk handles them.

singer-sdk answers malformed messages with a `KeyError`, a `TypeError` from deep inside, a
`RecursionError` or a several-hundred-character metaschema dump. These checks refuse them first
with one sentence naming the stream and what is wrong; the reader adds the input line number
to every `InvalidInputLine` raised while a message is handled.
"""

from __future__ import annotations

import typing as t
from collections import defaultdict

import jsonschema
from singer_sdk.exceptions import InvalidInputLine
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR

#: Deepest nesting of objects/arrays (JSON levels: `{"properties": {"a": {...}}}` is two per
#: schema level) a SCHEMA may have. jsonschema checks schemas recursively and exhausts Python's
#: stack at about 170 levels; 100 leaves room and is ~50 levels of nested objects.
MAX_SCHEMA_DEPTH = 100
_MAX_DETAIL = 160


def check_schema_message(message: t.Mapping[str, t.Any], *, allow_case_colliding_columns: bool) -> None:
    """A SCHEMA names its stream and carries a valid JSON Schema whose properties can be columns."""
    stream = message.get("stream")
    if not isinstance(stream, str):
        msg = f"SCHEMA needs a 'stream' name (a string), got {_shown(stream)}"
        raise InvalidInputLine(msg)
    schema = message.get("schema")
    if not isinstance(schema, dict):
        _refuse(stream, f"'schema' must be a JSON Schema object, got {_shown(schema)}")
    if "properties" not in schema:
        _refuse(stream, "SCHEMA has no 'properties'; declare the record's properties")
    properties = schema["properties"]
    if not isinstance(properties, dict):
        _refuse(stream, f"SCHEMA 'properties' must be an object of property schemas, got {_shown(properties)}")
    for name, prop in properties.items():
        if not isinstance(prop, dict):
            _refuse(stream, f"property '{name}' must be a JSON Schema object, got {_shown(prop)}")
    if (depth := _depth(schema)) > MAX_SCHEMA_DEPTH:
        _refuse(stream, f"SCHEMA nests {depth} levels deep; at most {MAX_SCHEMA_DEPTH} are supported")
    _check_json_schema(stream, schema)
    _check_key_properties(stream, message.get("key_properties"), properties)
    if not allow_case_colliding_columns:
        _check_case_collisions(stream, properties)


def check_state_message(message: t.Mapping[str, t.Any]) -> None:
    """A STATE carries its `value` (what the next run resumes from)."""
    if "value" not in message:
        msg = "STATE has no 'value'"
        raise InvalidInputLine(msg)


def check_activate_version_message(message: t.Mapping[str, t.Any], known_streams: t.Container[str]) -> None:
    """ACTIVATE_VERSION names a stream that had a SCHEMA, and a version."""
    stream = message.get("stream")
    if not isinstance(stream, str):
        msg = f"ACTIVATE_VERSION needs a 'stream' name (a string), got {_shown(stream)}"
        raise InvalidInputLine(msg)
    if stream not in known_streams:
        _refuse(stream, "ACTIVATE_VERSION before any SCHEMA for the stream")
    if "version" not in message:
        _refuse(stream, "ACTIVATE_VERSION has no 'version'")


def _refuse(stream: str, problem: str) -> t.NoReturn:
    msg = f"stream '{stream}': {problem}"
    raise InvalidInputLine(msg)


def _shown(value: t.Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_DETAIL else f"{text[:_MAX_DETAIL]}..."


def _depth(document: t.Any) -> int:
    """JSON nesting depth, iteratively: measuring must not be what overflows the stack."""
    deepest, pending = 0, [(document, 1)]
    while pending:
        value, level = pending.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


def _check_json_schema(stream: str, schema: dict) -> None:
    """The metaschema check singer-sdk runs, reported as the failing keyword's path and message."""
    try:
        DEFAULT_JSONSCHEMA_VALIDATOR.check_schema(schema)
    except jsonschema.SchemaError as exc:  # already the best match among the errors found
        where = ".".join(str(part) for part in exc.path) or "the top level"
        detail = exc.message if len(exc.message) <= _MAX_DETAIL else f"{exc.message[:_MAX_DETAIL]}..."
        _refuse(stream, f"SCHEMA is not a valid JSON Schema at {where}: {detail}")


def _check_key_properties(stream: str, keys: t.Any, properties: dict) -> None:
    if keys is None:
        return
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        _refuse(stream, f"'key_properties' must be a list of property names, got {_shown(keys)}")
    for key in keys:
        if key not in properties:
            _refuse(stream, f"key_properties names '{key}', which is not a property in the SCHEMA")


def _check_case_collisions(stream: str, properties: dict) -> None:
    """`id` and `Id` are two parquet columns, but DuckDB renames one and Snowflake's
    `MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE` merges them: a value would change without a word."""
    by_folded: dict[str, list[str]] = defaultdict(list)
    for name in properties:
        by_folded[name.casefold()].append(name)
    for names in by_folded.values():
        if len(names) > 1:
            both = " and ".join(f"'{name}'" for name in names)
            _refuse(
                stream,
                f"columns {both} differ only in case, which case-insensitive readers (DuckDB, Snowflake) "
                "rename or merge; rename one, or set allow_case_colliding_columns: true",
            )
