"""One stream's failure is that stream's: the tap goes on with the others and ends with a summary.

The real `tap-customerio` process reads the Customer.io simulator over loopback HTTP, through a fault proxy
that breaks one endpoint for good (a persistent 5xx, a 400, an envelope of the wrong shape, a record the
stream cannot convert). Every other selected stream must be synced completely with its STATE emitted, the
broken stream's bookmark must stay where it was, and the run must exit non-zero with one line per failed
stream. Discovery must not depend on every endpoint answering, and a run that cannot resolve the workspace
of its export streams must fail before its first stream.
"""

from __future__ import annotations

import json
import typing as t
import urllib.parse

import pytest

from resilience.fault_proxy import FaultProxy
from resilience.outcome import TRACEBACK, Outcome, run_plugin, stderr_line_naming
from resilience.pipeline import TAP, discover_catalog, write_json

if t.TYPE_CHECKING:
    from pathlib import Path

API_KEY = "sim-key-stream-failures-0001"
SUMMARY = "did not sync successfully"
#: A bookmark far in the past, so that a stream which failed must hand it back unchanged.
OLD_BOOKMARK = "2020-01-01T00:00:00+00:00"


@pytest.fixture
def sim(make_cio_sim: t.Callable[..., t.Any]) -> t.Any:
    """A small simulated workspace with a generous rate budget."""
    return make_cio_sim(seed=11, scale=0.3, api_key=API_KEY, requests_per_second=1000)


@pytest.fixture
def proxy(sim: t.Any) -> t.Iterator[FaultProxy]:
    """A fault proxy in front of the simulator."""
    fault_proxy = FaultProxy(sim.base_url).start()
    yield fault_proxy
    fault_proxy.stop()


def settings(sim: t.Any, **overrides: t.Any) -> dict[str, t.Any]:
    return {
        "app_api_key": API_KEY,
        "api_url": sim.base_url,
        "start_date": "2020-01-01T00:00:00Z",
        "workspace_id": 123456,
        "max_requests_per_second": 1000,
        "max_retries": 1,
        "retry_backoff_ms": 10,
        "request_timeout": 5,
        **overrides,
    }


def sync(
    sim: t.Any,
    proxy: FaultProxy,
    workdir: Path,
    env: dict[str, str],
    streams: set[str],
    *,
    state: dict | None = None,
    **overrides: t.Any,
) -> Outcome:
    """Discover against the simulator itself, then sync `streams` through the proxy."""
    catalog = discover_catalog(write_json(workdir / "discover.json", settings(sim)), workdir, streams, env)
    api_url = proxy.url + urllib.parse.urlsplit(sim.base_url).path
    config = write_json(workdir / "tap_config.json", settings(sim, api_url=api_url, **overrides))
    args = ["--config", str(config), "--catalog", str(catalog)]
    if state is not None:
        args += ["--state", str(write_json(workdir / "state.json", state))]
    return run_plugin(TAP, args, cwd=workdir, env=env)


def records(outcome: Outcome, stream: str) -> list[dict[str, t.Any]]:
    return [m["record"] for m in outcome.messages if m.get("type") == "RECORD" and m["stream"] == stream]


def final_state(outcome: Outcome) -> dict[str, t.Any]:
    return [m["value"] for m in outcome.messages if m.get("type") == "STATE"][-1]


def summary(outcome: Outcome) -> list[str]:
    """The stderr lines from the summary header to the end."""
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if SUMMARY in line), None)
    assert start is not None, f"no summary of failed streams:\n{outcome.stderr[-1500:]}"
    return lines[start:]


#: One way to break `GET /v1/snippets` for good, and the words its failure line must carry.
BREAKAGES: dict[str, tuple[t.Callable[[FaultProxy], None], tuple[str, ...]]] = {
    "persistent 503": (lambda p: p.inject(1.0, ["503"], path=r"^/v1/snippets"), ("503",)),
    "400 on a parameter": (
        lambda p: p.override(r"^/v1/snippets", 400, b'{"errors":[{"detail":"limit is not supported"}]}'),
        ("400", "limit is not supported"),
    ),
    "unexpected shape": (lambda p: p.override(r"^/v1/snippets", 200, b'{"data":[]}'), ("without 'snippets'",)),
    "a timestamp in microseconds": (
        lambda p: p.override(
            r"^/v1/snippets", 200, json.dumps({"snippets": [{"name": "x", "updated_at": 10**15}]}).encode()
        ),
        ("updated_at",),
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_stream_failing_for_good_leaves_the_other_streams_synced_and_ends_with_a_summary(
    sim: t.Any, proxy: FaultProxy, workdir: Path, env: dict[str, str], breakage: str
) -> None:
    breaks, words = BREAKAGES[breakage]
    breaks(proxy)
    state = {"bookmarks": {"snippets": {"replication_key": "updated_at", "replication_key_value": OLD_BOOKMARK}}}

    outcome = sync(sim, proxy, workdir, env, {"campaigns", "snippets", "topics"}, state=state)

    assert outcome.returncode != 0
    assert TRACEBACK not in outcome.stderr, outcome.stderr[-1500:]
    assert {r["id"] for r in records(outcome, "campaigns")} == {c["id"] for c in sim.data.campaigns}
    assert {r["id"] for r in records(outcome, "topics")} == {c["id"] for c in sim.data.subscription_topics}
    assert records(outcome, "snippets") == []
    assert stderr_line_naming(outcome, "stream 'snippets'", "/v1/snippets", "failed", *words)
    state_after = final_state(outcome)["bookmarks"]
    assert state_after["campaigns"]["replication_key_value"] > OLD_BOOKMARK
    assert state_after["snippets"]["replication_key_value"] == OLD_BOOKMARK
    _header, *failed = summary(outcome)
    assert len(failed) == 1
    assert "snippets" in failed[0] and all(w.lower() in failed[0].lower() for w in words), failed[0]


def test_a_stream_failing_after_emitting_records_keeps_its_bookmark_where_it_was(
    sim: t.Any, proxy: FaultProxy, workdir: Path, env: dict[str, str]
) -> None:
    proxy.inject(1.0, ["503"], path=r"^/v1/activities\?.*start=")  # the first page answers, the second never
    state = {"bookmarks": {"activities": {"replication_key": "timestamp", "replication_key_value": OLD_BOOKMARK}}}

    outcome = sync(sim, proxy, workdir, env, {"activities", "topics"}, state=state)

    assert outcome.returncode != 0
    assert len(records(outcome, "activities")) == 100, "the first page was not emitted"
    assert records(outcome, "topics")
    assert final_state(outcome)["bookmarks"]["activities"]["replication_key_value"] == OLD_BOOKMARK
    assert "activities" in summary(outcome)[-1] and "503" in summary(outcome)[-1]


def test_a_failing_child_stream_leaves_its_parent_and_sibling_synced(
    sim: t.Any, proxy: FaultProxy, workdir: Path, env: dict[str, str]
) -> None:
    # 422, not 400: a 400 on campaign metrics (a `tz` the API refuses) is skipped with a warning by design.
    proxy.override(r"^/v1/campaigns/\d+/metrics", 422, b'{"errors":[{"detail":"unprocessable period"}]}')

    outcome = sync(sim, proxy, workdir, env, {"campaigns", "campaign_actions", "campaign_metrics"}, metrics_days=2)

    assert outcome.returncode != 0
    live = {c["id"] for c in sim.data.campaigns}
    assert {r["id"] for r in records(outcome, "campaigns")} == live
    assert {r["campaign_id"] for r in records(outcome, "campaign_actions")} == {
        c for c in live if sim.data.campaign_actions.get(c)
    }
    assert records(outcome, "campaign_metrics") == []
    _header, *failed = summary(outcome)
    assert len(failed) == 1
    assert "campaign_metrics" in failed[0] and "unprocessable period" in failed[0]


def test_the_children_of_a_failed_parent_are_listed_as_not_completely_synced(
    sim: t.Any, proxy: FaultProxy, workdir: Path, env: dict[str, str]
) -> None:
    proxy.inject(1.0, ["503"], path=r"^/v1/campaigns(\?|$)")

    outcome = sync(sim, proxy, workdir, env, {"campaigns", "campaign_actions", "topics"})

    assert outcome.returncode != 0
    assert records(outcome, "topics")
    _header, *failed = summary(outcome)
    assert [line.split("stream '")[1].split("'")[0] for line in failed] == ["campaigns", "campaign_actions"]
    assert "503" in failed[0]
    assert "parent stream 'campaigns' failed" in failed[1]


def test_an_unexpected_exception_in_one_stream_is_that_streams_failure(
    sim: t.Any, proxy: FaultProxy, workdir: Path, env: dict[str, str]
) -> None:
    keyless = {"campaigns": [{"name": "no id", "updated": 1700000000}]}
    proxy.override(r"^/v1/campaigns(\?|$)", 200, json.dumps(keyless).encode())

    outcome = sync(sim, proxy, workdir, env, {"campaigns", "campaign_actions", "topics"})

    assert outcome.returncode != 0
    assert TRACEBACK not in outcome.stderr
    assert {r["id"] for r in records(outcome, "topics")} == {c["id"] for c in sim.data.subscription_topics}
    _header, *failed = summary(outcome)
    assert "stream 'campaigns'" in failed[0]


def test_discovery_keeps_a_stream_whose_probe_fails_with_a_server_error(
    sim: t.Any, workdir: Path, env: dict[str, str]
) -> None:
    sim.faults.configure(rate=1.0, kinds=["500"], only_paths=["/v1/snippets"])
    config = write_json(workdir / "tap_config.json", settings(sim))

    outcome = run_plugin(TAP, ["--config", str(config), "--discover"], cwd=workdir, env=env)

    assert outcome.returncode == 0, outcome.last_stderr_line
    streams = {entry["tap_stream_id"] for entry in json.loads(outcome.stdout)["streams"]}
    assert {"snippets", "campaigns", "topics"} <= streams
    assert stderr_line_naming(outcome, "snippets", "catalog", "/v1/snippets", "500")


TWO_WORKSPACES = {"workspaces": [{"id": 111, "name": "Production"}, {"id": 222, "name": "Staging"}]}


def test_export_streams_without_a_resolvable_workspace_fail_before_the_first_stream(
    sim: t.Any, proxy: FaultProxy, workdir: Path, env: dict[str, str]
) -> None:
    proxy.override(r"^/v1/workspaces", 200, json.dumps(TWO_WORKSPACES).encode())
    every_stream = {
        e["tap_stream_id"]
        for e in json.loads(
            run_plugin(
                TAP,
                ["--config", str(write_json(workdir / "d.json", settings(sim))), "--discover"],
                cwd=workdir,
                env=env,
            ).stdout
        )["streams"]
    }
    catalog = discover_catalog(write_json(workdir / "d.json", settings(sim)), workdir, every_stream, env)
    unset = {k: v for k, v in settings(sim, api_url=proxy.url + "/v1").items() if k != "workspace_id"}
    config = write_json(workdir / "tap_config.json", unset)

    outcome = run_plugin(TAP, ["--config", str(config), "--catalog", str(catalog)], cwd=workdir, env=env)

    assert outcome.returncode != 0
    assert TRACEBACK not in outcome.stderr
    line = outcome.last_stderr_line
    for word in ("workspace_id", "111", "Production", "222", "Staging", "deliveries", "people"):
        assert word in line, f"{word!r} missing from {line!r}"
    assert outcome.stdout_lines == [], "something was synced before the failure"
    assert {e.path.split("?")[0] for e in proxy.log} == {"/v1/workspaces"}


def test_workspace_id_may_be_a_string_of_digits(
    sim: t.Any, proxy: FaultProxy, workdir: Path, env: dict[str, str]
) -> None:
    outcome = sync(sim, proxy, workdir, env, {"deliveries"}, workspace_id="123456")

    assert outcome.returncode == 0, outcome.last_stderr_line
    rows = records(outcome, "deliveries")
    assert rows
    assert {row["workspace_id"] for row in rows} == {123456}
