"""Bad configuration and bad API answers make the tap stop with one clear line, never a traceback or silence.

Each test runs the real `tap-customerio` process against the Customer.io simulator over loopback HTTP.
Answers the simulator would never give (wrong types, missing fields) come from a fault proxy in front of
it that replaces one endpoint's body.
"""

from __future__ import annotations

import json
import typing as t
import urllib.parse

import pytest

from resilience.fault_proxy import FaultProxy
from resilience.outcome import assert_one_line_error, run_plugin, stderr_line_naming
from resilience.pipeline import TAP, discover_catalog, write_json

if t.TYPE_CHECKING:
    from pathlib import Path

API_KEY = "sim-key-resilience-0001"


@pytest.fixture
def sim(make_cio_sim: t.Callable[..., t.Any]) -> t.Any:
    """A small simulated workspace with a generous rate budget."""
    return make_cio_sim(seed=6, scale=0.05, api_key=API_KEY, requests_per_second=1000)


def tap_config(workdir: Path, **settings: t.Any) -> Path:
    """A config file with exactly `settings`."""
    return write_json(workdir / "tap_config.json", settings)


def good_settings(sim: t.Any, **overrides: t.Any) -> dict[str, t.Any]:
    return {
        "app_api_key": API_KEY,
        "api_url": sim.base_url,
        "start_date": "2024-01-01T00:00:00Z",
        "max_requests_per_second": 1000,
        "workspace_id": 123456,
        **overrides,
    }


@pytest.mark.parametrize("mode", ["discover", "sync"])
def test_missing_api_key_names_the_setting(workdir: Path, env: dict[str, str], mode: str) -> None:
    config = tap_config(workdir, api_url="http://127.0.0.1:9/v1")

    outcome = run_plugin(
        TAP, ["--config", str(config), *(["--discover"] if mode == "discover" else [])], cwd=workdir, env=env
    )

    assert_one_line_error(outcome, "app_api_key")
    assert not [m for m in outcome.stdout_lines if '"RECORD"' in m]


def test_rejected_key_says_invalid_key_or_other_region(sim: t.Any, workdir: Path, env: dict[str, str]) -> None:
    wrong_key = "sim-key-of-another-region-0002"
    config = tap_config(workdir, **good_settings(sim, app_api_key=wrong_key, region="eu"))

    outcome = run_plugin(TAP, ["--config", str(config), "--discover"], cwd=workdir, env=env)

    assert_one_line_error(outcome, "401", "key", "region")
    assert wrong_key not in outcome.stderr + outcome.stdout.decode()


def test_unknown_region_names_the_setting(sim: t.Any, workdir: Path, env: dict[str, str]) -> None:
    settings = good_settings(sim, region="asia")
    del settings["api_url"]
    config = tap_config(workdir, **settings)

    outcome = run_plugin(TAP, ["--config", str(config), "--discover"], cwd=workdir, env=env)

    assert_one_line_error(outcome, "region")


@pytest.mark.parametrize("start_date", ["yesterday", "2026-13-45", "1700000000"])
def test_bad_start_date_names_the_setting(sim: t.Any, workdir: Path, env: dict[str, str], start_date: str) -> None:
    catalog = discover_catalog(tap_config(workdir, **good_settings(sim)), workdir, {"messages"}, env)
    config = tap_config(workdir, **good_settings(sim, start_date=start_date))

    outcome = run_plugin(TAP, ["--config", str(config), "--catalog", str(catalog)], cwd=workdir, env=env)

    assert_one_line_error(outcome, "start_date")
    assert not [m for m in outcome.stdout_lines if '"RECORD"' in m]


@pytest.fixture
def proxied(sim: t.Any) -> t.Iterator[FaultProxy]:
    """A proxy in front of the simulator that can replace one endpoint's answer."""
    proxy = FaultProxy(sim.base_url).start()
    yield proxy
    proxy.stop()


def run_campaigns_through(proxy: FaultProxy, sim: t.Any, workdir: Path, env: dict[str, str]):
    """Sync only `campaigns` with the tap pointed at the proxy."""
    catalog = discover_catalog(tap_config(workdir, **good_settings(sim)), workdir, {"campaigns"}, env)
    api_url = proxy.url + urllib.parse.urlsplit(sim.base_url).path
    config = tap_config(workdir, **good_settings(sim, api_url=api_url, max_retries=1))
    return run_plugin(TAP, ["--config", str(config), "--catalog", str(catalog)], cwd=workdir, env=env)


def campaign_records(outcome: t.Any) -> list[dict[str, t.Any]]:
    return [m["record"] for m in outcome.messages if m.get("type") == "RECORD" and m["stream"] == "campaigns"]


def test_envelope_without_the_records_key_is_an_error_not_an_empty_stream(
    sim: t.Any, proxied: FaultProxy, workdir: Path, env: dict[str, str]
) -> None:
    proxied.override(r"/campaigns(\?|$)", 200, json.dumps({"data": [{"id": 1}]}).encode())

    outcome = run_campaigns_through(proxied, sim, workdir, env)

    assert_one_line_error(outcome, "campaigns")
    assert campaign_records(outcome) == []


def test_record_with_unexpected_types_is_reported_naming_the_field(
    sim: t.Any, proxied: FaultProxy, workdir: Path, env: dict[str, str]
) -> None:
    odd = {"id": 77, "name": "odd", "created": "last tuesday", "updated": 1700000000, "active": "yes"}
    proxied.override(r"/campaigns(\?|$)", 200, json.dumps({"campaigns": [odd]}).encode())

    outcome = run_campaigns_through(proxied, sim, workdir, env)

    if outcome.returncode != 0:
        assert_one_line_error(outcome, "campaigns", "created")
    else:
        assert stderr_line_naming(outcome, "campaigns", "created"), "coercion of `created` was not logged"
        assert [r["id"] for r in campaign_records(outcome)] == [77], "the odd record was dropped silently"


def test_record_missing_fields_is_emitted_with_nulls(
    sim: t.Any, proxied: FaultProxy, workdir: Path, env: dict[str, str]
) -> None:
    proxied.override(r"/campaigns(\?|$)", 200, json.dumps({"campaigns": [{"id": 78, "updated": 1700000000}]}).encode())

    outcome = run_campaigns_through(proxied, sim, workdir, env)

    assert outcome.returncode == 0, outcome.last_stderr_line
    [record] = campaign_records(outcome)
    assert record["id"] == 78
    assert record.get("name") is None


def run_with_inputs(
    sim: t.Any, workdir: Path, env: dict[str, str], *, state: str | None = None, catalog: str | None = None
) -> t.Any:
    """Sync `campaigns` and `topics` with the given state and/or catalog file text (else a good catalog)."""
    config = tap_config(workdir, **good_settings(sim))
    catalog_file = discover_catalog(config, workdir, {"campaigns", "topics"}, env)
    if catalog is not None:
        catalog_file.write_text(catalog)
    args = ["--config", str(config), "--catalog", str(catalog_file)]
    if state is not None:
        (workdir / "state.json").write_text(state)
        args += ["--state", str(workdir / "state.json")]
    sim.reset_log()
    return run_plugin(TAP, args, cwd=workdir, env=env)


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ('{"bookmarks": {"campaigns": ', ("state file", "state.json", "not JSON")),
        ('[{"bookmarks": {}}]', ("state file", "state.json", "object", "list")),
        ('{"bookmarks": {"campaigns": "2024-01-01"}}', ("state.json", "campaigns", "object")),
        (
            '{"bookmarks": {"campaigns": {"replication_key": "updated", "replication_key_value": "not-a-date"}}}',
            ("state.json", "campaigns", "replication_key_value", "not-a-date"),
        ),
        (
            '{"bookmarks": {"campaigns": {"replication_key": "updated", "replication_key_value": 1764505000000}}}',
            ("state.json", "campaigns", "replication_key_value", "1764505000000"),
        ),
        (
            '{"bookmarks": {"campaigns": '
            '{"replication_key": "updated", "replication_key_value": "3169-07-08T01:00:00Z"}}}',
            ("state.json", "campaigns", "replication_key_value", "in the future"),
        ),
    ],
    ids=["not JSON", "a list", "a bookmark that is not an object", "not-a-date", "unix milliseconds", "year 3169"],
)
def test_a_bad_state_fails_before_any_request_with_one_line_naming_the_file_stream_and_field(
    sim: t.Any, workdir: Path, env: dict[str, str], state: str, words: tuple[str, ...]
) -> None:
    outcome = run_with_inputs(sim, workdir, env, state=state)

    assert_one_line_error(outcome, *words)
    assert sim.request_log == [], "the bad state was noticed only after requests were sent"
    assert not [m for m in outcome.stdout_lines if '"RECORD"' in m]


@pytest.mark.parametrize(
    ("catalog", "words"),
    [
        ('{"streams": [', ("catalog file", "not JSON")),
        ('["campaigns"]', ("catalog file", "streams")),
        (
            '{"streams": [{"stream": "campaigns", "schema": {}, "metadata": []}]}',
            ("catalog file", "streams[0]", "tap_stream_id"),
        ),
        (
            '{"streams": [{"tap_stream_id": "campaigns", "schema": "object", "metadata": []}]}',
            ("catalog file", "campaigns", "schema"),
        ),
        (
            '{"streams": [{"tap_stream_id": "campaigns", "schema": {}, "metadata": {"selected": true}}]}',
            ("catalog file", "campaigns", "metadata"),
        ),
    ],
    ids=["not JSON", "a list", "no tap_stream_id", "schema not an object", "metadata not a list"],
)
def test_a_malformed_catalog_fails_with_one_line_naming_the_file_and_what_is_wrong(
    sim: t.Any, workdir: Path, env: dict[str, str], catalog: str, words: tuple[str, ...]
) -> None:
    outcome = run_with_inputs(sim, workdir, env, catalog=catalog)

    assert_one_line_error(outcome, *words)
    assert sim.request_log == []


def test_a_unix_time_in_milliseconds_fails_that_stream_naming_the_field(
    sim: t.Any, proxied: FaultProxy, workdir: Path, env: dict[str, str]
) -> None:
    in_ms = {"id": 79, "name": "ms", "created": 1764505000000, "updated": 1764505000}
    proxied.override(r"/campaigns(\?|$)", 200, json.dumps({"campaigns": [in_ms]}).encode())

    outcome = run_campaigns_through(proxied, sim, workdir, env)

    assert_one_line_error(outcome, "campaigns", "created", "1764505000000", "milliseconds")
