"""The conversion rule: a value of another type than its field declares is converted only when nothing is
lost, i.e. when the converted value reads back as the value the API sent."""

from __future__ import annotations

from typing import Any

import pytest

from tap_customerio.conformance import convert_lossless


@pytest.mark.parametrize(("value", "json_type", "converted"), [
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
])
def test_lossless_conversions(value: Any, json_type: str, converted: Any) -> None:
    result = convert_lossless(value, json_type)
    assert result == converted
    assert type(result) is type(converted)


@pytest.mark.parametrize(("value", "json_type"), [
    ("abc", "integer"), ("007", "integer"), ("+7", "integer"), ("4.2", "integer"), (4.2, "integer"),
    (True, "integer"), ("", "integer"), ("1.50", "number"), ("nan", "number"), ("yes", "boolean"),
    (1, "boolean"), ("{}", "object"), ("[]", "array"), ("x", "null"),
])
def test_conversions_that_would_lose_or_invent_information_are_refused(value: Any, json_type: str) -> None:
    with pytest.raises(ValueError, match=f"not convertible to {json_type}"):
        convert_lossless(value, json_type)
