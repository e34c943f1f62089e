"""singer-sdk's standard target tests, each followed by a check of what landed in the bucket.

The SDK's tests only check that the target does not raise (or raises the expected error); here
every test's input file is replayed against the written parquet files: each RECORD of each stream
must be in that stream's files, in order, with its values.
"""

from __future__ import annotations

import datetime
import importlib.resources
import json
import shutil
import tempfile
import typing as t
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from singer_sdk.testing import get_target_test_class, target_test_streams

from target_parquet_bucket.naming import safe_segment
from target_parquet_bucket.target import TargetParquetBucket

BUCKET = Path(tempfile.mkdtemp(prefix="standard-target-tests-"))
#: Tests whose input is rejected on purpose: nothing may be written.
REJECTED_INPUT = {"invalid_schema", "record_before_schema", "record_missing_key_property"}

if t.TYPE_CHECKING:
    # mypy cannot subclass a class built at run time; statically it is the factory's declared base.
    from singer_sdk.testing.factory import BaseTestClass as StandardTargetTests
else:
    StandardTargetTests = get_target_test_class(
        TargetParquetBucket,
        config={"bucket_url": str(BUCKET), "workspace_id": "99"},
    )


def expected_records(test_name: str) -> dict[str, list[dict]]:
    """RECORD payloads per stream from the SDK's input file for `test_name`."""
    path = importlib.resources.files(target_test_streams) / f"{test_name}.singer"
    records: dict[str, list[dict]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records.setdefault(message["stream"], []).append(message["record"])
    return records


def stream_rows(stream: str) -> tuple[list[dict], list[pa.Schema]]:
    """All rows of a stream's files, in sequence order, and each file's schema."""
    prefix = f"{safe_segment(stream, what='stream')}_v4_99_"
    keys = sorted(
        (p for p in BUCKET.iterdir() if p.name.startswith(prefix)),
        key=lambda p: int(p.stem.rsplit("_", 1)[1]),
    )
    tables = [pq.read_table(p) for p in keys]
    return [row for table in tables for row in table.to_pylist()], [table.schema for table in tables]


def read_back(value: t.Any, field: pa.Field) -> t.Any:
    """A value read from the file, as the record value it stands for (JSON text parsed)."""
    if value is not None and (field.metadata or {}).get(b"json") == b"true":
        return json.loads(value)
    return value


def as_written(value: t.Any, field: pa.Field) -> t.Any:
    """What a record value must look like when read back from a column of `field`'s type."""
    if value is None or (field.metadata or {}).get(b"json") == b"true":
        return value
    if pa.types.is_timestamp(field.type):
        parsed = datetime.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
    return value


def check_output(test_name: str) -> None:
    """Every RECORD of the test's input is in the bucket with its values, nothing else."""
    if test_name in REJECTED_INPUT:
        assert not [p for p in BUCKET.iterdir() if p.suffix == ".parquet"]
        return
    expected = expected_records(test_name)
    written_streams = {p.name.split("_v4_99_")[0] for p in BUCKET.glob("*.parquet")}
    assert written_streams == {safe_segment(s, what="stream") for s in expected}
    for stream, records in expected.items():
        rows, schemas = stream_rows(stream)
        assert len(rows) == len(records), stream
        fields = {f.name: f for schema in schemas for f in schema}
        for row, record in zip(rows, records, strict=True):
            for name, value in record.items():
                if name in fields:
                    assert read_back(row[name], fields[name]) == as_written(value, fields[name]), (stream, name)


def _with_output_check(run: t.Callable[..., None], test_name: str) -> t.Callable[..., None]:
    def test(self: t.Any, config: t.Any, resource: t.Any, runner: t.Any) -> None:
        _ = self
        run(config, resource, runner)
        if test_name != "cli_prints":
            check_output(test_name)

    test.__name__ = f"test_target_{test_name}"
    return test


class TestStandardTargetTests(StandardTargetTests):
    """The SDK suite, each test with its output checked."""

    @pytest.fixture
    def resource(self) -> t.Iterator[Path]:
        """A fresh, empty bucket folder per test."""
        shutil.rmtree(BUCKET, ignore_errors=True)
        BUCKET.mkdir()
        yield BUCKET
        shutil.rmtree(BUCKET, ignore_errors=True)


for _attr in [a for a in vars(StandardTargetTests) if a.startswith("test_target_")]:
    setattr(
        TestStandardTargetTests,
        _attr,
        _with_output_check(getattr(StandardTargetTests, _attr), _attr.removeprefix("test_target_")),
    )


def test_special_stream_names_become_safe_file_names() -> None:
    """`test:SpecialChars!in?attributes` is written as `test_SpecialChars_in_attributes_…`."""
    assert safe_segment("test:SpecialChars!in?attributes", what="stream") == "test_SpecialChars_in_attributes"
