"""`meltano.yml` declares both plugins exactly as they describe themselves in `--about`."""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

#: singer-sdk's own settings; Meltano derives them from the declared capabilities.
SDK_BUILTINS = {
    "stream_maps",
    "stream_map_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "batch_config",
    "load_method",
}
MELTANO_KIND = {"string": "string", "integer": "integer", "number": "decimal", "boolean": "boolean", "array": "array"}


def plugins() -> list[dict]:
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    return [plugin for group in project["plugins"].values() for plugin in group]


@functools.cache
def about(executable: str) -> dict:
    output = subprocess.check_output([str(BIN / executable), "--about", "--format=json"], stderr=subprocess.DEVNULL)
    return json.loads(output)


def expected_kind(spec: dict) -> str:
    if spec.get("enum"):
        return "options"
    if spec.get("format") == "date-time":
        return "date_iso8601"
    types = [t for t in spec["type"] if t != "null"] if isinstance(spec["type"], list) else [spec["type"]]
    return MELTANO_KIND.get(types[0], "object")


@pytest.mark.parametrize("plugin", plugins(), ids=lambda p: p["name"])
def test_every_plugin_setting_is_declared_with_its_kind_description_and_secrecy(plugin: dict) -> None:
    declared = {setting["name"]: setting for setting in plugin["settings"] if setting["name"] not in SDK_BUILTINS}
    own = {k: v for k, v in about(plugin["executable"])["settings"]["properties"].items() if k not in SDK_BUILTINS}

    assert sorted(declared) == sorted(own)
    for name, spec in own.items():
        setting = declared[name]
        assert setting["kind"] == expected_kind(spec), name
        assert setting.get("sensitive", False) == spec.get("secret", False), name
        assert setting["description"].strip(), name


@pytest.mark.parametrize("plugin", plugins(), ids=lambda p: p["name"])
def test_sdk_settings_declared_so_meltano_passes_them_exist_with_their_kind(plugin: dict) -> None:
    """Meltano 4.4 passes only declared settings from the environment (`TAP_CUSTOMERIO_BATCH_CONFIG`)."""
    properties = about(plugin["executable"])["settings"]["properties"]
    for setting in plugin["settings"]:
        if setting["name"] in SDK_BUILTINS:
            assert setting["kind"] == expected_kind(properties[setting["name"]]), setting["name"]


@pytest.mark.parametrize("plugin", plugins(), ids=lambda p: p["name"])
def test_declared_capabilities_are_the_plugins_own(plugin: dict) -> None:
    assert set(plugin["capabilities"]) == set(about(plugin["executable"])["capabilities"])


def test_plugins_install_from_the_repo_with_uv() -> None:
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    assert project["venv"]["backend"] == "uv"
    assert {p["pip_url"].split("[")[0] for p in plugins()} == {"-e ./tap-customerio", "-e ./target-parquet-bucket"}


@pytest.mark.parametrize("plugin", plugins(), ids=lambda p: p["name"])
def test_no_setting_is_a_decimal_because_meltano_cannot_pass_one_to_a_plugin(plugin: dict) -> None:
    """Meltano 4.4 parses `kind: decimal` values into `Decimal` and then fails to write the plugin's config JSON."""
    assert [s["name"] for s in plugin["settings"] if s["kind"] == "decimal"] == []


@pytest.mark.parametrize("plugin", plugins(), ids=lambda p: p["name"])
def test_every_setting_with_a_default_declares_it_as_its_value_so_meltano_config_list_shows_it(plugin: dict) -> None:
    declared = {setting["name"]: setting for setting in plugin["settings"]}
    defaults = {
        name: spec["default"]
        for name, spec in about(plugin["executable"])["settings"]["properties"].items()
        if "default" in spec and name in declared
    }

    assert {name: declared[name].get("value") for name in defaults} == defaults


def test_the_target_reads_the_workspace_id_the_tap_is_given_in_the_same_meltano_run() -> None:
    """Meltano passes an extractor's settings to the loader of its pipeline as `MELTANO_EXTRACT_<SETTING>`."""
    target = next(p for p in plugins() if p["name"] == "target-parquet-bucket")

    assert target["config"]["workspace_id"] == "$MELTANO_EXTRACT_WORKSPACE_ID"


def readme_meltano_commands() -> list[list[str]]:
    """The `.venv/bin/meltano config …` lines of the README's shell blocks, as argument lists."""
    readme = (REPO_ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith(".venv/bin/meltano config ")]


def test_the_readmes_meltano_config_commands_run_with_meltano_4_4_and_take_effect(tmp_path: Path) -> None:
    """In a copy of the project (the commands write `meltano.yml` and `.env`), with the venv's Meltano."""
    for name in ("meltano.yml", "singer-logging.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    env = {**os.environ, "CIO_APP_API_KEY": "readme-key", "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    commands = readme_meltano_commands()
    assert [c[:2] for c in commands].count(["config", "set"]) >= 3

    outputs = [
        subprocess.run(
            [str(BIN / "meltano"), *shlex.split(os.path.expandvars(shlex.join(c)))],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for c in commands
    ]
    tap_config = json.loads(
        subprocess.run(
            [str(BIN / "meltano"), "config", "print", "tap-customerio", "--format=json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )

    assert tap_config["workspace_id"] == 123456
    assert tap_config["app_api_key"] == "*****"
    assert "TAP_CUSTOMERIO_APP_API_KEY" in (tmp_path / ".env").read_text()
    assert "readme-key" not in (tmp_path / "meltano.yml").read_text()
    listed = next(out for c, out in zip(commands, outputs, strict=True) if c[:2] == ["config", "list"])
    assert "current value: 's3://my-bucket/customerio' (from `meltano.yml`)" in listed
    assert "max_file_size_mb [env: TARGET_PARQUET_BUCKET_MAX_FILE_SIZE_MB] current value: 100 (default)" in listed


SAMPLE_BUCKETS = {"local": "./output", "s3": "s3://", "s3-compatible": "s3://", "azure": "azure://", "gcs": "gs://"}


def test_each_sample_bucket_environment_sets_declared_settings_that_meltano_passes_to_the_target() -> None:
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    target = next(p for p in plugins() if p["name"] == "target-parquet-bucket")
    declared = {setting["name"] for setting in target["settings"]}
    environments = {env["name"]: env for env in project["environments"]}

    for name, prefix in SAMPLE_BUCKETS.items():
        (loader,) = environments[name]["config"]["plugins"]["loaders"]
        assert set(loader["config"]) <= declared, name
        printed = subprocess.run(
            [
                str(BIN / "meltano"),
                f"--environment={name}",
                "config",
                "print",
                "target-parquet-bucket",
                "--format=json",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        config = json.loads(printed)
        assert config["bucket_url"].startswith(prefix), name
        assert {k: config[k] for k in loader["config"]} == loader["config"], name
