"""The process-wide rate limiter keeps every stream and worker thread within `max_requests_per_second`,
judged by arrival times in the simulator's request log (its own limiter answers 429 above 10 per second).

The tap runs at 8 requests per second here: arrival times carry some scheduling jitter on a shared machine,
so the assertions allow one request of it (at most 9 in any second) and the server's 10 leaves headroom."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from cio_simulator import Simulator
from tap.tap_expected import expected_keys, key_fields
from tap.tap_harness import catalog_for, run_tap, tap_config

from tap_customerio import rate_limit
from tap_customerio.concurrency import process_scheduler
from tap_customerio.tap import TapCustomerIO

STREAMS = ["campaigns", "campaign_actions", "campaign_metrics", "customers"]


def busiest_second(sim: Simulator) -> int:
    """Most requests that arrived within any one-second window."""
    times = sorted(entry.time for entry in sim.request_log)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


BUDGET = 8


def paced_config(sim: Simulator, **overrides: Any) -> dict[str, Any]:
    return tap_config(sim, max_requests_per_second=BUDGET, max_concurrency=4, metrics_days=2, **overrides)


def test_concurrent_hydration_and_child_prefetch_stay_within_the_budget(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.3, requests_per_second=10, latency=0.05)
    config = paced_config(sim)
    catalog = catalog_for(config, STREAMS)
    sim.reset_log()
    run = run_tap(config, catalog=catalog)
    assert [e for e in sim.request_log if e.status == 429] == []
    assert busiest_second(sim) <= BUDGET + 1
    hydrations = [e for e in sim.request_log if e.path == "/v1/customers/attributes"]
    assert len(hydrations) == -(-len(sim.data.people) // 100)
    for stream in STREAMS:
        assert run.keys(stream, *key_fields(stream)) == expected_keys(sim.data, stream, config)


def test_at_debug_each_request_is_logged_with_the_moment_the_budget_counts_it(
    make_cio_sim: Callable[..., Simulator], caplog: pytest.LogCaptureFixture
) -> None:
    """Set beside a server's arrival times (same monotonic clock), these lines tell a 429 caused by the tap's
    pacing from one caused on the way to the server: the bench's tap rows do that."""
    sim = make_cio_sim(scale=0.3, requests_per_second=10)
    config = paced_config(sim)
    catalog = catalog_for(config, STREAMS)
    sim.reset_log()
    with caplog.at_level(logging.DEBUG, logger="tap_customerio.requests"):
        run_tap(config, catalog=catalog)

    lines = [r.getMessage().split() for r in caplog.records if r.name == "tap_customerio.requests"]
    assert {word for word, *_ in lines} == {"started"}
    assert sorted((method, url.split("?")[0]) for _, _, method, url in lines) == sorted(
        (entry.method, entry.path) for entry in sim.request_log
    )
    starts = sorted(float(moment) for _, moment, _, _ in lines)
    arrivals = sorted(entry.time for entry in sim.request_log)
    assert all(abs(arrival - start) < 0.5 for start, arrival in zip(starts, arrivals, strict=True))
    spans = [later - earlier for earlier, later in zip(starts, starts[BUDGET:], strict=False)]
    assert min(spans) >= rate_limit.SPACING_MARGIN  # any BUDGET + 1 starts


def test_two_taps_in_one_process_share_one_budget(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.2, requests_per_second=10)
    configs = [paced_config(sim), paced_config(sim)]
    catalogs = [catalog_for(configs[0], ["campaigns", "campaign_actions"]), catalog_for(configs[1], ["newsletters"])]
    sim.reset_log()
    failures: list[BaseException] = []

    def sync(config: dict[str, Any], catalog: dict[str, Any]) -> None:
        try:
            TapCustomerIO(config=config, catalog=catalog).sync_all()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    # sys.stdout is process-wide: one redirect for both taps (one per thread would restore it under the other).
    with contextlib.redirect_stdout(io.TextIOWrapper(io.BytesIO(), encoding="utf-8")):
        threads = [threading.Thread(target=sync, args=pair) for pair in zip(configs, catalogs, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert [e for e in sim.request_log if e.status == 429] == []
    assert busiest_second(sim) <= BUDGET + 1


def test_a_budget_above_the_servers_limit_is_corrected_by_429_handling_without_losing_records(
    make_cio_sim: Callable[..., Simulator],
) -> None:
    sim = make_cio_sim(scale=1.0, requests_per_second=10)
    config = tap_config(sim, max_requests_per_second=40, metrics_days=2, retry_backoff_ms=50)
    catalog = catalog_for(config, ["campaigns", "campaign_actions", "campaign_metrics"])
    sim.reset_log()
    run = run_tap(config, catalog=catalog)
    throttled = [e for e in sim.request_log if e.status == 429]
    assert throttled
    assert {bool(e.fault) for e in throttled} == {False}
    for stream in ["campaigns", "campaign_actions", "campaign_metrics"]:
        assert run.keys(stream, *key_fields(stream)) == expected_keys(sim.data, stream, config)


def test_requests_fetched_ahead_are_used_and_never_sent_twice(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.3)
    config = tap_config(sim, metrics_days=2, start_date="2020-01-01T00:00:00Z")
    streams = [
        "activities",
        "campaigns",
        "campaign_actions",
        "campaign_action_metrics",
        "campaign_metrics",
        "customers",
        "eps_suppression",
        "exports",
        "messages",
        "newsletters",
        "newsletter_variants",
        "newsletter_variant_metrics",
        "segments",
        "segment_memberships",
        "sender_identities",
        "snippets",
        "topics",
        "workspaces",
    ]
    catalog = catalog_for(config, streams)
    sim.reset_log()
    run = run_tap(config, catalog=catalog)
    sent = Counter(
        (e.method, e.path, tuple(sorted(e.query.items())), json.dumps(e.body, sort_keys=True)) for e in sim.request_log
    )
    assert [request for request, times in sent.items() if times > 1] == []
    for stream in streams:
        assert run.keys(stream, *key_fields(stream)) == expected_keys(sim.data, stream, config), stream


class SimulatedClock:
    """`time.monotonic` and `time.sleep` of a clock that moves only when someone sleeps or works."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def starts_of_a_backlog(monkeypatch: pytest.MonkeyPatch, requests: int, idle: dict[int, float]) -> list[float]:
    """Start times of `requests` requests a caller always has ready, except that it is busy for `idle[n]`
    seconds before asking for the slot of request n (a stream parsing a page while no other has work)."""
    clock = SimulatedClock()
    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(monotonic=clock.monotonic, sleep=clock.sleep))
    limiter = rate_limit.RateLimiter(10)
    starts = []
    for n in range(requests):
        clock.sleep(idle.get(n, 0.0))
        limiter.acquire()
        starts.append(clock.now)
    return starts


def test_a_request_asked_for_late_does_not_delay_the_requests_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    steady = starts_of_a_backlog(monkeypatch, 40, idle={})
    late = starts_of_a_backlog(monkeypatch, 40, idle={5: 0.15, 17: 0.06})
    assert late[-1] == pytest.approx(steady[-1])
    for starts in (steady, late):
        windows = [after - before for before, after in zip(starts, starts[10:], strict=False)]
        assert min(windows) >= rate_limit.SPACING_MARGIN - 1e-9  # never 11 starts in one window
        assert min(after - before for before, after in itertools.pairwise(starts)) > 0


def test_each_429_widens_the_spacing_of_the_requests_after_it(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.2)
    config = tap_config(sim, metrics_days=2, retry_backoff_ms=50)
    catalog = catalog_for(config, ["campaigns"])
    sim.reset_log()
    sim.faults.inject_next("429_no_retry_after", "429_no_retry_after")
    run = run_tap(config, catalog=catalog)
    assert [e.status for e in sim.request_log[:3]] == [429, 429, 200]
    assert process_scheduler().limiter.margin == pytest.approx(rate_limit.SPACING_MARGIN + 2 * rate_limit.MARGIN_STEP)
    assert run.keys("campaigns", *key_fields("campaigns")) == expected_keys(sim.data, "campaigns", config)


def test_the_spacing_widened_by_a_429_narrows_again_after_requests_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SimulatedClock()
    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(monotonic=clock.monotonic, sleep=clock.sleep))
    limiter = rate_limit.RateLimiter(10)
    limiter.widen()
    limiter.widen()
    starts = []
    for _ in range(rate_limit.NARROW_AFTER):
        limiter.acquire()
        starts.append(clock.now)
    assert starts[10] - starts[0] >= rate_limit.SPACING_MARGIN + 2 * rate_limit.MARGIN_STEP - 1e-9
    assert limiter.margin == pytest.approx(rate_limit.SPACING_MARGIN + rate_limit.MARGIN_STEP)
    for _ in range(rate_limit.NARROW_AFTER):
        limiter.acquire()
    assert limiter.margin == pytest.approx(rate_limit.SPACING_MARGIN)
