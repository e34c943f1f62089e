"""Settings that cannot work fail at start: one line naming the setting, exit 1, before any input is read."""

from __future__ import annotations

import typing as t

import pyarrow.parquet as pq
import pytest
from target.target_runs import data_files, record_message, run_target, schema_message, state_message

from target_parquet_bucket.settings import SETTINGS

if t.TYPE_CHECKING:
    from pathlib import Path

#: Not JSON: had the target read its input before checking its settings, it would complain about this line.
UNREAD_INPUT = ["this line is never read"]


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"file_name_template": "{sequence}.{format}"}, "file_name_template must contain {stream}"),
        ({"file_name_template": "{stream}{sequence}.{format}"}, "cannot keep two streams apart"),
        ({"file_name_template": "{sequence}{stream}.{format}"}, "cannot keep two streams apart"),
        ({"file_name_template": "{stream}_{date}{sequence}.{format}"}, "cannot keep two streams apart"),
        ({"file_name_template": "_meta/{stream}_{sequence}.{format}"}, "under _meta/"),
        (
            {"load_method": "upsert"},
            "load_method: 'upsert' is not supported; only 'append-only' applies to file output",
        ),
        ({"load_method": "overwrite"}, "load_method: 'overwrite' is not supported; only 'append-only' applies"),
        ({"max_file_rows": -1}, "max_file_rows: -1 is less than the minimum of 0"),
        ({"max_file_size_mb": 0}, "max_file_size_mb: 0 is less than the minimum of 1"),
        ({"row_group_rows": 0}, "row_group_rows: 0 is less than the minimum of 1"),
        ({"batch_size_mb": -3}, "batch_size_mb: -3 is less than the minimum of 1"),
        ({"batch_size_rows": 0}, "batch_size_rows: must be a positive integer"),
        ({"s3_part_size_mb": 4}, "s3_part_size_mb: 4 is less than the minimum of 5"),
        ({"s3_multipart_threshold_mb": 6000}, "s3_multipart_threshold_mb: 6000 is greater than the maximum of 5120"),
        ({"s3_max_attempts": 0}, "s3_max_attempts: 0 is less than the minimum of 1"),
        ({"azure_block_size_mb": 0}, "azure_block_size_mb: 0 is less than the minimum of 1"),
        ({"gcs_chunk_size_mb": 0}, "gcs_chunk_size_mb: 0 is less than the minimum of 1"),
        ({"workspace_id": "ws-1"}, "workspace_id: 'ws-1' does not match"),
        ({"workspace_id": -1}, "workspace_id: -1 is less than the minimum of 0"),
        ({"version": "../4"}, "version: '../4' does not match"),
        ({"format": "xml"}, "format: 'xml' is not one of"),
        (
            {"temp_dir": "/nonexistent/target-parquet-bucket-temp"},
            "temp_dir: '/nonexistent/target-parquet-bucket-temp' is not an existing folder",
        ),
        ({"bucket_url": "s3://bucket/a/../b"}, "bucket_url s3://bucket/a/../b: the prefix must not contain"),
        ({"bucket_url": "s3://bucket/a//b"}, "bucket_url s3://bucket/a//b: the prefix must not contain"),
        ({"bucket_url": "azure://container/x/./y"}, "bucket_url azure://container/x/./y: the prefix must not contain"),
        ({"bucket_url": "gs://bucket/../up"}, "bucket_url gs://bucket/../up: the prefix must not contain"),
    ],
)
def test_a_setting_that_cannot_work_is_refused_at_start_naming_it(
    tmp_path: Path, settings: dict, complaint: str
) -> None:
    run = run_target(UNREAD_INPUT, {"bucket_url": str(tmp_path / "bucket"), **settings})

    assert run.exit_code == 1
    assert len(run.error_lines) == 1, run.stderr
    assert complaint in run.error_lines[0]
    assert run.states == []
    assert not (tmp_path / "bucket").exists()


def test_a_stream_whose_files_would_land_under_meta_is_refused(tmp_path: Path) -> None:
    messages = [schema_message("_meta", {"id": {"type": "integer"}}), record_message("_meta", {"id": 1})]

    run = run_target(messages, {"bucket_url": str(tmp_path), "file_name_template": "{stream}/{sequence}.{format}"})

    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "stream '_meta': files would be written under _meta/ (e.g. '_meta/1.parquet')" in run.error_lines[0]
    assert data_files(tmp_path) == []
    assert not (tmp_path / "_meta/1.parquet").exists()


@pytest.mark.parametrize("workspace_id", [4242, "4242"])
def test_workspace_id_is_an_integer_or_a_numeric_string(tmp_path: Path, workspace_id: int | str) -> None:
    messages = [schema_message("users", {"id": {"type": "integer"}}), record_message("users", {"id": 1})]

    run = run_target(
        messages, {"bucket_url": str(tmp_path), "workspace_id": workspace_id, "load_method": "append-only"}
    )

    assert run.exit_code == 0, run.stderr
    assert data_files(tmp_path) == ["users_v4_4242_1.parquet"]


@pytest.mark.parametrize(
    "template",
    [
        "{stream}_v{version}_{workspace_id}_{sequence}.{format}",
        "{stream}/{sequence}.{format}",
        "{date}/{stream}-{timestamp}-{sequence}.{format}",
        "{sequence}-{stream}.{format}",
    ],
)
def test_templates_that_name_the_stream_unambiguously_are_accepted(tmp_path: Path, template: str) -> None:
    messages = [schema_message("users", {"id": {"type": "integer"}}), record_message("users", {"id": 1})]

    run = run_target(messages, {"bucket_url": str(tmp_path), "file_name_template": template})

    assert run.exit_code == 0, run.stderr
    assert len(data_files(tmp_path)) == 1


def test_every_setting_given_as_null_takes_the_default_its_schema_declares(tmp_path: Path) -> None:
    # Settings with a list of choices refuse null (it is not among them); every other one accepts it.
    properties = SETTINGS.to_dict()["properties"]
    nulls = {name: None for name, prop in properties.items() if name != "bucket_url" and "enum" not in prop}
    messages = [
        schema_message("users", {"id": {"type": "integer"}}),
        record_message("users", {"id": 1}),
        state_message({"bookmarks": {"users": 1}}),
    ]

    run = run_target(messages, {"bucket_url": str(tmp_path), **nulls})

    assert run.exit_code == 0, run.error_lines or run.stderr[-800:]
    assert run.states == [{"bookmarks": {"users": 1}}]
    assert data_files(tmp_path) == ["users_v4_0_1.parquet"]
    parquet = pq.ParquetFile(tmp_path / "users_v4_0_1.parquet")
    assert parquet.read().to_pylist() == [{"id": 1}]
    assert parquet.metadata.row_group(0).column(0).compression == "SNAPPY"
