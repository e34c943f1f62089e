"""Malformed input ends the run with ONE stderr line naming stream and input line, exit code 1 and
no STATE past it: never a RecursionError, KeyError, TypeError or a metaschema dump."""

from __future__ import annotations

from pathlib import Path

from target.target_runs import TargetRun, assert_refused, record_message, run_target, schema_message, state_message

GOOD_STATE = {"bookmarks": {"s": 1}}
SCHEMA = schema_message("s", {"id": {"type": "integer"}, "doc": {"type": ["object", "null"]}}, key_properties=["id"])


def run_after_good_lines(tmp_path: Path, *bad: dict | str, config: dict | None = None) -> TargetRun:
    """Lines 1-3: SCHEMA, a good record, STATE; then the bad line(s) from line 4, a record and a STATE."""
    messages = [
        SCHEMA,
        record_message("s", {"id": 1}),
        state_message(GOOD_STATE),
        *bad,
        record_message("s", {"id": 2}),
        state_message({"bookmarks": {"s": 2}}),
    ]
    return run_target(messages, {"bucket_url": str(tmp_path), **(config or {})})


def nested_json(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_a_record_nested_100000_levels_deep_names_stream_and_line(tmp_path: Path) -> None:
    deep = '{"type": "RECORD", "stream": "s", "record": {"id": 3, "doc": ' + nested_json(100_000) + "}}"
    error = assert_refused(run_after_good_lines(tmp_path, deep))
    assert "stream 's', input line 4: a value nests objects/arrays too deeply" in error


def test_a_state_nested_100000_levels_deep_names_the_line(tmp_path: Path) -> None:
    deep = '{"type": "STATE", "value": ' + nested_json(100_000) + "}"
    error = assert_refused(run_after_good_lines(tmp_path, deep))
    assert "input line 4: a value nests objects/arrays too deeply" in error


def test_a_100_level_native_nested_schema_names_stream_and_line(tmp_path: Path) -> None:
    prop: dict = {"type": "integer"}
    for _ in range(100):
        prop = {"type": "object", "properties": {"c": prop}}
    deep_schema = schema_message("deep", {"id": {"type": "integer"}, "x": prop}, key_properties=["id"])
    error = assert_refused(run_after_good_lines(tmp_path, deep_schema, config={"native_nested": True}))
    assert "input line 4: stream 'deep': SCHEMA nests" in error
    assert "at most 100" in error


def test_schema_properties_given_as_a_list_name_stream_and_line(tmp_path: Path) -> None:
    listed = {
        "type": "SCHEMA",
        "stream": "listed",
        "key_properties": [],
        "schema": {"type": "object", "properties": [{"id": {"type": "integer"}}]},
    }
    error = assert_refused(run_after_good_lines(tmp_path, listed))
    assert "input line 4: stream 'listed': SCHEMA 'properties' must be an object" in error


def test_an_invalid_json_schema_type_names_stream_line_and_the_property_in_one_short_line(tmp_path: Path) -> None:
    invalid = schema_message("typo", {"id": {"type": "int"}}, key_properties=["id"])
    error = assert_refused(run_after_good_lines(tmp_path, invalid))
    assert "input line 4: stream 'typo': SCHEMA is not a valid JSON Schema at properties.id.type" in error
    assert "metaschema" not in error


def test_a_state_without_value_names_the_line(tmp_path: Path) -> None:
    error = assert_refused(run_after_good_lines(tmp_path, {"type": "STATE"}))
    assert "input line 4: STATE has no 'value'" in error


def test_activate_version_for_a_stream_without_schema_names_stream_and_line(tmp_path: Path) -> None:
    error = assert_refused(
        run_after_good_lines(tmp_path, {"type": "ACTIVATE_VERSION", "stream": "ghost", "version": 1})
    )
    assert "input line 4: stream 'ghost': ACTIVATE_VERSION before any SCHEMA" in error


def test_a_batch_for_a_stream_without_schema_names_stream_and_line(tmp_path: Path) -> None:
    batch = {"type": "BATCH", "stream": "ghost", "encoding": {"format": "jsonl"}, "manifest": []}
    error = assert_refused(run_after_good_lines(tmp_path, batch))
    assert "RecordsWithoutSchemaException: stream 'ghost', input line 4: BATCH before any SCHEMA of its stream" in error


def test_a_native_nested_conversion_error_names_the_line_not_a_record(tmp_path: Path) -> None:
    schema = schema_message(
        "s",
        {"id": {"type": "integer"}, "doc": {"type": ["object", "null"], "properties": {"n": {"type": "integer"}}}},
        key_properties=["id"],
    )
    messages = [
        schema,
        record_message("s", {"id": 1, "doc": {"n": 1}}),
        state_message(GOOD_STATE),
        record_message("s", {"id": 2, "doc": {"n": "seven"}}),
    ]
    error = assert_refused(run_target(messages, {"bucket_url": str(tmp_path), "native_nested": True}))
    assert "stream 's', input line 4: column 'doc': expected an integer" in error
    assert "doc.n" in error


def test_a_record_refused_on_the_sdk_record_path_names_its_line_not_a_record(tmp_path: Path) -> None:
    messages = [SCHEMA, record_message("s", {"id": 1}), state_message(GOOD_STATE), record_message("s", {"id": "four"})]
    config = {"bucket_url": str(tmp_path), "stream_maps": {"s": {}}, "validate_records": False}
    error = assert_refused(run_target(messages, config))
    assert "stream 's', input line 4:" in error


def test_a_stream_name_without_characters_usable_in_object_names_names_the_line(tmp_path: Path) -> None:
    error = assert_refused(run_after_good_lines(tmp_path, schema_message("日本", {"id": {"type": "integer"}})))
    assert "input line 4: stream '日本': stream name '日本' has no characters usable in an object name" in error


def test_a_stream_whose_name_sanitises_like_another_names_the_line(tmp_path: Path) -> None:
    error = assert_refused(
        run_after_good_lines(
            tmp_path,
            schema_message("a/b", {"id": {"type": "integer"}}),
            schema_message("a_b", {"id": {"type": "integer"}}),
        )
    )
    assert "input line 5: stream 'a_b': streams 'a/b' and 'a_b' would both be written as 'a_b'" in error
