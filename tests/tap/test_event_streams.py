"""`messages` reads `start_ts`/`end_ts` windows and commits its bookmark per completed window;
`activities` pages newest first and stops at the bookmark."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cio_simulator import Simulator
from fixtures.outcome import assert_one_line_error
from tap.tap_harness import catalog_for, run_tap, run_tap_process, tap_config

from tap_customerio.timestamps import iso_to_unix

DAY = 86400


def iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, timezone.utc).isoformat()


def message_windows(sim: Simulator) -> list[tuple[int, int]]:
    """The windows requested (first pages only), oldest first (next windows are fetched ahead)."""
    return sorted(
        (int(e.query["start_ts"]), int(e.query["end_ts"]))
        for e in sim.request_log
        if e.path == "/v1/messages" and e.status == 200 and "start_ts" in e.query and "start" not in e.query
    )


def committed_message_bookmarks(states: list[dict]) -> list[str]:
    return [
        s["bookmarks"]["messages"]["replication_key_value"]
        for s in states
        if s.get("bookmarks", {}).get("messages", {}).get("replication_key_value")
    ]


def test_messages_are_read_in_contiguous_windows_from_start_date_to_now(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.3)
    start = sim.data.initial_clock - 400 * DAY
    run = run_tap(tap_config(sim, start_date=iso(start), messages_window_days=30), ["messages"])
    windows = message_windows(sim)
    assert windows[0][0] == start
    assert all(end - begin < 30 * DAY for begin, end in windows)
    assert all(nxt[0] == prev[1] + 1 for prev, nxt in itertools.pairwise(windows))
    assert windows[-1][1] >= sim.data.now
    older_than_six_months = [m for m in run.records["messages"] if iso_to_unix(m["created"]) < sim.data.now - 200 * DAY]
    assert older_than_six_months


def test_the_messages_bookmark_advances_after_each_completed_window(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.3)
    run = run_tap(tap_config(sim, start_date=iso(sim.data.initial_clock - 400 * DAY)), ["messages"])
    states = [m["value"] for m in run.messages if m["type"] == "STATE"]
    bookmarks = committed_message_bookmarks(states)
    assert len(set(bookmarks)) > 5
    assert bookmarks == sorted(bookmarks, key=iso_to_unix)
    newest = max(iso_to_unix(m["created"]) for m in run.records["messages"])
    assert iso_to_unix(bookmarks[-1]) == newest


def test_an_interrupted_messages_sync_resumes_after_the_last_completed_window(
    make_cio_sim: Callable[..., Simulator],
) -> None:
    sim = make_cio_sim(scale=0.3)
    config = tap_config(sim, start_date=iso(sim.data.initial_clock - 400 * DAY))
    first = run_tap(config, ["messages"])
    states = [m["value"] for m in first.messages if m["type"] == "STATE"]
    midway = next(
        s
        for s in states
        if len(set(committed_message_bookmarks([s]))) == 1
        and committed_message_bookmarks([s])[0] < committed_message_bookmarks(states)[-1]
        and iso_to_unix(committed_message_bookmarks([s])[0]) > sim.data.initial_clock - 200 * DAY
    )
    bookmark = iso_to_unix(committed_message_bookmarks([midway])[0])
    sim.reset_log()
    resumed = run_tap(config, ["messages"], state=midway)
    assert min(begin for begin, _ in message_windows(sim)) == bookmark + 1
    expected = {m["id"] for m in sim.data.messages if m["created"] > bookmark}
    assert {m["id"] for m in resumed.records["messages"]} == expected


def test_messages_lookback_re_reads_30_days_but_emits_only_deliveries_created_or_given_a_metric_since(
    make_cio_sim: Callable[..., Simulator],
) -> None:
    sim = make_cio_sim(seed=5, scale=1.0)
    config = tap_config(sim, start_date=iso(sim.data.initial_clock - 400 * DAY), messages_lookback_days=30)
    first = run_tap(config, ["messages"])
    summary = sim.mutate()["messages"]
    sim.reset_log()
    second = run_tap(config, ["messages"], state=first.final_state)
    bookmark = iso_to_unix(first.final_state["bookmarks"]["messages"]["replication_key_value"])
    new, given_a_metric = set(summary["created"]), set(summary["metrics_added"])
    assert new and given_a_metric and not new & given_a_metric
    assert message_windows(sim)[0][0] == bookmark - 30 * DAY + 1
    # The late metrics land on deliveries created before the bookmark: only the re-read finds them.
    created = {m["id"]: iso_to_unix(m["created"]) for m in first.records["messages"]}
    assert all(created[message_id] <= bookmark for message_id in given_a_metric)
    assert sorted(m["id"] for m in second.records["messages"]) == sorted(new | given_a_metric)
    opened = {m["id"]: m["metrics"].get("opened") for m in second.records["messages"]}
    assert all(opened[message_id] for message_id in given_a_metric)


def test_activities_stop_paging_at_the_bookmark_on_an_incremental_run(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.5)
    config = tap_config(sim)
    first = run_tap(config, ["activities"])
    first_pages = sum(1 for e in sim.request_log if e.path == "/v1/activities")
    summary = sim.mutate()
    catalog = catalog_for(config, ["activities"])
    sim.reset_log()
    second = run_tap(config, catalog=catalog, state=first.final_state)
    assert first_pages > 3
    assert [e.path for e in sim.request_log if e.status == 200] == ["/v1/activities"]
    assert {a["id"] for a in second.records["activities"]} == set(summary["activities"]["created"])


def test_include_deleted_people_asks_for_deleted_activities_and_emits_them(
    make_cio_sim: Callable[..., Simulator],
) -> None:
    sim = make_cio_sim(scale=0.5)
    run = run_tap(tap_config(sim, include_deleted_people=True), ["activities"])
    assert all(e.query.get("deleted") == "true" for e in sim.request_log if e.path == "/v1/activities")
    assert {a["id"] for a in run.records["activities"]} == {a["id"] for a in sim.data.activities}
    assert len(sim.data.activities) > len(sim.data.activities_of_live_people)


def test_an_unreadable_changed_through_in_the_messages_state_ends_the_sync_with_one_line(
    make_cio_sim: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_cio_sim(scale=0.3)
    config = tap_config(sim)
    state = {
        "bookmarks": {
            "messages": {
                "replication_key": "created",
                "replication_key_value": iso(sim.data.now),
                "changed_through": "not-a-date",
            }
        }
    }
    for name, content in (("config", config), ("catalog", catalog_for(config, ["messages"])), ("state", state)):
        (tmp_path / f"{name}.json").write_text(json.dumps(content))
    result = run_tap_process(
        *("--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")),
        *("--state", str(tmp_path / "state.json")),
        cwd=tmp_path,
    )
    assert_one_line_error(
        result, "stream 'messages': state field 'changed_through' is not an ISO 8601 date-time: 'not-a-date'"
    )


def test_a_messages_sync_failing_halfway_through_a_page_keeps_its_bookmark_behind_every_delivery_not_emitted(
    make_cio_sim: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_cio_sim(scale=0.3)
    start = sim.data.initial_clock - 400 * DAY
    window = 30 * DAY
    created = [m["created"] for m in sim.data.messages]
    # A delivery in the middle of the history with both a newer and an older one in its window: the page
    # (newest first) emits the newer one, then fails on this one before reaching the older one.
    bad = next(
        i
        for i in range(len(created) // 2, len(created) - 1)
        if (created[i - 1] - start) // window == (created[i] - start) // window == (created[i + 1] - start) // window
    )
    serve = sim.data.message

    def message(index: int) -> dict:
        record = serve(index)
        if index == bad:
            record["metrics"] = {**record["metrics"], "opened": "last tuesday"}
        return record

    monkeypatch.setattr(sim.data, "message", message)

    run = run_tap(tap_config(sim, start_date=iso(start), messages_window_days=30), ["messages"], may_fail=True)

    assert run.error is not None
    emitted = {m["id"] for m in run.records["messages"]}
    assert sim.data.messages[bad + 1]["id"] in emitted
    bookmark = iso_to_unix(run.final_state["bookmarks"]["messages"]["replication_key_value"])
    assert bookmark < created[bad]
    assert {m["id"] for m in sim.data.messages if m["created"] <= bookmark} <= emitted
