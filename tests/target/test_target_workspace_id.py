"""`{workspace_id}` in file names: the setting, else the `workspace_id` the stream's records carry.

A tap that finds the workspace itself (tap-customerio with one workspace behind its key) puts it in the
export rows; without the setting the target names those files with it instead of `0`.
"""

from __future__ import annotations

from pathlib import Path

from target.target_runs import data_files, record_message, run_target, schema_message

PROPERTIES = {"delivery_id": {"type": "string"}, "workspace_id": {"type": "integer"}}


def deliveries(*workspace_ids: int) -> list[dict]:
    return [
        schema_message("deliveries", PROPERTIES, key_properties=["delivery_id"]),
        *(
            record_message("deliveries", {"delivery_id": f"d{n}", "workspace_id": ws})
            for n, ws in enumerate(workspace_ids)
        ),
        schema_message("campaigns", {"id": {"type": "integer"}}, key_properties=["id"]),
        record_message("campaigns", {"id": 1}),
    ]


def test_without_the_setting_a_stream_is_named_with_the_workspace_id_its_records_carry(tmp_path: Path) -> None:
    run = run_target(deliveries(123456, 123456), {"bucket_url": str(tmp_path)})

    assert run.exit_code == 0, run.stderr
    assert data_files(tmp_path) == ["campaigns_v4_0_1.parquet", "deliveries_v4_123456_1.parquet"]


def test_the_setting_names_every_stream_whatever_the_records_carry(tmp_path: Path) -> None:
    run = run_target(deliveries(123456), {"bucket_url": str(tmp_path), "workspace_id": "42"})

    assert run.exit_code == 0, run.stderr
    assert data_files(tmp_path) == ["campaigns_v4_42_1.parquet", "deliveries_v4_42_1.parquet"]


def test_records_of_two_workspaces_in_one_stream_without_the_setting_stop_the_run_naming_both(tmp_path: Path) -> None:
    run = run_target(deliveries(1, 2), {"bucket_url": str(tmp_path)})

    assert run.exit_code == 1
    assert run.error_lines == [
        "target-parquet-bucket: error: NamingError: stream 'deliveries': records carry workspace_id 1 and 2, "
        "so no one id can name its files; set the workspace_id setting"
    ]
    assert [key for key in data_files(tmp_path) if key.startswith("deliveries")] == []
