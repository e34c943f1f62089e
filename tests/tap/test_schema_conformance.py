"""Every record the tap emits is valid against the SCHEMA it emitted for its stream, as a validating target
checks it: `jsonschema` with the draft the schema names (singer-sdk's 2020-12 when it names none) and
`date-time` format checking. Values of another type are converted when nothing is lost and counted in one
warning per field; anything else ends the stream with one line naming stream, field and record key.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cio_simulator import Simulator
from jsonschema import FormatChecker, validators
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR
from tap.tap_harness import API_KEY, TapRun, catalog_for, run_tap, tap_config

from tap_customerio.tap import STREAM_TYPES

ALL_STREAMS = [stream_type.name for stream_type in STREAM_TYPES]
TAP = Path(sys.executable).with_name("tap-customerio")


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=7, scale=0.5, api_key=API_KEY, requests_per_second=1000) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def full_run(sim: Simulator) -> TapRun:
    """One sync of every stream, export streams included."""
    config = tap_config(
        sim, start_date="2020-01-01T00:00:00Z", metrics_days=2, workspace_id=sim.data.workspaces[0]["id"]
    )
    return run_tap(config, ALL_STREAMS)


def validator_for(schema: dict[str, Any]) -> Any:
    """What a validating target builds from a SCHEMA message: the draft it names, formats checked."""
    validator_class = validators.validator_for(schema, default=DEFAULT_JSONSCHEMA_VALIDATOR)
    return validator_class(schema, format_checker=FormatChecker())


def test_the_validator_really_checks_date_time_formats() -> None:
    validator = validator_for({"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}})
    assert validator.is_valid({"at": "2025-01-31T10:00:00+00:00"})
    assert not validator.is_valid({"at": "1738317600"})


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_every_emitted_record_is_valid_against_the_schema_the_tap_emitted(stream: str, full_run: TapRun) -> None:
    records = full_run.records.get(stream, [])
    assert records, f"the sync emitted no {stream}: the test would prove nothing"
    validator = validator_for(full_run.schema(stream))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for r in records for e in validator.iter_errors(r)]
    assert errors == []


def test_campaign_triggers_are_declared_and_emitted_as_the_json_text_the_api_sends(
    sim: Simulator, full_run: TapRun
) -> None:
    properties = full_run.schema("campaigns")["properties"]
    for name in ("relationship_attribute_triggers", "object_attribute_triggers"):
        assert properties[name]["type"] == ["string", "null"]
    source = {c["id"]: c for c in sim.data.campaigns}
    emitted = [c for c in full_run.records["campaigns"] if c.get("relationship_attribute_triggers")]
    assert emitted
    for campaign in emitted:
        assert campaign["relationship_attribute_triggers"] == source[campaign["id"]]["relationship_attribute_triggers"]
        assert campaign["object_attribute_triggers"] == source[campaign["id"]]["object_attribute_triggers"]
        json.loads(campaign["relationship_attribute_triggers"])


def edited_campaigns_run(make_cio_sim: Any, edit: Any) -> tuple[Simulator, TapRun]:
    """A sync of `campaigns` after `edit(campaigns)` changed the simulator's data."""
    sim = make_cio_sim(scale=0.5)
    edit(sim.data.campaigns)
    return sim, run_tap(tap_config(sim), ["campaigns"])


def test_campaign_triggers_sent_as_objects_like_the_spec_types_them_are_emitted_as_their_json_text(
    make_cio_sim: Any,
) -> None:
    triggers = {"and": [{"relationship_attribute": {"type_id": 1, "field": "trig", "operator": "eq", "value": "x"}}]}

    def edit(campaigns: list[dict]) -> None:
        campaigns[0]["relationship_attribute_triggers"] = triggers

    sim, run = edited_campaigns_run(make_cio_sim, edit)
    emitted = next(c for c in run.records["campaigns"] if c["id"] == sim.data.campaigns[0]["id"])
    assert json.loads(emitted["relationship_attribute_triggers"]) == triggers
    assert validator_for(run.schema("campaigns")).is_valid(emitted)
    warnings = [line for line in run.log.splitlines() if "relationship_attribute_triggers" in line]
    assert len(warnings) == 1
    assert "converted 1 value(s)" in warnings[0]


def test_numeric_string_ids_become_integers_counted_in_one_warning_per_stream_and_field(make_cio_sim: Any) -> None:
    def edit(campaigns: list[dict]) -> None:
        for campaign in campaigns[:3]:
            campaign["id"] = str(campaign["id"])
            campaign["start_hour"] = "9"

    sim, run = edited_campaigns_run(make_cio_sim, edit)
    edited = {int(c["id"]) for c in sim.data.campaigns[:3]}
    assert sorted(c["id"] for c in run.records["campaigns"]) == sorted(int(c["id"]) for c in sim.data.campaigns)
    assert [c["start_hour"] for c in run.records["campaigns"] if c["id"] in edited] == [9, 9, 9]
    id_warnings = [line for line in run.log.splitlines() if "field 'id'" in line]
    hour_warnings = [line for line in run.log.splitlines() if "field 'start_hour'" in line]
    assert len(id_warnings) == 1 and "Stream 'campaigns' converted 3 value(s)" in id_warnings[0]
    assert len(hour_warnings) == 1 and "converted 3 value(s)" in hour_warnings[0]


@pytest.mark.parametrize(("bad_id", "shown"), [("abc", "'abc'"), (None, "None"), (True, "True"), ("007", "'007'")])
def test_a_campaign_id_that_is_no_integer_ends_the_sync_with_one_line_naming_stream_field_and_key(
    make_cio_sim: Any, tmp_path: Path, bad_id: Any, shown: str
) -> None:
    sim = make_cio_sim(scale=0.5)
    sim.data.campaigns[1]["id"] = bad_id
    config = tap_config(sim)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_for(config, ["campaigns"])))
    result = subprocess.run(
        [str(TAP), "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    expected = f"stream 'campaigns': record {{'id': {shown}}}: field 'id' holds {shown}, which is not integer"
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    emitted_ids = [
        json.loads(line)["record"]["id"] for line in result.stdout.splitlines() if json.loads(line)["type"] == "RECORD"
    ]
    assert all(type(campaign_id) is int for campaign_id in emitted_ids)
