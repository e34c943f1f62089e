"""Bad input never makes the target lose, corrupt or misplace data, and it always says what was wrong.

Every test feeds the real `target-parquet-bucket` process a Singer stream through stdin: a few good
records and a STATE, then the bad input, then more records and a later STATE. The rules checked after
each run:
- a failure exits non-zero with one stderr line naming the problem (stream, input line, field);
- no STATE beyond the last good one is emitted, and an emitted STATE's records are all in the bucket;
- every object in the bucket is complete and readable, and nothing is written outside the bucket.
Where the target accepts odd input instead (a documented coercion), the data must survive intact.
"""

from __future__ import annotations

import decimal
import json
import math
import typing as t

import pytest

from resilience import bucket_audit
from resilience.outcome import Outcome, assert_one_line_error, run_plugin, stderr_line_naming
from resilience.pipeline import TARGET, write_json

if t.TYPE_CHECKING:
    from pathlib import Path

USERS_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}},
}
GOOD_STATE = {"bookmarks": {"users": {"replication_key_value": 2}}}
LATER_STATE = {"bookmarks": {"users": {"replication_key_value": 4}}}


def schema(stream: str = "users", properties_schema: dict | None = None, keys: list[str] | None = None) -> dict:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": properties_schema or USERS_SCHEMA,
        "key_properties": ["id"] if keys is None else keys,
    }


def record(stream: str = "users", **values: t.Any) -> dict:
    return {"type": "RECORD", "stream": stream, "record": values}


def state(value: dict) -> dict:
    return {"type": "STATE", "value": value}


def singer_input(*messages: dict | bytes) -> bytes:
    """Messages as JSON lines; `bytes` items are written verbatim (the bad lines)."""
    return b"".join((m if isinstance(m, bytes) else json.dumps(m).encode()) + b"\n" for m in messages)


def good_prefix() -> list[dict]:
    """Lines 1-4: a schema, two records and the state covering them."""
    return [schema(), record(id=1, name="ada"), record(id=2, name="grace"), state(GOOD_STATE)]


def good_suffix() -> list[dict]:
    """What follows the bad line: more records and a state that must never be emitted."""
    return [record(id=4, name="alan"), state(LATER_STATE)]


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    return tmp_path / "bucket"


def run_target(workdir: Path, env: dict[str, str], bucket: Path, stdin: bytes, **settings: t.Any) -> Outcome:
    config = write_json(
        workdir / "target_config.json", {"bucket_url": str(bucket), "workspace_id": "123456", **settings}
    )
    return run_plugin(TARGET, ["--config", str(config)], cwd=workdir, env=env, stdin=stdin)


def rows(bucket: Path) -> list[dict[str, t.Any]]:
    """Every row of every data file in the bucket."""
    return bucket_audit.read_table(bucket, bucket_audit.data_files(bucket)).drop_columns(["_file"]).to_pylist()


def assert_nothing_past_last_good_state(outcome: Outcome, bucket: Path, good_ids: set[int]) -> None:
    """After a failure: no state past the good one; the good state's records are in readable files."""
    bucket_audit.assert_every_file_readable(bucket)
    states = outcome.messages
    assert all(s == GOOD_STATE for s in states), f"state beyond the last good record was emitted: {states}"
    written = {r["id"] for r in rows(bucket)}
    assert written <= good_ids, f"rows from after the bad input were written: {sorted(written - good_ids)}"
    if states:
        assert written == good_ids, f"emitted state covers ids {sorted(good_ids)} but the bucket holds {written}"


def assert_nothing_outside(bucket: Path, tmp_path: Path) -> None:
    """No data file anywhere under the test folder except inside the bucket."""
    strays = [p for p in tmp_path.rglob("*") if p.is_file() and ".parquet" in p.name and bucket not in p.parents]
    assert not strays, f"files written outside the bucket: {strays}"


def test_malformed_json_line_fails_naming_the_line(workdir: Path, env: dict[str, str], bucket: Path) -> None:
    stdin = singer_input(
        *good_prefix(), b'{"type": "RECORD", "stream": "users", "record": {"id": 3, "na', *good_suffix()
    )

    outcome = run_target(workdir, env, bucket, stdin)

    assert_one_line_error(outcome, "line 5", "json")
    assert_nothing_past_last_good_state(outcome, bucket, {1, 2})


def test_input_cut_mid_line_by_a_killed_tap_fails_without_state_for_it(
    workdir: Path, env: dict[str, str], bucket: Path
) -> None:
    stdin = singer_input(*good_prefix()) + b'{"type": "RECORD", "stream": "users", "record": {"id": 3, "name": "ba'

    outcome = run_target(workdir, env, bucket, stdin)

    assert_one_line_error(outcome, "line 5")
    assert_nothing_past_last_good_state(outcome, bucket, {1, 2})


def test_record_before_its_schema_fails_naming_the_stream(workdir: Path, env: dict[str, str], bucket: Path) -> None:
    stdin = singer_input(*good_prefix(), record("orders", id=9), *good_suffix())

    outcome = run_target(workdir, env, bucket, stdin)

    assert_one_line_error(outcome, "orders", "schema")
    assert_nothing_past_last_good_state(outcome, bucket, {1, 2})


def test_record_violating_its_schema_fails_naming_stream_line_and_field(
    workdir: Path, env: dict[str, str], bucket: Path
) -> None:
    stdin = singer_input(*good_prefix(), record(id="three", name="edsger"), *good_suffix())

    outcome = run_target(workdir, env, bucket, stdin)

    assert_one_line_error(outcome, "users", "line 5", "id")
    assert_nothing_past_last_good_state(outcome, bucket, {1, 2})


def test_record_missing_its_key_property_fails_naming_the_key(workdir: Path, env: dict[str, str], bucket: Path) -> None:
    stdin = singer_input(*good_prefix(), record(name="no id"), *good_suffix())

    outcome = run_target(workdir, env, bucket, stdin)

    assert_one_line_error(outcome, "users", "line 5", "id")
    assert_nothing_past_last_good_state(outcome, bucket, {1, 2})


def test_unknown_message_type_is_named_whether_it_fails_or_is_skipped(
    workdir: Path, env: dict[str, str], bucket: Path
) -> None:
    stdin = singer_input(*good_prefix(), {"type": "HEARTBEAT", "at": 1}, *good_suffix())

    outcome = run_target(workdir, env, bucket, stdin)

    if outcome.returncode != 0:
        assert_one_line_error(outcome, "HEARTBEAT")
        assert_nothing_past_last_good_state(outcome, bucket, {1, 2})
    else:
        assert stderr_line_naming(outcome, "HEARTBEAT"), "the skipped message type was not logged"
        assert sorted(r["id"] for r in rows(bucket)) == [1, 2, 4]
        assert outcome.messages[-1] == LATER_STATE


@pytest.mark.parametrize(
    "stream",
    ["../escape", "../../etc/cron.d/x", "/abs/path", "a/b", "", "x" * 300, "ünïcødé_流量", "CON", ".hidden"],
    ids=["dotdot", "deep-dotdot", "absolute", "slash", "empty", "very-long", "unicode", "windows-device", "hidden"],
)
def test_dangerous_stream_names_stay_inside_the_bucket_or_fail_naming_the_stream(
    workdir: Path, env: dict[str, str], bucket: Path, tmp_path: Path, stream: str
) -> None:
    stdin = singer_input(schema(stream), record(stream, id=1, name="ada"), state(GOOD_STATE))

    outcome = run_target(workdir, env, bucket, stdin)

    assert_nothing_outside(bucket, tmp_path)
    bucket_audit.assert_every_file_readable(bucket)
    if outcome.returncode != 0:
        assert_one_line_error(outcome, "stream", stream[:20])
        assert outcome.messages == []
        return
    [key] = bucket_audit.data_files(bucket)
    assert all(len(part.encode()) <= 255 and part not in {"..", "."} for part in key.split("/")), key
    assert not any(part.startswith(".") for part in key.split("/")), f"{key} is hidden from loaders"
    assert [r["id"] for r in rows(bucket)] == [1]
    assert outcome.messages == [GOOD_STATE]


def test_streams_whose_names_sanitize_alike_never_share_file_names(
    workdir: Path, env: dict[str, str], bucket: Path
) -> None:
    stdin = singer_input(
        schema("a/b"),
        record("a/b", id=1, name="from a/b"),
        schema("a_b"),
        record("a_b", id=2, name="from a_b"),
        state(GOOD_STATE),
    )

    outcome = run_target(workdir, env, bucket, stdin)

    if outcome.returncode != 0:
        assert_one_line_error(outcome, "a/b")
        return
    keys = bucket_audit.data_files(bucket)
    prefixes = {key.rsplit("_v4_", 1)[0] for key in keys}
    assert len(prefixes) == 2, f"two streams were written under one name: {keys}"


def test_streams_whose_names_sanitize_alike_never_share_file_names_across_runs(
    workdir: Path, env: dict[str, str], bucket: Path
) -> None:
    first = run_target(
        workdir, env, bucket, singer_input(schema("a/b"), record("a/b", id=1, name="x"), state(GOOD_STATE))
    )

    second = run_target(
        workdir, env, bucket, singer_input(schema("a_b"), record("a_b", id=2, name="y"), state(GOOD_STATE))
    )

    assert first.returncode == 0, first.last_stderr_line
    if second.returncode != 0:
        assert_one_line_error(second, "a/b", "a_b")
        return
    prefixes = {key.rsplit("_v4_", 1)[0] for key in bucket_audit.data_files(bucket)}
    assert len(prefixes) == 2, f"two streams were written under one name: {bucket_audit.data_files(bucket)}"


@pytest.mark.parametrize(
    "free_schema",
    [{"type": "object"}, {"type": "object", "properties": {}}, {"type": "object", "additionalProperties": True}],
    ids=["no-properties-key", "empty-properties", "additional-properties"],
)
def test_schema_without_properties_keeps_the_record_data(
    workdir: Path, env: dict[str, str], bucket: Path, free_schema: dict
) -> None:
    stdin = singer_input(
        schema("free", free_schema, keys=[]),
        record("free", plan="gold", seats=7),
        state(GOOD_STATE),
    )

    outcome = run_target(workdir, env, bucket, stdin)

    if outcome.returncode != 0:
        assert_one_line_error(outcome, "free")
        assert outcome.messages == []
        return
    [row] = rows(bucket)
    cells = json.dumps(row, default=str)
    assert "gold" in cells and "7" in cells, f"the record's data was dropped: {row}"
    assert outcome.messages == [GOOD_STATE]


def nested(depth: int) -> dict:
    value: dict = {"leaf": "bottom"}
    for level in range(depth):
        value = {"level": level, "child": value}
    return value


def test_deeply_nested_and_huge_values_round_trip(workdir: Path, env: dict[str, str], bucket: Path) -> None:
    doc_schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "doc": {"type": ["object", "null"]},
            "text": {"type": ["string", "null"]},
        },
    }
    deep = nested(200)
    huge = "cio" * 4_000_000  # 12 MB in one cell
    stdin = singer_input(
        schema("docs", doc_schema),
        record("docs", id=1, doc=deep, text="small"),
        record("docs", id=2, doc={"k": "v"}, text=huge),
        state(GOOD_STATE),
    )

    outcome = run_target(workdir, env, bucket, stdin)

    assert outcome.returncode == 0, outcome.last_stderr_line
    by_id = {r["id"]: r for r in rows(bucket)}
    assert json.loads(by_id[1]["doc"]) == deep
    assert by_id[2]["text"] == huge
    assert outcome.messages == [GOOD_STATE]


def test_non_utf8_bytes_fail_naming_the_line_or_are_replaced_visibly(
    workdir: Path, env: dict[str, str], bucket: Path
) -> None:
    stdin = singer_input(
        *good_prefix(), b'{"type": "RECORD", "stream": "users", "record": {"id": 3, "name": "caf\xe9"}}', *good_suffix()
    )

    outcome = run_target(workdir, env, bucket, stdin)

    if outcome.returncode != 0:
        assert_one_line_error(outcome, "line 5", "utf-8")
        assert_nothing_past_last_good_state(outcome, bucket, {1, 2})
    else:
        assert stderr_line_naming(outcome, "utf-8"), "the replacement of invalid bytes was not logged"
        names = {r["id"]: r["name"] for r in rows(bucket)}
        assert names[3] == "caf\ufffd"


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_fail_naming_the_line_or_stay_floats(
    workdir: Path, env: dict[str, str], bucket: Path, literal: bytes
) -> None:
    score_schema = {"type": "object", "properties": {"id": {"type": "integer"}, "score": {"type": ["number", "null"]}}}
    stdin = singer_input(
        schema("scores", score_schema),
        record("scores", id=1, score=0.5),
        state(GOOD_STATE),
        b'{"type": "RECORD", "stream": "scores", "record": {"id": 3, "score": ' + literal + b"}}",
        record("scores", id=4, score=1.5),
        state(LATER_STATE),
    )

    outcome = run_target(workdir, env, bucket, stdin)

    if outcome.returncode != 0:
        assert_one_line_error(outcome, "scores", "line 4")
        assert all(s == GOOD_STATE for s in outcome.messages)
        bucket_audit.assert_every_file_readable(bucket)
    else:
        scores = {r["id"]: r["score"] for r in rows(bucket)}
        expected = float(literal.decode())
        assert scores[3] == expected or (math.isnan(expected) and math.isnan(scores[3]))


@pytest.mark.parametrize("big", [2**63, -(2**63) - 1, 10**30])
def test_integers_beyond_int64_fail_naming_the_field_or_keep_every_digit(
    workdir: Path, env: dict[str, str], bucket: Path, big: int
) -> None:
    counter_schema = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "count": {"type": ["integer", "null"]}},
    }
    stdin = singer_input(
        schema("counters", counter_schema),
        record("counters", id=1, count=5),
        state(GOOD_STATE),
        record("counters", id=3, count=big),
        record("counters", id=4, count=6),
        state(LATER_STATE),
    )

    outcome = run_target(workdir, env, bucket, stdin)

    if outcome.returncode != 0:
        assert_one_line_error(outcome, "counters", "line 4", "count")
        assert all(s == GOOD_STATE for s in outcome.messages)
        bucket_audit.assert_every_file_readable(bucket)
    else:
        counts = {r["id"]: r["count"] for r in rows(bucket)}
        assert str(counts[3]) == str(big), f"{big} was stored as {counts[3]!r}"


def test_state_with_decimals_is_emitted_digit_for_digit(workdir: Path, env: dict[str, str], bucket: Path) -> None:
    exact = (
        b'{"type": "STATE", "value": {"bookmarks": {"users": '
        b'{"replication_key_value": 1732290000.123456789012345, "ratio": 0.1, "huge": 1e400}}}}'
    )
    stdin = singer_input(schema(), record(id=1, name="ada"), exact)

    outcome = run_target(workdir, env, bucket, stdin)

    assert outcome.returncode == 0, outcome.last_stderr_line
    [emitted] = [json.loads(line, parse_float=decimal.Decimal) for line in outcome.stdout_lines]
    sent = json.loads(exact, parse_float=decimal.Decimal)["value"]
    assert emitted == sent
    for name in ("replication_key_value", "ratio", "huge"):
        assert str(emitted["bookmarks"]["users"][name]) == str(sent["bookmarks"]["users"][name])


@pytest.mark.parametrize("stdin", [b"", b"\n\n  \n"], ids=["empty", "blank-lines"])
def test_empty_input_writes_nothing_and_succeeds(
    workdir: Path, env: dict[str, str], bucket: Path, stdin: bytes
) -> None:
    outcome = run_target(workdir, env, bucket, stdin)

    assert outcome.returncode == 0, outcome.last_stderr_line
    assert bucket_audit.data_files(bucket) == []
    assert outcome.stdout_lines == []
