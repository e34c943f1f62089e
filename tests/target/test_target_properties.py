"""Property-based test of the target's one promise, on the local backend and on S3 (moto server).

Hypothesis generates Singer input: random streams (odd names: unicode, spaces, `../`, case variants),
random schemas (integer, number, boolean, string, date-time, date, objects and arrays with or without
properties/items, unions, untyped properties; nullable or not, `required`, key properties), records with
values inside and outside their schema, SCHEMA changes mid-stream, STATE, ACTIVATE_VERSION and BATCH
messages (singer-sdk batch spec: jsonl/parquet files, gzip/none, `file://` manifest), sometimes a
second run into the same bucket. The real `target-parquet-bucket` CLI runs on it as a subprocess and
the bucket is read back with pyarrow and DuckDB.

The oracle (`expected_run`) applies the documented rules (target-parquet-bucket/README.md "Types",
"Errors", "Bucket layout", and the rules issue 10 sets) to decide, line by line, which input lines are
invalid. The rule checked (`check_run`) is:

- every line valid → exit code 0, no error line, every record in the bucket exactly once with the
  value that was sent at its declared type (date-times as the same instant floored to µs, dates as
  days, objects/arrays/unions as JSON text equal to the value sent), and the last STATE line written
  equals the last STATE received;
- some line invalid → exit code 1, exactly one `target-parquet-bucket: error:` line (no traceback)
  naming an invalid input line and that line's stream (the target decodes in batches, so it may find
  a later invalid line first; it must never blame a valid one), every STATE written was received
  before the first invalid line and covers only records that are in the bucket;
- always: every row in the bucket is a record that was sent, with its value; no object outside the
  documented layout; no object that existed before a run is changed or deleted by it, except the
  sequence markers (`_meta/sequences/`) it advances and the ACTIVATE_VERSION markers of versions it
  activates again, which keep every file they listed; sequences are positive and never reused.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import tempfile
import typing as t
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, example, given, note, settings
from hypothesis import strategies as st
from target.target_runs import TargetRun, run_target

# --- Hypothesis settings ---------------------------------------------------------------------------
# Reproducible in CI: derandomized, no example database (hypothesis' unicode cache in `.hypothesis/`
# is git-ignored), no deadline (each example runs the CLI once or twice, ~2 s of CPU each). The
# explicit examples plus 12 generated ones per backend keep the test near a minute on two cores;
# `TARGET_PROPS_EXAMPLES=200` explores more, and `TARGET_PROPS_PROFILE=shrink` also shrinks a failure
# to a minimal example (slow: every shrink step runs the target again).
settings.register_profile(
    "target-props",
    max_examples=int(os.environ.get("TARGET_PROPS_EXAMPLES", "12")),
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
)
settings.register_profile(
    "shrink",
    parent=settings.get_profile("target-props"),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
PROFILE = settings.get_profile(os.environ.get("TARGET_PROPS_PROFILE", "target-props"))

# --- The generated input ---------------------------------------------------------------------------

INT64 = (-(2**63), 2**63 - 1)
SCALARS = ("integer", "number", "boolean", "string", "date-time", "date")
ERROR_PREFIX = "target-parquet-bucket: error:"
DEFAULT_TEMPLATE = "{stream}_v{version}_{workspace_id}_{sequence}.{format}"
FOLDER_TEMPLATE = "{stream}/part-{sequence}.{format}"


@dataclasses.dataclass(frozen=True)
class Prop:
    """One property of a generated schema: what the test means by it, and its JSON Schema as sent."""

    kind: str  # one of SCALARS, "object", "array", "union", "any"
    nullable: bool  # "null" is among its declared types (always for "any")
    schema: dict
    members: tuple[str, ...] = ()  # union: its non-null JSON types
    children: tuple[tuple[str, Prop], ...] = ()  # object: declared properties; array: (("items", item),)


@dataclasses.dataclass(frozen=True)
class Schema:
    """A stream's schema as the test knows it (a SCHEMA message may also be deliberately broken)."""

    props: tuple[tuple[str, Prop], ...]
    required: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    broken: str = ""  # why the SCHEMA message is invalid by construction ("" when it is well formed)

    def message(self, stream: str) -> dict:
        properties: t.Any = {name: prop.schema for name, prop in self.props}
        schema: dict[str, t.Any] = {"type": "object", "properties": properties}
        if self.broken == "properties as a list":
            schema["properties"] = [{name: prop.schema} for name, prop in self.props]
        elif self.broken == "no properties":
            del schema["properties"]
        elif self.broken == "unknown type":
            schema["properties"] = {**properties, "bad": {"type": "integr"}}
        if self.required:
            schema["required"] = list(self.required)
        return {"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": list(self.keys)}

    @property
    def prop_map(self) -> dict[str, Prop]:
        return dict(self.props)


@dataclasses.dataclass(frozen=True)
class Absent:
    """Marks a property left out of a record."""


ABSENT = Absent()


@dataclasses.dataclass(frozen=True)
class Message:
    """One input line. `kind`: SCHEMA, RECORD, STATE, ACTIVATE_VERSION, BATCH or MALFORMED."""

    kind: str
    stream: str = ""
    schema: Schema | None = None
    record: dict | None = None
    version: t.Any = None  # RECORD: table version (None: not sent); ACTIVATE_VERSION: the version value
    value: t.Any = None  # STATE value
    batch_format: str = "jsonl"
    batch_compression: str = "none"
    batch_files: tuple[tuple[dict, ...], ...] = ()  # BATCH: records per file


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One generated test case: target settings, line style, and one or two runs of input."""

    config: dict
    line_style: str
    runs: tuple[tuple[Message, ...], ...]


# --- Strategies ------------------------------------------------------------------------------------

ODD_NAMES = [
    "id",
    "Id",
    "ID",
    "a b",
    "../x",
    "a/b",
    "a_b",
    "ünï",
    "日本",
    "with.dot",
    "$ref",
    "type",
    "",
    "tab\tc",
    "quote'\"",
    "emoji😀",
    "_meta",
    "-x",
    "back\\slash",
]
STREAM_NAMES = [
    "users",
    "Users",
    "USERS",
    "deliveries",
    "a b",
    "a/b",
    "a_b",
    "../escape",
    "ünïcödé",
    "日本",
    "..",
    "_meta",
    "email.sent",
    "x\\..\\y",
    "quote'q",
    "sp ace",
    "-dash",
]
BAD_DATETIMES = [
    "",
    "yesterday",
    "2026-13-45T00:00:00Z",
    "2026-11-22T25:00:00Z",
    "0000-06-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "10:00:00",
    "22/11/2026 10:00",
]
BAD_DATES = ["", "yesterday", "2026-02-30", "0000-01-01", "2026-13-01", "22/11/2026", "2026-11-22T10:00:00Z"]

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**31), 2**31),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
names = st.one_of(st.sampled_from(ODD_NAMES), st.text(min_size=1, max_size=6))


def scalar_schema(kind: str) -> dict:
    if kind in {"date-time", "date"}:
        return {"type": "string", "format": kind}
    return {"type": kind}


@st.composite
def props(draw: st.DrawFn, depth: int = 0) -> Prop:
    """A property: scalar, object/array (nested up to depth 2), union of several types, or untyped."""
    kinds = [*SCALARS, "union", "any"] + (["object", "array"] if depth < 2 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "any":
        return Prop("any", True, draw(st.sampled_from([{}, {"description": "anything"}])))
    nullable = draw(st.booleans())
    if kind == "union":
        members = tuple(
            sorted(
                draw(
                    st.sets(
                        st.sampled_from(["integer", "boolean", "string", "object", "array"]), min_size=2, max_size=3
                    )
                )
            )
        )
        types = [*members, "null"] if nullable else list(members)
        return Prop("union", nullable, {"type": types}, members=members)
    children: tuple[tuple[str, Prop], ...] = ()
    if kind in SCALARS:
        base = scalar_schema(kind)
    elif kind == "object":
        base = {"type": "object"}
        if draw(st.booleans()):
            children = tuple(draw(st.dictionaries(names, props(depth + 1), max_size=3)).items())
            base["properties"] = {name: child.schema for name, child in children}
    else:
        base = {"type": "array"}
        if draw(st.booleans()):
            item = draw(props(depth + 1))
            children = (("items", item),)
            base["items"] = item.schema
    if not nullable:
        form = draw(st.sampled_from(["plain", "list"]))
        return Prop(kind, False, base if form == "plain" else {**base, "type": [base["type"]]}, children=children)
    form = draw(st.sampled_from(["null last", "null first", "anyOf"]))
    if form == "anyOf":
        schema: dict[str, t.Any] = {"anyOf": [base, {"type": "null"}]}
    else:
        types = [base["type"], "null"] if form == "null last" else ["null", base["type"]]
        schema = {**base, "type": types}
    return Prop(kind, True, schema, children=children)


@st.composite
def schemas(draw: st.DrawFn, hostile: bool) -> Schema:
    """A stream schema: 1-5 properties (0 only when hostile: records then have no columns), some
    required, maybe key properties (scalar, not nullable)."""
    properties = tuple(draw(st.dictionaries(names, props(), min_size=0 if hostile else 1, max_size=5)).items())
    prop_names = [name for name, _ in properties]
    required = tuple(name for name in prop_names if draw(st.integers(0, 3)) == 0)
    key_candidates = [n for n, p in properties if p.kind in {"integer", "string"} and not p.nullable]
    keys: tuple[str, ...] = ()
    if bool(key_candidates) and draw(st.booleans()):
        keys = (draw(st.sampled_from(key_candidates)),)
    broken = (
        draw(
            st.sampled_from(
                ["", "", "", "properties as a list", "no properties", "unknown type", "key not in properties"]
            )
        )
        if hostile and draw(st.integers(0, 3)) == 0
        else ""
    )
    if broken == "key not in properties":
        keys, broken = (*keys, "no_such_property"), ""
        return Schema(properties, required, keys, "key not in properties")
    return Schema(properties, required, keys, broken)


def datetimes_text() -> st.SearchStrategy[str]:
    """ISO-8601 date-times as taps send them: `T`, 0-9 fraction digits, `Z`/±hh:mm/naive, years 1-9999."""
    return st.builds(
        lambda moment, digits, offset: moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{digits}" if digits else "") + offset,
        st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)),
        st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=9)),
        st.one_of(
            st.just("Z"),
            st.just(""),
            st.builds(
                lambda sign, h, m: f"{sign}{h:02d}:{m:02d}",
                st.sampled_from("+-"),
                st.integers(0, 14),
                st.sampled_from([0, 30, 45]),
            ),
        ),
    )


def valid_values(prop: Prop) -> st.SearchStrategy[t.Any]:
    """Values inside the property's declared (non-null) type."""
    kind = prop.kind
    if kind == "integer":
        return st.one_of(st.integers(-1000, 1000), st.integers(*INT64))
    if kind == "number":
        return st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(-(2**53), 2**53),
            st.sampled_from([2**60, -(2**63), 2**53 + 1, 10**40]),
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        return st.text(max_size=10)
    if kind == "date-time":
        return datetimes_text()
    if kind == "date":
        return st.dates(min_value=dt.date(1, 1, 1)).map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}")
    if kind == "object":
        if not prop.children:
            return st.dictionaries(st.text(max_size=4), json_value, max_size=3)
        return st.fixed_dictionaries({}, optional={name: nested_values(child) for name, child in prop.children})
    if kind == "array":
        item = nested_values(prop.children[0][1]) if prop.children else json_value
        return st.lists(item, max_size=3)
    if kind == "union":
        return st.sampled_from(prop.members).flatmap(lambda member: valid_values(Prop(member, False, {})))
    return json_value


def nested_values(prop: Prop) -> st.SearchStrategy[t.Any]:
    values = valid_values(prop)
    return st.one_of(st.none(), values) if prop.nullable else values


def invalid_values(prop: Prop) -> st.SearchStrategy[t.Any]:
    """Values outside the property's declared type (never null: nulls are drawn separately)."""
    wrong: dict[str, list[t.Any]] = {
        "integer": ["7", 2.5, True, 2**63, -(2**63) - 1, {"a": 1}, [1]],
        "number": ["1.5", True, {"a": 1}, [1.5]],
        "boolean": [0, 1, "true", {"a": True}],
        "string": [5, 1.5, True, {"a": "b"}, ["x"]],
        "date-time": [*BAD_DATETIMES, 5, True],
        "date": [*BAD_DATES, 5, True],
        "object": [5, "x", [1], True],
        "array": [5, "x", {"a": 1}, False],
    }
    if prop.kind == "union":
        outside = {"integer": 3, "boolean": True, "string": "s", "object": {"k": 1}, "array": [1]}
        return st.sampled_from([v for k, v in outside.items() if k not in prop.members])
    return st.sampled_from(wrong[prop.kind])


@st.composite
def records(draw: st.DrawFn, schema: Schema, hostile: bool) -> dict:
    """A record for `schema`: mostly valid values; if `hostile`, sometimes null/absent/invalid ones."""
    record: dict[str, t.Any] = {}
    for name, prop in schema.props:
        roll = draw(st.integers(0, 19))
        if hostile and roll == 0 and prop.kind != "any":
            record[name] = draw(invalid_values(prop))
        elif roll in {1, 2} and (hostile or (prop.nullable and name not in schema.keys)):
            record[name] = None
        elif roll in {3, 4} and (hostile or (name not in schema.required and name not in schema.keys)):
            continue
        else:
            record[name] = draw(valid_values(prop))
    if draw(st.integers(0, 4)) == 0:  # properties not in the schema are dropped
        extra = draw(st.dictionaries(names, json_value, max_size=2))
        record.update({k: v for k, v in extra.items() if k not in record and k not in schema.prop_map})
    return record


@st.composite
def run_messages(draw: st.DrawFn, streams: list[str], known: dict[str, Schema], hostile: bool) -> tuple[Message, ...]:
    """One run's input: each stream starts with a SCHEMA, then records, schema changes, STATE,
    ACTIVATE_VERSION and BATCH messages, interleaved across streams."""
    messages: list[Message] = []
    current: dict[str, Schema] = {}
    for stream in streams:
        schema = known.get(stream) if draw(st.booleans()) else None
        current[stream] = schema or draw(schemas(hostile))
        messages.append(Message("SCHEMA", stream, schema=current[stream]))
    for _ in range(draw(st.integers(0, 14))):
        stream = draw(st.sampled_from(streams))
        schema = current[stream]
        action = draw(
            st.sampled_from(
                ["RECORD"] * 8
                + ["STATE"] * 2
                + ["SCHEMA", "ACTIVATE_VERSION", "BATCH"]
                + (["MALFORMED", "ORPHAN"] if hostile else [])
            )
        )
        if action == "RECORD":
            version = draw(st.one_of(st.none(), st.integers(0, 2**41)))
            messages.append(Message("RECORD", stream, record=draw(records(schema, hostile)), version=version))
        elif action == "STATE":
            value = draw(st.dictionaries(st.text(max_size=5), json_value, max_size=3))
            messages.append(Message("STATE", value={"bookmarks": {stream: value}}))
        elif action == "SCHEMA":
            current[stream] = draw(schemas(hostile))
            messages.append(Message("SCHEMA", stream, schema=current[stream]))
        elif action == "ACTIVATE_VERSION":
            valid = st.integers(0, 2**41)
            activated = draw(
                valid
                if not hostile
                else st.one_of(
                    valid, st.sampled_from(["../../sequences/users", "../../../users/1", "1", 1.5, None, True])
                )
            )
            messages.append(Message("ACTIVATE_VERSION", stream, version=activated))
        elif action == "BATCH":
            files = draw(
                st.lists(st.lists(records(schema, hostile), min_size=1, max_size=3).map(tuple), min_size=1, max_size=2)
            )
            messages.append(
                Message(
                    "BATCH",
                    stream,
                    batch_format=draw(st.sampled_from(["jsonl", "parquet"])),
                    batch_compression=draw(st.sampled_from(["none", "gzip"])),
                    batch_files=tuple(files),
                )
            )
        elif action == "ORPHAN":  # a RECORD for a stream that never had a SCHEMA
            messages.append(Message("RECORD", "never_declared", record={"id": 1}))
        else:
            messages.append(Message("MALFORMED", stream))
    known.update(current)
    return tuple(messages)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    hostile = draw(st.integers(0, 2)) == 0
    random_names = (
        st.text(min_size=1, max_size=6) if hostile else st.from_regex(r"[a-zA-Z0-9 _./-]{1,8}", fullmatch=True)
    )
    stream_names = st.one_of(st.sampled_from(STREAM_NAMES), random_names)
    if not hostile:  # names the target must accept: usable, and not two sanitising to one file name
        stream_names = stream_names.filter(lambda name: safe_stream(name) is not None)
    streams = draw(
        st.lists(stream_names, min_size=1, max_size=3, unique_by=safe_stream if not hostile else None)
        if not hostile
        else st.lists(stream_names, min_size=1, max_size=3, unique=True)
    )
    known: dict[str, Schema] = {}
    runs = [draw(run_messages(streams, known, hostile))]
    if draw(st.booleans()):  # a second run into the same bucket, with the same and maybe other streams
        more = draw(st.lists(st.sampled_from(STREAM_NAMES), max_size=1))
        runs.append(draw(run_messages(list(dict.fromkeys(streams + more)), known, hostile)))
    config: dict[str, t.Any] = {
        "compression": draw(st.sampled_from(["snappy", "zstd", "gzip", "none"])),
        "file_name_template": draw(st.sampled_from([DEFAULT_TEMPLATE, FOLDER_TEMPLATE])),
    }
    if draw(st.booleans()):
        config["max_file_rows"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        config["batch_size_rows"] = draw(st.integers(1, 3))
    if draw(st.integers(0, 3)) == 0:
        config["allow_case_colliding_columns"] = True
    return Scenario(config, draw(st.sampled_from(["sdk", "compact", "utf-8", "reordered"])), tuple(runs))


# --- Rendering the input ---------------------------------------------------------------------------


def dump(obj: dict, style: str) -> str:
    """One JSON line in a given style (all valid JSON; they take different paths in the reader)."""
    if style == "compact":
        return json.dumps(obj, separators=(",", ":"))
    if style == "utf-8":
        return json.dumps(obj, ensure_ascii=False)
    if style == "reordered":
        return json.dumps(dict(reversed(list(obj.items()))))
    return json.dumps(obj)


def write_batch_files(message: Message, folder: Path, number: int) -> tuple[str, list[str], list[dict]]:
    """Write a BATCH message's files as singer-sdk's batchers do (parquet `gzip` is the parquet codec,
    named `.parquet.gz`); return the encoding format, the `file://` URLs and the records the files
    hold. Records that pyarrow's inference would change in a parquet file (1 → 1.0 beside a 2.5, a
    key filled in as null) are sent as jsonl instead, so what the files hold is what was generated."""
    gz = message.batch_compression == "gzip"
    paths = [folder / f"batch-{number}-{i}" for i in range(len(message.batch_files))]
    if message.batch_format == "parquet":
        try:
            read_back = []
            for path, rows in zip(paths, message.batch_files, strict=True):
                columns = list(dict.fromkeys(k for row in rows for k in row))
                table = pa.Table.from_pylist([{k: row.get(k) for k in columns} for row in rows])
                target = path.with_name(path.name + (".parquet.gz" if gz else ".parquet"))
                pq.write_table(table, target, compression="gzip" if gz else "none")
                read_back.extend(pq.read_table(target).to_pylist())
            if canonical_json(read_back) != canonical_json([dict(row) for rows in message.batch_files for row in rows]):
                raise ValueError("parquet would not hold these records as they are")
            return (
                "parquet",
                [p.with_name(p.name + (".parquet.gz" if gz else ".parquet")).as_uri() for p in paths],
                read_back,
            )
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            pass
    urls, read_back = [], []
    for path, rows in zip(paths, message.batch_files, strict=True):
        target = path.with_name(path.name + (".jsonl.gz" if gz else ".jsonl"))
        data = "".join(json.dumps(row) + "\n" for row in rows).encode()
        target.write_bytes(gzip.compress(data) if gz else data)
        urls.append(target.as_uri())
        read_back.extend(dict(row) for row in rows)
    return "jsonl", urls, read_back


def render(run: tuple[Message, ...], style: str, folder: Path) -> tuple[list[str], list[list[dict] | None]]:
    """The input lines of a run, and for each line the records its BATCH files hold (else None)."""
    lines: list[str] = []
    batch_records: list[list[dict] | None] = []
    for number, message in enumerate(run, start=1):
        records_of_batch = None
        if message.kind == "SCHEMA":
            assert message.schema is not None
            line = dump(message.schema.message(message.stream), style)
        elif message.kind == "RECORD":
            body: dict[str, t.Any] = {"type": "RECORD", "stream": message.stream, "record": message.record}
            if message.version is not None:
                body["version"] = message.version
            line = dump(body, style)
        elif message.kind == "STATE":
            line = dump({"type": "STATE", "value": message.value}, style)
        elif message.kind == "ACTIVATE_VERSION":
            line = dump({"type": "ACTIVATE_VERSION", "stream": message.stream, "version": message.version}, style)
        elif message.kind == "BATCH":
            file_format, urls, records_of_batch = write_batch_files(message, folder, number)
            encoding = {"format": file_format, "compression": message.batch_compression}
            line = dump({"type": "BATCH", "stream": message.stream, "encoding": encoding, "manifest": urls}, style)
        else:
            line = '{"type": "RECORD", "stream": ' + json.dumps(message.stream) + ', "record": {"a": 1'
        lines.append(line)
        batch_records.append(records_of_batch)
    return lines, batch_records


# --- The oracle --------------------------------------------------------------------------------------

_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?", re.ASCII)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MIN_US = (dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc) - _EPOCH) // dt.timedelta(microseconds=1)
_MAX_US = (dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc) - _EPOCH) // dt.timedelta(
    microseconds=1
)


def datetime_micros(text: str) -> int | None:
    """The instant of an ISO-8601 date-time, µs since the epoch, floored; None when it is not one or
    lies outside years 1-9999 UTC (README: naive is UTC; issue 10: floor sub-µs, reject year 0)."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        local = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone.utc)
    except ValueError:
        return None
    fraction_ns = int((match[7] or "").ljust(9, "0"))
    offset = match[8] or "Z"
    offset_s = (
        0 if offset == "Z" else (1 if offset[0] == "+" else -1) * (int(offset[1:3]) * 3600 + int(offset[4:]) * 60)
    )
    local_us = (local - _EPOCH) // dt.timedelta(microseconds=1)
    micros = local_us - offset_s * 1_000_000 + fraction_ns // 1000  # floor: fraction_ns >= 0
    return micros if _MIN_US <= micros <= _MAX_US else None


def date_days(text: str) -> int | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII) is None:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return (day - dt.date(1970, 1, 1)).days


def json_type(value: t.Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def canonical_json(value: t.Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


ARROW_TYPES = {
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "string": pa.string(),
    "date-time": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "object": pa.string(),
    "array": pa.string(),
    "union": pa.string(),
    "any": pa.string(),
}


def expected_value(prop: Prop, value: t.Any) -> tuple[bool, t.Any]:
    """(valid, what the column must hold) for a non-null value, per the README's Types section."""
    kind, found = prop.kind, json_type(value)
    if kind == "integer":
        return found == "integer" and INT64[0] <= value <= INT64[1], value
    if kind == "number":
        # README: a number is a float64; an integer literal must be one a float64 holds exactly.
        if found == "integer":
            exact = abs(value) < 2**1024 and int(float(value)) == value
            return exact, float(value) if exact else None
        return found == "number", value
    if kind in {"boolean", "string"}:
        return found == kind, value
    if kind == "date-time":
        micros = datetime_micros(value) if found == "string" else None
        return micros is not None, micros
    if kind == "date":
        days = date_days(value) if found == "string" else None
        return days is not None, days
    if kind in {"object", "array"}:
        return found == kind, ("json", canonical_json(value))
    allowed = prop.members if kind == "union" else (found,)
    ok = found in allowed or (found == "integer" and "number" in allowed)
    return ok, ("text", value) if isinstance(value, str) else ("json", canonical_json(value))


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    arrow_type: pa.DataType
    nullable: bool


@dataclasses.dataclass(frozen=True)
class Row:
    """An expected row: its columns (as the file must declare them) and values."""

    stream: str
    columns: tuple[Column, ...]
    values: tuple[t.Any, ...]
    line: int  # the input line that sent it


def columns_of(schema: Schema) -> tuple[Column, ...]:
    """README: types from the schema; nullable unless in `required` without `null` in its type."""
    return tuple(
        Column(name, ARROW_TYPES[prop.kind], not (name in schema.required and not prop.nullable))
        for name, prop in schema.props
    )


def check_record(schema: Schema, record: dict) -> tuple[str, tuple[t.Any, ...]]:
    """('' or why the record is invalid, its expected values)."""
    if not schema.props:
        return "stream declares no properties", ()
    values: list[t.Any] = []
    for (name, prop), column in zip(schema.props, columns_of(schema), strict=True):
        if name not in record:
            if name in schema.keys or name in schema.required:
                return f"'{name}' is missing", ()
            values.append(None)
            continue
        value = record[name]
        if value is None:
            null_ok = column.nullable and not (name in schema.keys and not prop.nullable)
            if not null_ok:
                return f"'{name}' is null", ()
            values.append(None)
            continue
        ok, converted = expected_value(prop, value)
        if not ok:
            return f"'{name}' = {value!r} is not {prop.kind}", ()
        values.append(converted)
    return "", tuple(values)


def safe_stream(stream: str) -> str | None:
    """README: stream names reduced to [A-Za-z0-9._-] (runs of others become `_`, leading dots
    dropped); a name with no usable character is refused."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stream).lstrip(".")
    return safe if safe.strip("_") else None


@dataclasses.dataclass
class BucketModel:
    """What the oracle knows about the bucket between runs: which stream owns each file name."""

    owners: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Expected:
    """The oracle's verdict for one run."""

    invalid: dict[int, str]  # invalid input line → its stream ("" for a malformed line)
    reasons: dict[int, str]
    rows: list[Row]  # every valid record, in input order (all of them must be in the bucket on success)
    states: list[tuple[int, t.Any]]  # (input line, value) of each STATE message
    activations: list[tuple[int, str, int]]  # (line, stream, version) of each valid ACTIVATE_VERSION

    @property
    def first_invalid(self) -> int | None:
        return min(self.invalid) if self.invalid else None


def expected_run(
    run: tuple[Message, ...], batch_records: list[list[dict] | None], config: dict, model: BucketModel
) -> Expected:
    """Decide every line of a run by the documented rules, as if each invalid line were skipped."""
    verdict = Expected({}, {}, [], [], [])
    template = config["file_name_template"]
    allow_case_colliding = bool(config.get("allow_case_colliding_columns"))
    current: dict[str, Schema] = {}
    names_in_run: dict[str, str] = {}

    def invalid(line: int, stream: str, why: str) -> None:
        verdict.invalid[line] = stream
        verdict.reasons[line] = why

    for line, (message, in_batch) in enumerate(zip(run, batch_records, strict=True), start=1):
        stream = message.stream
        if message.kind == "SCHEMA":
            assert message.schema is not None
            schema = message.schema
            if current.get(stream) == schema:
                continue
            safe = safe_stream(stream)
            owner = names_in_run.get(safe or "", model.owners.get(safe or "", stream))
            folded = [name.casefold() for name, _ in schema.props]
            if schema.broken:
                invalid(line, stream, f"SCHEMA {schema.broken}")
            elif len(set(folded)) < len(folded) and not allow_case_colliding:
                invalid(line, stream, "properties differ only in case")
            elif safe is None:
                invalid(line, stream, "stream name has no usable character")
            elif owner != stream:
                invalid(line, stream, f"stream name collides with '{owner}' as '{safe}'")
            elif template == FOLDER_TEMPLATE and safe == "_meta":
                invalid(line, stream, "files would land under _meta/")
            else:
                names_in_run[safe] = stream
                current[stream] = schema
        elif message.kind in {"RECORD", "BATCH"}:
            if stream not in current:
                invalid(line, stream, f"{message.kind} before SCHEMA")
                continue
            if message.kind == "RECORD":
                assert message.record is not None, "every RECORD the scenarios send carries a record"
                rows = [message.record]
            else:
                assert in_batch is not None
                rows = in_batch
            if message.kind == "RECORD" and message.version is not None and not isinstance(message.version, int):
                invalid(line, stream, "version is not an integer")
                continue
            checked = [check_record(current[stream], row) for row in rows]
            errors = [why for why, _ in checked if why]
            if errors:
                invalid(line, stream, errors[0])
                continue
            columns = columns_of(current[stream])
            verdict.rows.extend(Row(stream, columns, values, line) for _, values in checked)
        elif message.kind == "STATE":
            verdict.states.append((line, message.value))
        elif message.kind == "ACTIVATE_VERSION":
            version = message.version
            if stream not in current:
                invalid(line, stream, "ACTIVATE_VERSION before SCHEMA")
            elif not isinstance(version, int) or isinstance(version, bool) or version < 0:
                invalid(line, stream, f"version {version!r} is not an integer")
            else:
                verdict.activations.append((line, stream, version))
        else:
            invalid(line, "", "malformed JSON")
    return verdict


# --- Running and reading back ------------------------------------------------------------------------


@dataclasses.dataclass
class LocalBackend:
    root: Path

    @property
    def config(self) -> dict:
        return {"bucket_url": str(self.root / "bucket")}

    def objects(self) -> dict[str, bytes]:
        bucket = self.root / "bucket"
        return {p.relative_to(bucket).as_posix(): p.read_bytes() for p in bucket.rglob("*") if p.is_file()}

    def outside(self) -> list[str]:
        bucket = self.root / "bucket"
        return [str(p) for p in self.root.rglob("*") if p.is_file() and bucket not in p.parents]


@dataclasses.dataclass
class S3Backend:
    service: t.Any
    name: str
    prefix: str = "exports/cio"

    @property
    def config(self) -> dict:
        return {
            "bucket_url": f"s3://{self.name}/{self.prefix}",
            "s3_endpoint_url": self.service.endpoint_url,
            "s3_region": self.service.region,
            "aws_access_key_id": self.service.access_key_id,
            "aws_secret_access_key": self.service.secret_access_key,
        }

    def objects(self) -> dict[str, bytes]:
        client = self.service.client()
        found: dict[str, bytes] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.name):
            for item in page.get("Contents", []):
                key = item["Key"]
                body = client.get_object(Bucket=self.name, Key=key)["Body"].read()
                found[key[len(self.prefix) + 1 :] if key.startswith(self.prefix + "/") else "/" + key] = body
        return found

    def outside(self) -> list[str]:
        return [k for k in self.objects() if k.startswith("/")]


def key_pattern(template: str) -> re.Pattern[str]:
    pattern = re.escape(template.replace("{stream}", "\0S").replace("{sequence}", "\0Q"))
    pattern = pattern.replace(re.escape("{version}"), "4").replace(re.escape("{workspace_id}"), "0")
    pattern = pattern.replace(re.escape("{format}"), "parquet")
    pattern = pattern.replace("\0S", r"(?P<stream>[A-Za-z0-9._-]+)").replace("\0Q", r"(?P<sequence>\d+)")
    return re.compile(pattern)


def normalized_columns(table: pa.Table) -> list[list[t.Any]]:
    """Column values as plain Python: timestamps as µs since the epoch, dates as days."""
    out = []
    for column in table.columns:
        column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("us", tz="UTC")).view(pa.int64())
        elif pa.types.is_date32(column.type):
            column = column.view(pa.int32())
        elif pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
            column = column.cast(pa.string())
        out.append(column.to_pylist())
    return out


def read_file(data: bytes, scratch: Path) -> tuple[pa.Schema, list[tuple[t.Any, ...]]]:
    """One data file read by pyarrow and by DuckDB, which must agree on every value."""
    table = pq.read_table(pa.BufferReader(data))
    path = scratch / (hashlib.sha256(data).hexdigest() + ".parquet")
    path.write_bytes(data)
    with duckdb.connect() as con:
        by_duckdb = con.sql(f"SELECT * FROM read_parquet('{path}')").to_arrow_table()
    ours, theirs = normalized_columns(table), normalized_columns(by_duckdb)
    assert ours == theirs, f"pyarrow and DuckDB read different values: {ours} != {theirs}"
    return table.schema, list(zip(*ours, strict=True)) if ours else [()] * table.num_rows


def same_value(expected: t.Any, actual: t.Any) -> bool:
    if isinstance(expected, tuple) and expected[0] == "json":
        try:
            return isinstance(actual, str) and canonical_json(json.loads(actual)) == expected[1]
        except ValueError:
            return False
    if isinstance(expected, tuple):  # ("text", string) in a union column
        return actual == expected[1]
    return type(expected) is type(actual) and expected == actual


def matches(row: Row, schema: pa.Schema, values: tuple[t.Any, ...]) -> bool:
    declared = tuple(Column(f.name, f.type, f.nullable) for f in schema)
    return declared == row.columns and all(
        (e is None and a is None) or (e is not None and same_value(e, a))
        for e, a in zip(row.values, values, strict=True)
    )


@dataclasses.dataclass
class Landed:
    """The rows a run put in the bucket: (stream, file schema, values, key) per row."""

    rows: list[tuple[str, pa.Schema, tuple[t.Any, ...], str]]
    sequences: dict[str, list[int]]


def read_new_files(
    before: dict[str, bytes],
    after: dict[str, bytes],
    template: str,
    streams: dict[str, str],
    scratch: Path,
    max_rows: int,
) -> Landed:
    """Read every data file the run added; fail on any object that is not part of the layout."""
    pattern = key_pattern(template)
    landed = Landed([], collections.defaultdict(list))
    safe_names = set(streams)
    for key in sorted(after.keys() - before.keys()):
        if key.startswith("_meta/"):
            parts = key.split("/")
            layout = (
                (parts[1] in {"sequences"} and len(parts) == 3 and parts[2].removesuffix(".json") in safe_names)
                or (parts[1] == "manifests" and len(parts) == 3 and parts[2].endswith(".json"))
                or (parts[1] == "activate_version" and len(parts) == 4 and parts[2] in safe_names)
            )
            assert layout, f"object outside the documented _meta/ layout: {key!r}"
            continue
        match = pattern.fullmatch(key)
        assert match and match["stream"] in safe_names, f"object that is not a data file of a sent stream: {key!r}"
        sequence = int(match["sequence"])
        assert sequence > 0, f"non-positive sequence in {key!r}"
        landed.sequences[match["stream"]].append(sequence)
        schema, rows = read_file(after[key], scratch)
        if max_rows:
            assert len(rows) <= max_rows, f"{key} holds {len(rows)} rows, max_file_rows is {max_rows}"
        landed.rows.extend((streams[match["stream"]], schema, row, key) for row in rows)
    return landed


def unmatched(expected: list[Row], landed: Landed) -> tuple[list[Row], list[tuple[t.Any, ...]]]:
    """Pair every landed row with an equal expected row: (expected rows left, landed rows left)."""
    left = list(expected)
    strays = []
    for stream, schema, values, key in landed.rows:
        hit = next((i for i, row in enumerate(left) if row.stream == stream and matches(row, schema, values)), None)
        if hit is None:
            strays.append((key, schema.to_string(show_schema_metadata=False, show_field_metadata=False), values))
        else:
            left.pop(hit)
    return left, strays


def check_run(
    run: TargetRun,
    expected: Expected,
    before: dict[str, bytes],
    after: dict[str, bytes],
    template: str,
    streams: dict[str, str],
    scratch: Path,
    max_rows: int,
) -> None:
    """The rule stated in the module docstring, for one run."""
    for key, data in before.items():
        if key.startswith("_meta/sequences/"):
            continue
        assert key in after, f"object {key!r} was deleted"
        if key.startswith("_meta/activate_version/"):
            earlier, now = json.loads(data)["files"], json.loads(after[key])["files"]
            assert set(earlier) <= set(now), f"marker {key!r} lost files it listed: {earlier} -> {now}"
            continue
        assert after[key] == data, f"object {key!r} was overwritten"
    landed = read_new_files(before, after, template, streams, scratch, max_rows)
    missing, strays = unmatched(expected.rows, landed)
    assert not strays, f"rows in the bucket that were never sent with these values: {strays}"
    for stream, sequences in landed.sequences.items():
        old = [
            int(m["sequence"]) for k in before if (m := key_pattern(template).fullmatch(k)) and m["stream"] == stream
        ]
        assert len(set(sequences + old)) == len(sequences) + len(old), (
            f"sequence reused for {stream}: {sequences} {old}"
        )
        assert not old or min(sequences) > max(old), f"sequences of {stream} went back: {old} then {sequences}"
    emitted = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    if expected.first_invalid is None:
        assert run.exit_code == 0, (
            f"valid input, but exit code {run.exit_code}: {run.error_lines or run.stderr[-2000:]}"
        )
        assert not run.error_lines
        assert not missing, f"valid records missing from the bucket: {missing}"
        last_state = expected.states[-1][1] if expected.states else None
        assert (emitted[-1] if emitted else None) == last_state, f"last STATE {emitted[-1:]} != {last_state}"
        check_activations(expected, after, before)
    else:
        first = expected.first_invalid
        assert run.exit_code == 1, f"invalid line {first} ({expected.reasons[first]}), exit code {run.exit_code}"
        assert "Traceback" not in run.stderr, run.stderr[-3000:]
        assert len(run.error_lines) == 1, f"want one error line, got: {run.error_lines or run.stderr[-2000:]}"
        error = run.error_lines[0]
        named = [int(n) for n in re.findall(r"input line (\d+)", error)]
        blamed = [n for n in named if n in expected.invalid]
        assert blamed, f"error does not name an invalid input line {sorted(expected.reasons.items())}: {error}"
        stream = expected.invalid[blamed[0]]
        assert " ".join(stream.split()) in error, f"error does not name stream {stream!r}: {error}"
    for value in emitted:
        sent = [line for line, state in expected.states if state == value and line < (expected.first_invalid or 10**9)]
        assert sent, f"STATE {value} written, but it was not received before the first invalid line"
        covered = [row for row in missing if row.line < sent[0]]
        assert not covered, f"STATE {value} written while records before it are not in the bucket: {covered}"


def check_activations(expected: Expected, after: dict[str, bytes], before: dict[str, bytes]) -> None:
    for _, stream, version in expected.activations:
        folder = f"_meta/activate_version/{safe_stream(stream)}/"
        markers = [json.loads(after[k]) for k in after if k.startswith(folder) and after[k] != before.get(k)]
        assert any(m.get("version") == version for m in markers), f"no ACTIVATE_VERSION marker for {stream} {version}"


# --- Explicit examples: the edges issue 10 names, run every time before the generated ones -------------


def simple(kind: str, *, nullable: bool = False) -> Prop:
    base = scalar_schema(kind) if kind in SCALARS else {"type": kind}
    return Prop(kind, nullable, {**base, "type": [base["type"], "null"]} if nullable else base)


def scenario(*runs: list[Message], **config: t.Any) -> Scenario:
    """Explicit scenarios use EDGES, whose `id` and `Id` need allow_case_colliding_columns."""
    config = {
        "compression": "snappy",
        "file_name_template": DEFAULT_TEMPLATE,
        "allow_case_colliding_columns": True,
        **config,
    }
    return Scenario(config, "sdk", tuple(tuple(run) for run in runs))


EDGES = Schema(
    (
        ("id", simple("integer")),
        ("Id", simple("string", nullable=True)),
        ("at", simple("date-time")),
        ("day", simple("date", nullable=True)),
        ("n", simple("number", nullable=True)),
        ("obj", simple("object", nullable=True)),
    ),
    keys=("id",),
)
EDGE_VALUES: list[dict[str, t.Any]] = [
    {"id": 1, "Id": "ünï", "at": "1969-12-31T23:59:59.9999995Z", "day": "0001-01-01", "n": 0.1, "obj": {"a": [1]}},
    {"id": -(2**63), "at": "2026-11-22T10:00:00", "day": "9999-12-31", "n": -(2**53)},
    {"id": 2**63 - 1, "Id": None, "at": "0001-01-01T00:30:00-01:00", "obj": None},
]
EXPLICIT = {
    "valid edges, BATCH, ACTIVATE_VERSION, and the same version again in a second run": scenario(
        [
            Message("SCHEMA", "users", schema=EDGES),
            *[Message("RECORD", "users", record=r, version=7) for r in EDGE_VALUES],
            Message("BATCH", "users", batch_format="jsonl", batch_compression="gzip", batch_files=((EDGE_VALUES[0],),)),
            Message(
                "BATCH",
                "users",
                batch_format="parquet",
                batch_compression="none",
                batch_files=(({"id": 5, "at": "2026-01-01T00:00:00Z"},),),
            ),
            Message("STATE", value={"bookmarks": {"users": {"at": 1.10}}}),
            Message("ACTIVATE_VERSION", "users", version=7),
        ],
        [
            Message("SCHEMA", "users", schema=EDGES),  # alone in its batch, so Arrow parses the column
            Message("RECORD", "users", record={"id": 3, "at": "1969-12-31T23:59:59.9999995Z"}, version=7),
            Message("ACTIVATE_VERSION", "users", version=7),
        ],
    ),
    "a date-time whose UTC instant is in year 0": scenario(
        [
            Message("SCHEMA", "users", schema=EDGES),
            Message("RECORD", "users", record={"id": 1, "at": "0001-01-01T00:30:00+01:00"}),
            Message("STATE", value={"bookmarks": {}}),
        ],
    ),
    "a null primary key": scenario(
        [
            Message("SCHEMA", "users", schema=EDGES),
            Message("RECORD", "users", record={"id": None, "at": "2026-01-01T00:00:00Z"}),
        ],
    ),
    "a number in an object column": scenario(
        [
            Message("SCHEMA", "users", schema=EDGES),
            Message("RECORD", "users", record={"id": 1, "at": "2026-01-01T00:00:00Z", "obj": 5}),
        ],
    ),
    "an ACTIVATE_VERSION version that is a path": scenario(
        [
            Message("SCHEMA", "users", schema=EDGES),
            Message("RECORD", "users", record={"id": 1, "at": "2026-01-01T00:00:00Z"}),
            Message("ACTIVATE_VERSION", "users", version="../../../users_v4_0_1"),
        ],
        file_name_template=FOLDER_TEMPLATE,
    ),
}


def with_explicit_examples(test: t.Callable) -> t.Callable:
    for case in EXPLICIT.values():
        test = example(scenario=case)(test)
    return test


# --- The test ------------------------------------------------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def backend_name(request: pytest.FixtureRequest) -> str:
    return request.param


@PROFILE
@with_explicit_examples
@given(scenario=scenarios())
def test_every_record_lands_with_its_value_or_the_run_fails_on_an_invalid_line(
    request: pytest.FixtureRequest, backend_name: str, scenario: Scenario
) -> None:
    with tempfile.TemporaryDirectory(prefix="target-props-") as folder:
        root = Path(folder)
        (root / "batches").mkdir()
        (root / "scratch").mkdir()
        backend: LocalBackend | S3Backend
        if backend_name == "s3":
            service = request.getfixturevalue("s3_service")
            backend = S3Backend(service, service.create_bucket())
        else:
            backend = LocalBackend(root / "area")
            (root / "area").mkdir()
        config = {**backend.config, **scenario.config}
        template = config["file_name_template"]
        model = BucketModel()
        for number, run_input in enumerate(scenario.runs, start=1):
            (root / "batches" / str(number)).mkdir()
            lines, batch_records = render(run_input, scenario.line_style, root / "batches" / str(number))
            expected = expected_run(run_input, batch_records, config, model)
            note(f"run {number} input:\n" + "\n".join(f"{i:>3}: {line}" for i, line in enumerate(lines, 1)))
            note(f"run {number} invalid lines: {expected.reasons}")
            before = backend.objects()
            run = run_target(lines, config)
            note(f"run {number}: exit {run.exit_code}, stdout {run.stdout!r}, errors {run.error_lines}")
            after = backend.objects()
            streams = dict(model.owners)
            for message in run_input:
                if message.stream and (safe := safe_stream(message.stream)):
                    streams.setdefault(safe, message.stream)
            check_run(
                run, expected, before, after, template, streams, root / "scratch", int(config.get("max_file_rows") or 0)
            )
            assert backend.outside() == [], f"objects outside the bucket prefix: {backend.outside()}"
            if expected.first_invalid is not None:
                break
            model.owners.update({safe_stream(row.stream): row.stream for row in expected.rows})  # type: ignore[misc]


def test_property_names_with_backslash_quote_or_control_characters_are_ordinary_columns(tmp_path: Path) -> None:
    """Found by the property test above: such names (valid JSON Schema) failed the run with msgspec's
    `Renamed field names must not contain '\\', '"', or control characters`."""
    names = ["back\\slash", 'say "hi"', "tab\tname", "\x1dünï"]
    properties = {
        names[0]: {"type": "integer"},
        names[1]: {"type": "string"},
        names[2]: {"type": ["null", "object"]},
        names[3]: {"type": "string"},
    }
    schema = {
        "type": "SCHEMA",
        "stream": "odd",
        "schema": {"type": "object", "properties": properties},
        "key_properties": [names[3]],
    }
    messages = [
        schema,
        {"type": "RECORD", "stream": "odd", "record": {names[0]: 1, names[1]: "a", names[2]: {"k": 1}, names[3]: "k1"}},
        {"type": "RECORD", "stream": "odd", "record": {names[0]: 2, names[1]: "b", names[3]: "k2"}},
    ]
    run = run_target(messages, {"bucket_url": str(tmp_path)})
    assert run.exit_code == 0, run.error_lines
    table = pq.read_table(tmp_path / "odd_v4_0_1.parquet")
    assert table.column_names == names
    assert table.to_pylist() == [
        {names[0]: 1, names[1]: "a", names[2]: '{"k":1}', names[3]: "k1"},
        {names[0]: 2, names[1]: "b", names[2]: None, names[3]: "k2"},
    ]
    bad = {"type": "RECORD", "stream": "odd", "record": {names[0]: "two", names[3]: "k3"}}
    run = run_target([schema, messages[1], bad], {"bucket_url": str(tmp_path / "again")})
    assert run.exit_code == 1
    assert run.error_lines == [
        "target-parquet-bucket: error: InvalidRecordError: stream 'odd', input line 3: Expected `int | null`, "
        "got `str` at record.back\\slash"
    ]


@pytest.mark.parametrize(
    ("declared", "value", "stored"),
    [
        ({"type": ["object", "null"]}, 5, None),
        ({"type": "array"}, {"a": 1}, None),
        ({"type": ["integer", "string"]}, True, None),
        ({"type": ["integer", "string"]}, 1.5, None),
        ({"type": ["number", "boolean"]}, 7, "7"),
        ({"type": ["object", "string", "null"]}, "x", "x"),
    ],
)
def test_object_array_and_union_columns_refuse_values_of_other_json_types(
    tmp_path: Path, declared: dict, value: t.Any, stored: str | None
) -> None:
    """Found by the property test above: these columns stored any JSON value as text."""
    schema = {
        "type": "SCHEMA",
        "stream": "s",
        "schema": {"type": "object", "properties": {"v": declared}},
        "key_properties": [],
    }
    run = run_target([schema, {"type": "RECORD", "stream": "s", "record": {"v": value}}], {"bucket_url": str(tmp_path)})
    if stored is None:
        assert run.exit_code == 1
        assert len(run.error_lines) == 1
        assert "stream 's', input line 2: column 'v': expected" in run.error_lines[0]
    else:
        assert run.exit_code == 0, run.error_lines
        assert pq.read_table(tmp_path / "s_v4_0_1.parquet").column("v").to_pylist() == [stored]


def test_a_required_union_without_null_is_a_required_column_and_refuses_null(tmp_path: Path) -> None:
    """Found by the property test above: union columns were always nullable, whatever `required` said."""
    schema = {
        "type": "SCHEMA",
        "stream": "s",
        "key_properties": [],
        "schema": {"type": "object", "properties": {"v": {"type": ["integer", "string"]}}, "required": ["v"]},
    }
    run = run_target(
        [schema, {"type": "RECORD", "stream": "s", "record": {"v": 886}}], {"bucket_url": str(tmp_path / "ok")}
    )
    assert run.exit_code == 0, run.error_lines
    field = pq.read_table(tmp_path / "ok" / "s_v4_0_1.parquet").schema.field("v")
    assert (field.type, field.nullable) == (pa.string(), False)
    run = run_target(
        [schema, {"type": "RECORD", "stream": "s", "record": {"v": None}}], {"bucket_url": str(tmp_path / "null")}
    )
    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "stream 's', input line 2: column 'v' is declared non-nullable but is null" in run.error_lines[0]
