"""`--about` documents every setting."""

from __future__ import annotations

from target.target_runs import run_target

from target_parquet_bucket.target import TargetParquetBucket


def test_about_markdown_lists_every_setting_with_a_description() -> None:
    run = run_target([], {}, args=["--about", "--format=markdown"])
    assert run.exit_code == 0, run.stderr
    about = run.stdout
    rows = {
        cells[1].strip(): cells[4].strip()
        for line in about.splitlines()
        if line.startswith("| ") and len(cells := line.split("|")) >= 6
    }
    settings = TargetParquetBucket.config_jsonschema["properties"]
    for name in ("bucket_url", "format", "compression", "file_name_template", "workspace_id", "partition_by"):
        assert name in settings
    for name in settings:
        assert rows.get(name), f"setting {name} missing or undocumented in --about"


def test_secrets_are_marked_secret() -> None:
    settings = TargetParquetBucket.config_jsonschema["properties"]
    for name in ("aws_secret_access_key", "azure_sas_url", "azure_connection_string", "gcs_service_account_json"):
        assert settings[name].get("secret") is True, name
