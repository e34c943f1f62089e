"""The rules records are held to, on hand-made schemas: a value of another type than its field declares is
converted only when nothing is lost (the converted value reads back as the value the API sent); primary keys
are never null or missing; anything else is one error naming stream, record key and field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_customerio.conformance import (
    Conformer,
    NonConformingRecordError,
    convert_lossless,
    keys_required,
    validating_type,
)
from tap_customerio.schemas import messages as messages_schemas


@pytest.mark.parametrize(
    ("value", "json_type", "converted"),
    [
        ("42", "integer", 42),
        ("-7", "integer", -7),
        (42.0, "integer", 42),
        ("42", "number", 42),
        ("1.5", "number", 1.5),
        (42, "string", "42"),
        (1.5, "string", "1.5"),
        (True, "string", "true"),
        ({"a": [1, "b"]}, "string", '{"a":[1,"b"]}'),
        ("true", "boolean", True),
        ("false", "boolean", False),
    ],
)
def test_lossless_conversions(value: Any, json_type: str, converted: Any) -> None:
    result = convert_lossless(value, json_type)
    assert result == converted
    assert type(result) is type(converted)


@pytest.mark.parametrize(
    ("value", "json_type"),
    [
        ("abc", "integer"),
        ("007", "integer"),
        ("+7", "integer"),
        ("-0", "integer"),
        ("4.2", "integer"),
        (4.2, "integer"),
        (True, "integer"),
        ("", "integer"),
        ("1.50", "number"),
        ("nan", "number"),
        ("yes", "boolean"),
        (1, "boolean"),
        ("{}", "object"),
        ("[]", "array"),
        ("x", "null"),
    ],
)
def test_conversions_that_would_lose_or_invent_information_are_refused(value: Any, json_type: str) -> None:
    with pytest.raises(ValueError, match=f"not convertible to {json_type}"):
        convert_lossless(value, json_type)


SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["integer", "null"]},
        "at": {"type": ["string", "null"], "format": "date-time"},
        "tags": {"type": ["array", "null"], "items": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    },
}


@pytest.mark.parametrize("record", [{"id": None}, {"at": None}])
def test_a_primary_key_is_never_null_or_missing_even_where_the_schema_allows_null(record: dict) -> None:
    with pytest.raises(NonConformingRecordError, match=r"^stream 's': record \{'id': None\}: field 'id' "):
        Conformer("s", SCHEMA, ("id",)).conform(record)


def test_a_number_is_not_turned_into_a_date_time_string() -> None:
    with pytest.raises(NonConformingRecordError, match="field 'at' holds 1700000000, which is not string or null"):
        Conformer("s", SCHEMA, ("id",)).conform({"id": 1, "at": 1700000000})


def test_values_inside_arrays_of_objects_are_converted_and_reported_by_path() -> None:
    conformer = Conformer("s", SCHEMA, ("id",))
    record = {"id": "5", "tags": [{"n": "1"}, {"n": 2}, {"n": "3"}]}
    conformer.conform(record)
    assert record == {"id": 5, "tags": [{"n": 1}, {"n": 2}, {"n": 3}]}
    assert {path: c.count for path, c in conformer.converted.items()} == {"id": 1, "tags[].n": 2}


def test_a_value_that_cannot_be_converted_inside_an_array_names_its_path() -> None:
    with pytest.raises(NonConformingRecordError, match=r"record \{'id': 7\}: field 'tags\[\]\.n' holds 'x'"):
        Conformer("s", SCHEMA, ("id",)).conform({"id": 7, "tags": [{"n": "x"}]})


# --- validation by msgspec first: the same outcome as the per-field checks alone ---------------------------

JSON_TYPES = ("integer", "number", "string", "boolean", "null", "object", "array")
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["42", "-7", "007", "1.5", "true", "false", "x", ""]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abcz"), inner, max_size=3)),
    max_leaves=8,
)


def value_schemas() -> st.SearchStrategy[dict[str, Any]]:
    """Field schemas as streams declare them: a type or a list of types, objects with properties, arrays with items."""
    scalar = st.lists(st.sampled_from(JSON_TYPES), min_size=1, max_size=3, unique=True).map(lambda ts: {"type": ts})
    return st.recursive(
        st.one_of(scalar, st.just({}), st.sampled_from(JSON_TYPES).map(lambda t: {"type": t})),
        lambda inner: st.one_of(
            st.builds(
                lambda props: {"type": ["object", "null"], "properties": props},
                st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
            ),
            st.builds(lambda items: {"type": ["array", "null"], "items": items}, inner),
        ),
        max_leaves=6,
    )


OBJECT_SCHEMAS = st.builds(
    lambda props, required, extra: {
        "type": "object",
        "properties": props,
        "required": [key for key in required if key in props] or [],
        **({} if extra is None else {"additionalProperties": extra}),
    },
    st.dictionaries(st.sampled_from(["id", "a", "b", "c"]), value_schemas(), min_size=1, max_size=4),
    st.lists(st.sampled_from(["a", "b"]), max_size=2, unique=True),
    st.sampled_from([None, True, False, {"type": "integer"}]),
)


def outcome(conformer: Conformer, record: dict[str, Any]) -> tuple[Any, ...]:
    """What `conform` did to `record`: the record after, the error, the conversions it counted."""
    try:
        conformer.conform(record)
    except NonConformingRecordError as exc:
        return ("refused", str(exc))
    return ("kept", json.dumps(record, sort_keys=True), {path: c.count for path, c in conformer.converted.items()})


@settings(max_examples=400, deadline=None)
@given(
    schema=OBJECT_SCHEMAS,
    record=st.dictionaries(st.sampled_from(["id", "a", "b", "c", "z"]), JSON_VALUES, max_size=5),
    keyed=st.booleans(),
)
def test_validating_with_msgspec_first_changes_no_outcome_of_the_per_field_checks(
    schema: dict[str, Any], record: dict[str, Any], keyed: bool
) -> None:
    keys = ("id",) if keyed else ()
    fast, checks_only = Conformer("s", schema, keys), Conformer("s", schema, keys, prevalidate=False)
    assert outcome(fast, copy.deepcopy(record)) == outcome(checks_only, copy.deepcopy(record))


def test_the_messages_schema_is_validated_by_msgspec() -> None:
    assert validating_type(keys_required(messages_schemas.MESSAGE, ("id",))) is not None
