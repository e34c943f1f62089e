"""`GET /v1/messages`: newest first, inclusive `start_ts`/`end_ts`, and the 6-month window rules verbatim."""

from __future__ import annotations

from bisect import bisect_right

from cio_simulator import Simulator
from simulator.sim_api import Api

DAY = 86400
SIX_MONTHS = 180 * DAY
ANCHOR = 1_700_000_000


def created_in(simulator: Simulator, start: int, end: int) -> list[int]:
    return sorted((m["created"] for m in simulator.data.messages if start <= m["created"] <= end), reverse=True)


def test_messages_come_newest_first_across_pages(api: Api) -> None:
    found, pages = api.read_all("/messages", "messages", limit=1000)
    created = [m["created"] for m in found]
    assert pages > 1 and created == sorted(created, reverse=True)
    assert len({m["id"] for m in found}) == len(found)


def test_both_bounds_are_inclusive(api: Api, cio_sim: Simulator) -> None:
    moment = cio_sim.data.messages[100]["created"]
    same_second = api.ok("/messages", start_ts=moment, end_ts=moment, limit=1000)["messages"]
    assert same_second and all(m["created"] == moment for m in same_second)
    assert len(same_second) == len(created_in(cio_sim, moment, moment))


def test_without_bounds_the_last_six_months_are_served(make_cio_sim) -> None:
    simulator = make_cio_sim(anchor=ANCHOR)
    found, _ = Api(simulator).read_all("/messages", "messages", limit=1000)
    now = simulator.data.now
    assert [m["created"] for m in found] == created_in(simulator, now - SIX_MONTHS, now)
    assert len(found) < len(simulator.data.messages)  # older history exists beyond the default window


def test_a_window_longer_than_six_months_is_cut_to_the_six_months_before_end_ts(make_cio_sim) -> None:
    simulator = make_cio_sim(anchor=ANCHOR)
    end = ANCHOR - 30 * DAY
    found, _ = Api(simulator).read_all("/messages", "messages", limit=1000, start_ts=end - 300 * DAY, end_ts=end)
    assert [m["created"] for m in found] == created_in(simulator, end - SIX_MONTHS, end)


def test_only_end_ts_serves_six_months_before_it(make_cio_sim) -> None:
    simulator = make_cio_sim(anchor=ANCHOR)
    end = ANCHOR - 200 * DAY
    found, _ = Api(simulator).read_all("/messages", "messages", limit=1000, end_ts=end)
    assert [m["created"] for m in found] == created_in(simulator, end - SIX_MONTHS, end) and found


def test_only_start_ts_ends_the_window_at_the_current_time(make_cio_sim) -> None:
    simulator = make_cio_sim(anchor=ANCHOR)
    start = ANCHOR - 20 * DAY
    found, _ = Api(simulator).read_all("/messages", "messages", limit=1000, start_ts=start)
    assert [m["created"] for m in found] == created_in(simulator, start, simulator.data.now) and found


def test_thirty_day_windows_reach_history_older_than_six_months_exactly_once(make_cio_sim) -> None:
    simulator = make_cio_sim(anchor=ANCHOR)
    api = Api(simulator)
    oldest = min(m["created"] for m in simulator.data.messages)
    ids: list[str] = []
    for start in range(oldest, simulator.data.now + 1, 30 * DAY):
        found, _ = api.read_all("/messages", "messages", limit=1000, start_ts=start, end_ts=start + 30 * DAY - 1)
        ids.extend(m["id"] for m in found)
    assert sorted(ids) == sorted(m["id"] for m in simulator.data.messages)
    assert simulator.data.now - oldest > 365 * DAY


def test_some_window_holds_more_than_1000_messages(make_cio_sim) -> None:
    simulator = make_cio_sim(anchor=ANCHOR)
    created = sorted(m["created"] for m in simulator.data.messages)
    busiest_day = max(range(len(created)), key=lambda i: bisect_right(created, created[i] + DAY) - i)
    first = Api(simulator).ok("/messages", limit=1000, start_ts=created[busiest_day], end_ts=created[busiest_day] + DAY)
    assert len(first["messages"]) == 1000 and first["next"]


def test_filters_by_parent_and_metric(api: Api, cio_sim: Simulator) -> None:
    transactional, _ = api.read_all("/transactional/1/messages", "messages", limit=1000)
    assert transactional and all(m["transactional_message_id"] == 1 for m in transactional)
    opened = api.ok("/messages", metric="opened", limit=100)["messages"]
    assert opened and all("opened" in m["metrics"] for m in opened)


def test_single_message_by_id(api: Api, cio_sim: Simulator) -> None:
    message = cio_sim.data.messages[42]
    assert api.ok(f"/messages/{message['id']}") == {"message": message}
    assert api.get("/messages/bm9wZQ==").status_code == 404


def test_start_ts_after_end_ts_is_a_400(api: Api) -> None:
    assert api.get("/messages", start_ts=200, end_ts=100).status_code == 400
