"""Top-level streams sync concurrently under one request budget, and the output stays one a target can trust.

Concurrency is shown in the simulator's request log: pages deep inside two streams' cursor chains (requests
with `start`, which nothing fetches ahead) arrive interleaved. Trust is shown on stdout: every line is one
whole Singer message, no bookmark in any STATE message is ahead of the records of its stream (or partition)
emitted before it, each stream's last STATE comes after its last record, and the records are those of a
sequential run (`max_concurrency: 1`: one stream at a time).
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from cio_simulator import Simulator
from tap.tap_harness import TapRun, catalog_for, run_tap, tap_config

from tap_customerio.concurrency import Scheduler
from tap_customerio.tap import TapCustomerIO

#: Streams with cursor chains (activities; campaign and broadcast actions), children, hydration and windows.
STREAMS = [
    "activities",
    "campaigns",
    "campaign_actions",
    "broadcasts",
    "broadcast_actions",
    "customers",
    "messages",
    "newsletters",
    "newsletter_variants",
    "segments",
    "snippets",
    "transactional_messages",
]
#: Cursor chains whose pages are compared: activities against the chains of the actions children.
CHAIN = "/v1/activities"
#: The tap's budget against the simulator's 10 per second, as in test_rate_limit.py: the simulator runs in the
#: test's process, so its arrival times carry the scheduling jitter of a shared machine, which the server's
#: 10 leave room for. The simulator answers 429 to any request beyond 10 in a second.
BUDGET = 8


def chain_pages(sim: Simulator) -> list[tuple[float, str]]:
    """(arrival, path) of every request that follows a cursor (`start`), in arrival order."""
    return sorted((entry.time, entry.path) for entry in sim.request_log if "start" in entry.query)


def other_chains_inside_the_activities_chain(sim: Simulator) -> list[str]:
    """Paths of cursor pages of other streams that arrived while activities was being paged."""
    pages = chain_pages(sim)
    times = [moment for moment, path in pages if path == CHAIN]
    assert len(times) >= 3, "the activities chain is too short to tell"
    return [path for moment, path in pages if times[0] < moment < times[-1] and path != CHAIN]


def as_time(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value)


def assert_bookmarks_follow_records(run: TapRun) -> None:
    """No STATE message holds a bookmark above the highest replication value of the records of that stream
    (partition) emitted before it; each stream's records all come before its last STATE message."""
    emitted: dict[str, list[dict[str, Any]]] = {}
    last_record: dict[str, int] = {}
    last_state = 0
    for position, message in enumerate(run.messages):
        if message["type"] == "RECORD":
            emitted.setdefault(message["stream"], []).append(message["record"])
            last_record[message["stream"]] = position
        elif message["type"] == "STATE":
            last_state = position
            for stream, state in message["value"].get("bookmarks", {}).items():
                for partition in [state, *state.get("partitions", [])]:
                    value = partition.get("replication_key_value")
                    if value is None:
                        continue
                    key, context = partition["replication_key"], partition.get("context", {})
                    seen = [
                        as_time(r[key])
                        for r in emitted.get(stream, [])
                        if r.get(key) and all(r.get(k) == v for k, v in context.items())
                    ]
                    assert seen, f"STATE at message {position} bookmarks {stream} {context} before any record"
                    assert as_time(value) <= max(seen), f"{stream} {context}: bookmark {value} ahead of its records"
    assert all(position < last_state for position in last_record.values())


def records_by_stream(run: TapRun) -> dict[str, Counter]:
    return {stream: Counter(json.dumps(r, sort_keys=True) for r in records) for stream, records in run.records.items()}


def test_streams_sync_concurrently_with_each_streams_state_after_its_records_and_the_sequential_records(
    make_cio_sim: Callable[..., Simulator],
) -> None:
    sim = make_cio_sim(scale=0.5, latency=0.05)
    config = tap_config(sim, metrics_days=2, start_date="2020-01-01T00:00:00Z")
    catalog = catalog_for(config, STREAMS)
    sim.reset_log()
    sequential = run_tap({**config, "max_concurrency": 1}, catalog=catalog)
    assert other_chains_inside_the_activities_chain(sim) == []
    sim.reset_log()
    concurrent = run_tap({**config, "max_concurrency": 4}, catalog=catalog)
    assert other_chains_inside_the_activities_chain(sim) != []
    assert all(line.startswith("{") and line.endswith("}") for line in concurrent.stdout.splitlines())
    assert_bookmarks_follow_records(concurrent)
    assert records_by_stream(concurrent) == records_by_stream(sequential)
    assert set(concurrent.records) == set(STREAMS)


def test_concurrent_streams_stay_within_the_budget_and_get_no_429(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.5, requests_per_second=10, latency=0.05)
    config = tap_config(sim, max_requests_per_second=BUDGET, metrics_days=2, start_date="2020-01-01T00:00:00Z")
    catalog = catalog_for(config, STREAMS)
    sim.reset_log()
    run = run_tap(config, catalog=catalog)
    assert other_chains_inside_the_activities_chain(sim) != []
    assert [entry for entry in sim.request_log if entry.status == 429] == []
    assert set(run.records) == set(STREAMS)


def test_a_first_sync_logs_the_requests_customer_search_and_message_windows_will_take(
    make_cio_sim: Callable[..., Simulator], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tap-customerio")  # the CLI's default level
    sim = make_cio_sim(scale=0.5)
    config = tap_config(sim, start_date="2024-01-01T00:00:00Z", messages_window_days=90)
    catalog = catalog_for(config, ["customers", "messages"])
    sim.reset_log()
    run = run_tap(config, catalog=catalog)
    people_requests = sum(1 for e in sim.request_log if e.path.startswith("/v1/customers"))
    windows = sum(1 for e in sim.request_log if e.path == "/v1/messages" and "start" not in e.query)
    people = len(sim.data.people)
    assert (
        f"Stream 'customers': about {people_requests} requests to go ({-(-people // 1000)} search pages and "
        f"{-(-people // 100)} hydration requests for {people} people)"
    ) in run.log
    assert f"Stream 'messages': about {windows} requests to go ({windows} windows of 90 days" in run.log


def test_streams_whose_children_fan_out_start_before_streams_reading_one_list(
    make_cio_sim: Callable[..., Simulator],
) -> None:
    sim = make_cio_sim(scale=0.1)
    config = tap_config(sim)
    streams = ["activities", "snippets", "types", "objects", "object_relationships", "segments"]
    streams += ["segment_memberships", "sender_identities"]
    tap = TapCustomerIO(config=config, catalog=catalog_for(config, streams))
    order = [stream.name for stream in tap.top_level_streams()]
    assert order[:3] == ["activities", "types", "segments"]  # long-running, then two generations, one
    assert sorted(order[3:]) == ["sender_identities", "snippets"]


def test_a_tap_that_ends_leaves_the_workers_of_another_tap_in_the_process_running() -> None:
    """The worker pool is the process's: the first of two taps to end must not take it from the other."""
    scheduler = Scheduler()
    scheduler.configure(rate=100, workers=2)
    long_run_started, short_run_ended = threading.Event(), threading.Event()
    fetched: list[str] = []

    def long_stream() -> None:
        long_run_started.set()
        with scheduler.waiting():
            assert short_run_ended.wait(30)
        fetched.append(scheduler.result(scheduler.submit(lambda: "page")))

    long_run = threading.Thread(target=scheduler.run_concurrently, args=([long_stream], 1))
    long_run.start()
    assert long_run_started.wait(30)
    scheduler.run_concurrently([lambda: None], 1)
    short_run_ended.set()
    long_run.join(30)
    assert fetched == ["page"]
