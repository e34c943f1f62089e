"""The rules records are held to, on hand-made schemas: a value of another type than its field declares is
converted only when nothing is lost (the converted value reads back as the value the API sent); primary keys
are never null or missing; anything else is one error naming stream, record key and field."""

from __future__ import annotations

from typing import Any

import pytest

from tap_customerio.conformance import Conformer, NonConformingRecordError, convert_lossless


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
