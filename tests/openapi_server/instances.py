"""Values built from OpenAPI schemas: the records a list response may hold, in every shape the schema allows.

For a record schema, `records()` gives:
- the schema's own `example`, where it has one (as written);
- "full": every property present, each with its `example` where that fits the property's type;
- "minimal": the required properties only (optional ones absent);
- "nulls": every `nullable` property null;
- one more "full" record per further value of the longest `enum`, so every enum value occurs;
and all of that for each branch of a `oneOf` / `anyOf`.

`identity` names the properties that say which record a record is (`id`, `cio_id`, `email`): a record
without them is not one a client could key, so they stay present and non-null in every shape, and each
record gets its own values for them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jsonschema import Draft7Validator

from .spec import Schema, as_json_schema, merged

UNIX_TIME = 1552341937
FORMAT_VALUES = {
    "email": "person@example.com",
    "url": "https://example.com/hook",
    "ip address": "192.0.2.10",
    "date-time": "2019-03-11T22:05:37Z",
    "base64": "aGVsbG8=",
}


class Generator:
    """Builds values for schemas; `identity` as in the module docstring."""

    def __init__(self, identity: tuple[str, ...] = ()) -> None:
        self.identity = frozenset(identity)

    # -- records of a list ------------------------------------------------------------------------

    def records(self, schema: Schema, leading: Sequence[Any] = ()) -> list[Any]:
        """Every shape of one record of `schema`, each a different record (see the module docstring), after
        the `leading` records (a response example's own)."""
        shapes: list[Any] = list(leading)
        for branch in branches(schema):
            if "example" in branch:
                shapes.append(branch["example"])
            shapes += [self.value(branch, mode, own_example=False) for mode in ("full", "minimal", "nulls")]
            shapes += [self.value(branch, "full", k, own_example=False) for k in range(1, longest_enum(branch))]
        unique = list({json.dumps(shape, sort_keys=True): shape for shape in shapes}.values())
        return [self.distinct(shape, index) for index, shape in enumerate(unique)]

    def distinct(self, record: Any, index: int) -> Any:
        """`record` with its identity values made its own (record 0 keeps the document's values)."""
        if index == 0 or not isinstance(record, dict):
            return record
        return {
            key: self.distinct(value, index)
            if isinstance(value, dict)
            else (own(value, index) if key in self.identity else value)
            for key, value in record.items()
        }

    # -- one value ----------------------------------------------------------------------------------

    def value(self, schema: Schema, mode: str = "full", k: int = 0, *, own_example: bool = True) -> Any:
        """One value of `schema` in `mode` ("full", "minimal", "nulls"); `k` picks the enum value and the
        `oneOf` branch. An object's `example` stands for the whole object in "full" mode only (the other
        modes are about its properties); `own_example=False` builds the object from its properties."""
        schema = merged(schema)
        alternatives = schema.get("oneOf") or schema.get("anyOf")
        if alternatives:
            return self.value(branches(schema)[k % len(alternatives)], mode, k, own_example=own_example)
        if "enum" in schema:
            return schema["enum"][k % len(schema["enum"])]
        kind = schema.get("type") or untyped_kind(schema)
        if (
            own_example
            and "example" in schema
            and fits(schema["example"], schema)
            and (mode == "full" or kind not in ("object", "array"))
        ):
            return schema["example"]
        if kind == "object":
            return self.object(schema, mode, k)
        if kind == "array":
            return [self.value(schema.get("items", {}), mode, k)]
        if kind == "integer":
            return UNIX_TIME if "unix" in str(schema.get("format", "")).lower() else 7
        if kind == "number":
            return 1.5
        if kind == "boolean":
            return k % 2 == 0
        return FORMAT_VALUES.get(schema.get("format", ""), "text")

    def object(self, schema: Schema, mode: str, k: int) -> dict[str, Any]:
        """An object: its properties as `mode` wants them, or one entry of its `additionalProperties`."""
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        result: dict[str, Any] = {}
        for name, prop in properties.items():
            if mode == "minimal" and name not in required and not self.holds_identity(name, prop):
                continue
            if mode == "nulls" and prop.get("nullable") and name not in self.identity:
                result[name] = None
            else:
                result[name] = self.value(prop, mode, k)
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, dict) and mode != "minimal":
            result["custom_key"] = self.value(extra, mode, k)
        return result

    def holds_identity(self, name: str, schema: Schema) -> bool:
        """Whether `name` is an identity property or an object with one inside (a list inside a record
        holds other records' identities, not this one's)."""
        if name in self.identity:
            return True
        schema = merged(schema)
        if schema.get("type") == "array":
            return False
        return any(
            self.holds_identity(n, p)
            for branch in branches(schema)
            for n, p in merged(branch).get("properties", {}).items()
        )


def branches(schema: Schema) -> list[Schema]:
    """The `oneOf` / `anyOf` branches of `schema` (each with the schema's own keys), or the schema itself."""
    schema = merged(schema)
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if not alternatives:
        return [schema]
    shared = {key: value for key, value in schema.items() if key not in ("oneOf", "anyOf")}
    return [{**shared, **merged(alternative)} for alternative in alternatives]


def untyped_kind(schema: Schema) -> str:
    """The type of a schema that declares none, from what it does declare (properties, a unix-time format)."""
    if "properties" in schema:
        return "object"
    return "integer" if "unix" in str(schema.get("format", "")).lower() else "string"


def longest_enum(schema: Schema) -> int:
    """The number of values of the longest `enum` anywhere in `schema`."""
    if isinstance(schema, list):
        return max((longest_enum(item) for item in schema), default=1)
    if not isinstance(schema, dict):
        return 1
    own_enum = len(schema["enum"]) if isinstance(schema.get("enum"), list) else 1
    return max([own_enum, *(longest_enum(value) for key, value in schema.items() if key != "example")])


def fits(example: Any, schema: Schema) -> bool:
    """Whether a property's `example` has the property's own type (the document's `"13XXXX"` for an integer
    id, or `2` for a string id, do not)."""
    kind = schema.get("type")
    if kind is None:
        return True
    return not any(Draft7Validator({"type": as_json_schema(schema)["type"]}).iter_errors(example))


def own(value: Any, index: int) -> Any:
    """An identity value for record `index`: integers counted up, text suffixed, addresses plus-tagged."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value + index
    if isinstance(value, str) and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local}+{index}@{domain}"
    return f"{value}-{index}" if isinstance(value, str) else value
