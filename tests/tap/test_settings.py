"""The tap's settings are declared once (the config schema, with the defaults) and read through one typed object."""

from __future__ import annotations

import dataclasses

import pytest

from tap_customerio.settings import CONFIG_SCHEMA, Settings
from tap_customerio.tap import TapCustomerIO

DECLARED = CONFIG_SCHEMA["properties"]


def test_every_setting_of_the_schema_is_a_field_of_the_settings_object_and_no_other() -> None:
    TapCustomerIO.append_builtin_config(TapCustomerIO.config_jsonschema)  # as singer-sdk does on every run

    assert [field.name for field in dataclasses.fields(Settings)] == list(DECLARED)


def test_the_tap_documents_and_validates_the_same_schema() -> None:
    assert {name: TapCustomerIO.config_jsonschema["properties"][name] for name in DECLARED} == DECLARED


@pytest.mark.parametrize("absent", [{}, {"value": None}], ids=["missing", "null"])
@pytest.mark.parametrize("name", [name for name, declared in DECLARED.items() if "default" in declared])
def test_a_setting_left_out_or_null_has_the_schemas_default(name: str, absent: dict) -> None:
    config = {"app_api_key": "key", **({name: absent["value"]} if absent else {})}

    assert getattr(Settings.from_config(config), name) == DECLARED[name]["default"]


def test_settings_are_typed_as_the_tap_reads_them() -> None:
    settings = Settings.from_config(
        {
            "app_api_key": " key\r\n",
            "max_requests_per_second": 5,
            "workspace_id": "42",
            "esp_suppression_domains": ["a.example", "b.example"],
        }
    )

    assert settings.app_api_key == "key"
    assert settings.max_requests_per_second == 5.0
    assert isinstance(settings.max_requests_per_second, float)
    assert settings.workspace_id == 42
    assert settings.esp_suppression_domains == ("a.example", "b.example")
    assert (settings.api_url, settings.start_date) == (None, None)


def test_settings_cannot_change_during_a_run() -> None:
    settings = Settings.from_config({"app_api_key": "key"})

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_retries = 0  # type: ignore[misc]  # assigning a frozen field is what the test checks
