"""A flaky Customer.io API costs time, never data; an API that stays broken stops the run with one line.

The real tap reads the simulator over loopback HTTP while the simulator's fault injector fails a fifth
of all requests (429 with and without `Retry-After`, 500/502/503, dropped connections, truncated JSON,
answers slower than the tap's timeout). The bucket written through the real target must hold exactly
what a run without faults writes, stream by stream, row by row.
"""

from __future__ import annotations

import collections
import json
import typing as t
import urllib.parse

import pyarrow.parquet as pq
import pytest
from fixtures import bucket_audit
from fixtures.outcome import assert_one_line_error
from tap.tap_harness import run_tap_process

from resilience.fault_proxy import FaultProxy
from resilience.pipeline import discover_catalog, plugin_env, run_pipeline, write_json
from resilience.resumable import API_KEY, ResumingPipeline

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

ALL_FAULTS = ("500", "502", "503", "429", "429_no_retry_after", "drop", "truncate", "slow")
#: Fast retries and a timeout shorter than a "slow" answer, so faults cost seconds, not minutes.
IMPATIENT = {"retry_backoff_ms": 100, "request_timeout": 2, "max_retries": 8}
#: Columns that differ between any two runs by design: when a row was extracted or loaded.
RUN_DEPENDENT = ("seq_num", "_sdc_")


@pytest.fixture(scope="module")
def sim() -> Iterator[t.Any]:
    """One small workspace for the module (its data never changes here), with a generous rate budget."""
    from cio_simulator import Simulator

    simulator = Simulator(seed=61, scale=0.3, api_key=API_KEY, requests_per_second=1000).start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def catalog(sim: t.Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stream the tap offers, selected (discovered once, before any fault is switched on)."""
    folder = tmp_path_factory.mktemp("catalog")
    config = write_json(folder / "tap_config.json", tap_settings(sim))
    probe = json.loads(
        run_tap_process("--config", str(config), "--discover", cwd=folder, env=plugin_env(folder)).stdout
    )
    return discover_catalog(config, folder, {s["tap_stream_id"] for s in probe["streams"]}, plugin_env(folder))


def tap_settings(sim: t.Any, **overrides: t.Any) -> dict[str, t.Any]:
    return {
        "app_api_key": API_KEY,
        "api_url": sim.base_url,
        "start_date": "2025-06-01T00:00:00Z",
        "workspace_id": 123456,
        "max_requests_per_second": 1000,
        **IMPATIENT,
        **overrides,
    }


def replicate(sim: t.Any, catalog: Path, workdir: Path) -> tuple[t.Any, dict[str, collections.Counter]]:
    """tap | target into a fresh local bucket; returns the run and every stream's rows as a multiset."""
    workdir.mkdir()
    bucket = workdir / "bucket"
    tap_config = write_json(workdir / "tap_config.json", tap_settings(sim))
    target_config = write_json(workdir / "target_config.json", {"bucket_url": str(bucket), "workspace_id": "123456"})
    run = run_pipeline(
        ["--config", str(tap_config), "--catalog", str(catalog)],
        ["--config", str(target_config)],
        workdir,
        env=plugin_env(workdir),
    )
    rows: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for key in bucket_audit.data_files(bucket):
        stream = key.rsplit("/", 1)[-1].split("_v4_")[0]
        for row in pq.read_table(bucket / key).to_pylist():
            stable = {k: v for k, v in row.items() if not k.startswith(RUN_DEPENDENT)}
            rows[stream][json.dumps(stable, sort_keys=True, default=str)] += 1
    return run, rows


def test_a_fifth_of_requests_failing_in_every_way_still_yields_exactly_the_same_data(
    sim: t.Any, catalog: Path, tmp_path: Path
) -> None:
    sim.faults.configure(rate=0.0)
    clean_run, expected = replicate(sim, catalog, tmp_path / "clean")
    sim.faults.configure(rate=0.2, kinds=ALL_FAULTS, seed=7, slow_seconds=3.0)
    try:
        faulty_run, actual = replicate(sim, catalog, tmp_path / "faulty")
    finally:
        sim.faults.configure(rate=0.0)

    assert clean_run.tap_returncode == 0 and clean_run.target_returncode == 0, clean_run.tap_stderr[-1000:]
    assert faulty_run.tap_returncode == 0, faulty_run.tap_stderr[-1500:]
    assert faulty_run.target_returncode == 0, faulty_run.target_stderr[-1500:]
    assert {r.fault for r in sim.request_log if r.fault} == set(ALL_FAULTS), "not every fault kind was hit"
    assert sum(len(c) for c in expected.values()) > 1000, "the clean run wrote too little to prove anything"
    for stream in expected.keys() | actual.keys():
        lost = expected[stream] - actual[stream]
        extra = actual[stream] - expected[stream]
        assert not lost and not extra, f"{stream}: {sum(lost.values())} rows lost, {sum(extra.values())} extra"
    assert_same_bookmarks(faulty_run.last_state, clean_run.last_state)


def assert_same_bookmarks(actual: dict, expected: dict) -> None:
    """Stream by stream (so a difference names its stream), ignoring run-dependent sequence counters and the
    order of partitions (singer-sdk finds a partition by its context; with pages fetched ahead, the order in
    which partitions are first created depends on which response came first)."""

    def stable(bookmark: dict | None) -> dict:
        stable = {k: v for k, v in (bookmark or {}).items() if not k.startswith(RUN_DEPENDENT)}
        if "partitions" in stable:
            stable["partitions"] = sorted(stable["partitions"], key=lambda p: json.dumps(p, sort_keys=True))
        return stable

    for stream in expected["bookmarks"].keys() | actual["bookmarks"].keys():
        assert stable(actual["bookmarks"].get(stream)) == stable(expected["bookmarks"].get(stream)), stream


STATUS_FAULTS = {"500": "500", "502": "502", "503": "503", "429": "429", "429_no_retry_after": "429"}


@pytest.mark.parametrize("kind", [*STATUS_FAULTS, "drop", "truncate"])
def test_persistent_fault_fails_with_one_line_naming_endpoint_and_status(
    sim: t.Any, catalog: Path, workdir: Path, env: dict[str, str], kind: str
) -> None:
    campaigns_only = discover_catalog(write_json(workdir / "c.json", tap_settings(sim)), workdir, {"campaigns"}, env)
    config = write_json(workdir / "tap_config.json", tap_settings(sim, max_retries=2))
    sim.faults.configure(rate=1.0, kinds=[kind], only_paths=["/v1/campaigns"], seed=1)
    try:
        outcome = run_tap_process("--config", str(config), "--catalog", str(campaigns_only), cwd=workdir, env=env)
    finally:
        sim.faults.configure(rate=0.0)

    assert_one_line_error(outcome, "/v1/campaigns", *([STATUS_FAULTS[kind]] if kind in STATUS_FAULTS else []))
    assert not [m for m in outcome.messages if m.get("type") == "RECORD"]


@pytest.fixture
def messages_sim(make_cio_sim: t.Callable[..., t.Any]) -> t.Any:
    """20,000 deliveries: most 30-day windows fit one page, the newsletter blast's window needs nine."""
    return make_cio_sim(seed=62, scale=8, api_key=API_KEY, requests_per_second=1000)


def test_api_failing_mid_stream_keeps_state_behind_the_written_data_and_resume_completes(
    messages_sim: t.Any, workdir: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    proxy = FaultProxy(messages_sim.base_url, seed=3).start()
    try:
        pipeline = ResumingPipeline(messages_sim, workdir, tmp_path / "bucket", env, max_file_rows=5_000)
        pipeline.configure_tap(
            api_url=proxy.url + urllib.parse.urlsplit(messages_sim.base_url).path, **IMPATIENT | {"max_retries": 2}
        )
        proxy.inject(1.0, ["503"], path=r"/v1/messages\?.*start=")  # every second page onwards fails

        failed = pipeline.run()
        pipeline.configure_tap(**IMPATIENT)
        resumed = pipeline.run()
    finally:
        proxy.stop()

    assert failed.tap_returncode != 0
    assert "/v1/messages" in failed.tap_stderr.splitlines()[-1] and "503" in failed.tap_stderr.splitlines()[-1]
    assert failed.last_state is not None, "windows completed before the failure were not committed"
    assert resumed.tap_returncode == 0 and resumed.target_returncode == 0, resumed.tap_stderr[-1000:]
    present = set(bucket_audit.column_values(pipeline.bucket, bucket_audit.data_files(pipeline.bucket), "id"))
    assert set(pipeline.deliveries.created) <= present
