"""Records made to match the schema their stream declares, so that validating targets accept every record.

The App API does not always send the types its documentation gives (ids as JSON strings, reference §6.1;
JSON text where an object is documented, §2.1). A stream's schema is compiled once into per-field checks;
on the hot path (`messages`) a record whose values all have a declared type costs one set lookup per value.
A record is first validated by msgspec against a type compiled from the schema (in C, about three times faster
than the checks below); only a record it rejects goes through the per-field checks. A value of another type
- is converted when nothing is lost (`convert_lossless`), counted, and reported by `report` in one warning
  per field at the end of the sync;
- otherwise ends the stream with `NonConformingRecordError`: one line naming stream, field and record key.
Primary-key fields are checked as required and non-null even where the schema allows null: a missing or null
value is never filled in, and never passed on in a key.

Written here rather than with singer-sdk's type conformance, which only turns Python values (datetimes,
decimals, bytes) into JSON and passes a JSON value of the wrong type through unchanged.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import typing as t
from dataclasses import dataclass, field

import msgspec
from singer_sdk.exceptions import FatalAPIError

#: Python types of decoded JSON values, per JSON-schema type.
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list,),
}
#: Integers written the one way `str(int)` writes them: "007", "+7" or "-0" would not read back the same.
CANONICAL_INTEGER = re.compile(r"0|-?[1-9][0-9]*")

Check = t.Callable[[t.Any], None]


class NonConformingRecordError(FatalAPIError):
    """A record holds a value its stream's schema does not allow and that cannot be converted losslessly."""


class _Mismatch(Exception):  # internal signal, turned into NonConformingRecordError
    """Raised by a compiled check; the stream-level `Conformer` adds stream name and record key."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"field '{path}' {problem}")


def convert_lossless(value: t.Any, json_type: str) -> t.Any:
    """`value` as `json_type` when the conversion loses nothing (raises ValueError otherwise).

    - integer: a canonical integer string ("42"), a float without fraction (42.0);
    - number: a canonical integer string, or a decimal string that reads back the same ("1.5");
    - string: any other JSON value as its JSON text (42 → "42", {"a": 1} → '{"a":1}');
    - boolean: the strings "true" and "false".
    Nothing is converted to null, an object or an array.
    """
    kind = type(value)
    if json_type in ("integer", "number"):
        if kind is str and CANONICAL_INTEGER.fullmatch(value):
            return int(value)
        if json_type == "integer" and kind is float and value.is_integer():
            return int(value)
        number = _float(value) if json_type == "number" and kind is str else None
        if number is not None and math.isfinite(number) and repr(number) == value:
            return number
    elif json_type == "string" and kind is not str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    elif json_type == "boolean" and value in ("true", "false"):
        return value == "true"
    msg = f"{type(value).__name__} is not convertible to {json_type}"
    raise ValueError(msg)


def _float(text: str) -> float | None:
    """`text` as a float, None when it is no number."""
    try:
        return float(text)
    except ValueError:
        return None


@dataclass
class Conversions:
    """How many values of one field were converted, with the first one as an example."""

    count: int = 0
    example: tuple[t.Any, t.Any] | None = None


@dataclass
class Conformer:
    """The compiled checks of one stream's schema, and the conversions they made."""

    stream: str
    schema: dict[str, t.Any]
    primary_keys: t.Sequence[str] = ()
    converted: dict[str, Conversions] = field(default_factory=dict)
    #: Validate with msgspec first; False runs only the per-field checks (which the tests compare it with).
    prevalidate: bool = True

    def __post_init__(self) -> None:
        schema = keys_required(self.schema, self.primary_keys)
        self._check = self._object_check(schema, "")
        valid = validating_type(schema) if self.prevalidate else None
        self._validate = None if valid is None else functools.partial(msgspec.convert, type=valid, strict=True)

    def conform(self, record: dict[str, t.Any]) -> None:
        """Make `record` valid against the schema in place, or raise `NonConformingRecordError`."""
        if self._validate is not None:
            try:
                self._validate(record)
            except msgspec.ValidationError:
                pass  # a value to convert, a key missing, or a value to refuse: the checks below tell which
            else:
                return
        try:
            self._check(record)
        except _Mismatch as exc:
            keys = {key: record.get(key) for key in self.primary_keys}
            msg = f"stream '{self.stream}': record {keys}: {exc}"
            raise NonConformingRecordError(msg) from None

    def report(self, logger: logging.Logger) -> None:
        """One warning per converted field, with the count and an example; then start counting afresh."""
        for path, conversions in sorted(self.converted.items()):
            before, after = conversions.example or (None, None)
            logger.warning(
                "Stream '%s' converted %d value(s) of field '%s' to its declared type without loss (e.g. %s → %s)",
                self.stream,
                conversions.count,
                path,
                _shown(before),
                _shown(after),
            )
        self.converted.clear()

    # --- compiling ----------------------------------------------------------------------------------

    def _field(self, schema: t.Any, path: str) -> tuple[frozenset[type], t.Callable[[t.Any], t.Any], Check | None]:
        """(allowed Python types, converter for other values, check of the value's contents or None)."""
        if not isinstance(schema, dict):
            schema = {}
        declared = schema.get("type", list(PYTHON_TYPES))  # no type: any JSON value
        declared = declared if isinstance(declared, list) else [declared]
        allowed = frozenset(py for json_type in declared for py in PYTHON_TYPES[json_type])
        inner = None
        if "object" in declared and _constrains_properties(schema):
            inner = self._object_check(schema, path)
        elif "array" in declared and isinstance(schema.get("items"), dict):
            inner = self._array_check(schema["items"], f"{path}[]")
        return allowed, self._converter(declared, path, formatted="format" in schema), inner

    def _converter(self, declared: list[str], path: str, *, formatted: bool) -> t.Callable[[t.Any], t.Any]:
        """A formatted string (a date-time) is never made from another value: its JSON text is no date-time."""
        targets = [
            json_type for json_type in declared if json_type != "null" and not (formatted and json_type == "string")
        ]
        allowed = " or ".join(declared)

        def convert(value: t.Any) -> t.Any:
            for json_type in targets:
                try:
                    converted = convert_lossless(value, json_type)
                except ValueError:
                    continue
                self._count(path, value, converted)
                return converted
            raise _Mismatch(path, f"holds {_shown(value)}, which is not {allowed}")

        return convert

    def _count(self, path: str, before: t.Any, after: t.Any) -> None:
        conversions = self.converted.setdefault(path, Conversions())
        conversions.count += 1
        if conversions.example is None:
            conversions.example = (before, after)

    def _object_check(self, schema: dict[str, t.Any], path: str) -> Check:
        prefix = f"{path}." if path else ""
        fields = {name: self._field(sub, prefix + name) for name, sub in (schema.get("properties") or {}).items()}
        extra = schema.get("additionalProperties")
        other = self._field(extra, f"{prefix}*") if isinstance(extra, dict) else None
        closed = extra is False
        required = frozenset(schema.get("required") or ())
        # Fast path: every (key, type of value) pair of the node is looked up in one set of the allowed pairs,
        # in one C-level pass (`issuperset` iterates without building a set). A node with an undeclared key
        # or a value to convert takes `fix`; objects and arrays inside are then checked one by one.
        allowed_pairs = frozenset((name, py) for name, (allowed, _, _) in fields.items() for py in allowed)
        all_allowed = allowed_pairs.issuperset
        nested = tuple((name, inner) for name, (_, _, inner) in fields.items() if inner is not None)

        def check(node: dict[str, t.Any]) -> None:
            if not (
                all_allowed(zip(node, map(type, node.values()), strict=True))
                and (not required or required <= node.keys())
            ):
                fix(node)
                return
            for name, inner in nested:
                value = node.get(name)
                if value is not None:
                    inner(value)

        def fix(node: dict[str, t.Any]) -> None:
            for name in required:
                if name not in node:
                    raise _Mismatch(prefix + name, "is missing")
            for name, value in node.items():
                spec = fields.get(name, other)
                if spec is None:
                    if closed:
                        raise _Mismatch(prefix + name, "is not declared in the schema")
                    continue
                allowed, convert, inner = spec
                if type(value) not in allowed:
                    node[name] = convert(value)
                elif inner is not None and value is not None:
                    inner(value)

        return check

    def _array_check(self, items: dict[str, t.Any], path: str) -> Check:
        allowed, convert, inner = self._field(items, path)

        def check(values: list[t.Any]) -> None:
            for index, value in enumerate(values):
                if type(value) not in allowed:
                    values[index] = convert(value)
                elif inner is not None and value is not None:
                    inner(value)

        return check


#: msgspec's type for each JSON-schema type; in strict mode `int` refuses bools and floats, `float` takes ints.
MSGSPEC_TYPES: dict[str, t.Any] = {"integer": int, "number": float, "string": str, "boolean": bool, "null": None}


class _Inexpressible(Exception):  # internal signal: the schema needs the per-field checks
    """A schema part msgspec's types cannot state exactly as the checks apply it."""


def validating_type(schema: dict[str, t.Any]) -> t.Any:
    """A msgspec type that, in strict mode, accepts exactly the records the compiled checks pass unchanged
    (for values JSON decoding produces), or None when the schema has a part no msgspec type states that way.

    Objects become `Struct`s (msgspec caches what it needs to convert to a Struct, not to a `TypedDict`, which
    costs three times as much per record), which ignore undeclared keys: so an object that closes or types its
    undeclared keys (`additionalProperties`) has no such type, nor do type unions msgspec does not support.
    """
    try:
        valid_type = _object_type(schema)
        msgspec.json.Decoder(valid_type)  # checks the type (unsupported unions) now instead of on first use
    except (_Inexpressible, TypeError):
        return None
    return valid_type


def _object_type(schema: dict[str, t.Any]) -> t.Any:
    extra = schema.get("additionalProperties")
    if extra is False or isinstance(extra, dict):
        raise _Inexpressible
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    keys = [*properties, *(required - properties.keys())]
    # Struct fields need identifiers: field i is named `f<i>` and renamed to the key it validates.
    fields = [
        (f"f{i}", _value_type(properties.get(key)))
        if key in required
        else (f"f{i}", _value_type(properties.get(key)), msgspec.UNSET)
        for i, key in enumerate(keys)
    ]
    return msgspec.defstruct("Object", fields, kw_only=True, rename={f"f{i}": key for i, key in enumerate(keys)})


def _value_type(schema: t.Any) -> t.Any:
    if not isinstance(schema, dict) or "type" not in schema:
        return t.Any
    declared = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if not declared:
        raise _Inexpressible
    members: list[t.Any] = []
    for json_type in declared:
        if json_type == "object":
            members.append(_object_type(schema) if _constrains_properties(schema) else dict[str, t.Any])
        elif json_type == "array":
            items = schema.get("items")
            members.append(
                list.__class_getitem__(_value_type(items)) if isinstance(items, dict) else list
            )  # list[T], T at run time
        else:
            members.append(MSGSPEC_TYPES[json_type])
    return t.Union[tuple(members)]  # noqa: UP007 (a union built at run time)


def keys_required(schema: dict[str, t.Any], primary_keys: t.Sequence[str]) -> dict[str, t.Any]:
    """`schema` with its primary-key properties required and not nullable."""
    properties = dict(schema.get("properties") or {})
    for key in primary_keys:
        prop = properties.get(key, {})
        declared = prop.get("type", list(PYTHON_TYPES))
        declared = declared if isinstance(declared, list) else [declared]
        properties[key] = {**prop, "type": [json_type for json_type in declared if json_type != "null"]}
    required = list(schema.get("required") or ())
    required += [key for key in primary_keys if key not in required]
    return {**schema, "properties": properties, "required": required}


def _constrains_properties(schema: dict[str, t.Any]) -> bool:
    """Whether an object schema says anything about its properties (else any object is valid)."""
    extra = schema.get("additionalProperties")
    return bool(schema.get("properties") or schema.get("required")) or extra is False or isinstance(extra, dict)


def _shown(value: t.Any, limit: int = 60) -> str:
    """A value's repr, cut short: values can be whole message bodies."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
