"""Failures: a wrong key or region (401), streams the key may not read (403), children of deleted parents
(404), retries that run out; every failure is one line, exits non-zero and never shows the key."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cio_simulator import Simulator
from tap.tap_harness import catalog_for, run_tap, tap_config

from tap_customerio.client import CustomerIOError, CustomerIOStream
from tap_customerio.tap import TapCustomerIO

TAP = str(Path(sys.executable).parent / "tap-customerio")
SECRET = "sk-0a1b2c3d4e5f-do-not-log"


def run_cli(
    tmp_path: Path,
    config: dict[str, Any],
    *args: str,
    catalog: dict | None = None,
) -> subprocess.CompletedProcess:
    """The installed console script, as Meltano runs it."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    command = [TAP, "--config", str(config_file), *args]
    if catalog is not None:
        catalog_file = tmp_path / "catalog.json"
        catalog_file.write_text(json.dumps(catalog))
        command += ["--catalog", str(catalog_file)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_a_key_of_the_wrong_region_fails_with_one_line_and_exit_code_1(
    tmp_path: Path, make_cio_sim: Callable[..., Simulator]
) -> None:
    sim = make_cio_sim(api_key="the-workspace-key")
    result = run_cli(tmp_path, tap_config(sim, app_api_key=SECRET, region="eu"))
    assert result.returncode == 1
    assert "API key invalid or belongs to the other region (region=eu)" in result.stderr
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_requests_that_keep_failing_end_the_run_with_the_endpoint_and_status(
    tmp_path: Path, make_cio_sim: Callable[..., Simulator]
) -> None:
    sim = make_cio_sim(api_key=SECRET)
    config = tap_config(sim, app_api_key=SECRET, max_retries=2, retry_backoff_ms=10)
    catalog = catalog_for(config, ["campaigns"])
    sim.faults.configure(rate=1.0, kinds=("503",), only_paths=["/v1/campaigns"])
    result = run_cli(tmp_path, config, catalog=catalog)
    assert result.returncode == 1
    final = [line for line in result.stderr.splitlines() if "tap-customerio failed" in line]
    assert len(final) == 1
    assert "GET /v1/campaigns returned HTTP 503" in final[0]
    assert sum(1 for e in sim.request_log if e.path == "/v1/campaigns" and e.status == 503) == 3
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_the_key_never_appears_in_output_or_logs_of_a_run_with_retries(
    tmp_path: Path, make_cio_sim: Callable[..., Simulator]
) -> None:
    sim = make_cio_sim(api_key=SECRET, scale=0.2)
    config = tap_config(sim, app_api_key=SECRET, retry_backoff_ms=10, request_timeout=1)
    catalog = catalog_for(config, ["campaigns", "campaign_actions", "customers", "messages"])
    sim.faults.configure(rate=0.3, seed=9, slow_seconds=1.5)
    result = run_cli(tmp_path, config, catalog=catalog)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Retrying" in result.stderr
    assert '"type":"RECORD"' in result.stdout.replace(" ", "")
    assert SECRET not in result.stderr + result.stdout


def test_discovery_leaves_out_streams_the_key_gets_403_for_and_their_children(
    tmp_path: Path, make_cio_sim: Callable[..., Simulator]
) -> None:
    sim = make_cio_sim(forbidden_paths=["/v1/transactional", "/v1/esp"])
    result = run_cli(tmp_path, tap_config(sim), "--discover")
    assert result.returncode == 0, result.stderr[-2000:]
    streams = {entry["tap_stream_id"] for entry in json.loads(result.stdout)["streams"]}
    assert {"transactional_messages", "transactional_contents", "eps_suppression"}.isdisjoint(streams)
    assert {"campaigns", "campaign_actions", "messages", "customers"} <= streams
    warnings = [line for line in result.stderr.splitlines() if "Leaving stream" in line]
    assert len(warnings) == 2
    assert any("transactional_messages" in w and "403" in w for w in warnings)


def test_a_sync_without_catalog_skips_forbidden_streams_with_a_warning_and_syncs_the_rest(
    make_cio_sim: Callable[..., Simulator],
) -> None:
    sim = make_cio_sim(forbidden_paths=["/v1/transactional"], scale=0.2)
    run = run_tap(
        tap_config(sim, metrics_days=2), ["campaigns", "transactional_messages", "transactional_contents", "snippets"]
    )
    assert "transactional_messages" not in run.records
    assert len(run.records["campaigns"]) == len(sim.data.campaigns)
    assert len(run.records["snippets"]) == len(sim.data.snippets)


def test_children_of_a_parent_deleted_since_it_was_listed_are_skipped(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim()
    config = tap_config(sim)
    catalog = catalog_for(config, ["campaigns", "campaign_actions"])
    deleted = sim.mutate()["campaigns"]["deleted"]
    assert deleted
    tap = TapCustomerIO(config=config, catalog=catalog)
    child = tap.streams["campaign_actions"]
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out):
        child.sync(context={"campaign_id": deleted[0]})
        out.flush()
    messages = [json.loads(line) for line in out.buffer.getvalue().decode().splitlines()]
    assert [m for m in messages if m["type"] == "RECORD"] == []
    assert [e.status for e in sim.request_log if e.path == f"/v1/campaigns/{deleted[0]}/actions"] == [404]


def test_a_non_retriable_client_error_fails_at_once_with_the_api_detail(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim()
    tap = TapCustomerIO(config=tap_config(sim))
    stream = tap.streams["campaigns"]
    assert isinstance(stream, CustomerIOStream), "every stream of the tap is a CustomerIOStream"
    with pytest.raises(CustomerIOError) as failure:
        stream.send("GET", "/campaigns/not-a-number")
    assert str(failure.value).startswith("GET /v1/campaigns/not-a-number returned HTTP 4")
    assert len(str(failure.value).splitlines()) == 1
    assert sum(1 for e in sim.request_log if e.path == "/v1/campaigns/not-a-number") == 1
