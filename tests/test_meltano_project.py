"""`meltano.yml` declares both plugins exactly as they describe themselves in `--about`."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

#: singer-sdk's own settings; Meltano derives them from the declared capabilities.
SDK_BUILTINS = {
    "stream_maps", "stream_map_config", "faker_config", "flattening_enabled", "flattening_max_depth",
    "flattening_max_key_length", "flattening_separator", "batch_config", "load_method",
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
