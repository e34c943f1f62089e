"""Cursor and offset pagination reach every record exactly once; limits clamp; empty results are null."""

from __future__ import annotations

import pytest
from cio_simulator import Simulator
from simulator.sim_api import MATCH_ALL, Api


@pytest.fixture(scope="module")
def cio_sim(read_only_sim: Simulator) -> Simulator:
    """These tests only read, so the module shares one simulator."""
    return read_only_sim


def test_campaign_actions_come_ten_per_page_until_next_is_empty(api: Api, cio_sim: Simulator) -> None:
    for campaign_id, actions in cio_sim.data.campaign_actions.items():
        found, pages = api.read_all(f"/campaigns/{campaign_id}/actions", "actions")
        assert [a["id"] for a in found] == [a["id"] for a in actions]
        assert pages == max(1, -(-len(actions) // 10))
    assert any(len(actions) > 10 for actions in cio_sim.data.campaign_actions.values())
    assert any(len(actions) == 10 for actions in cio_sim.data.campaign_actions.values())


def test_broadcast_actions_follow_next_like_the_live_api(api: Api, cio_sim: Simulator) -> None:
    for broadcast_id, actions in cio_sim.data.broadcast_actions.items():
        found, _ = api.read_all(f"/broadcasts/{broadcast_id}/actions", "actions")
        assert [a["id"] for a in found] == [a["id"] for a in actions]
    assert max(len(a) for a in cio_sim.data.broadcast_actions.values()) > 10


@pytest.mark.parametrize("sort", ["asc", "desc"])
def test_newsletters_page_by_100_in_either_order(api: Api, cio_sim: Simulator, sort: str) -> None:
    found, pages = api.read_all("/newsletters", "newsletters", limit=100, sort=sort)
    expected = [n["id"] for n in cio_sim.data.newsletters]
    assert [n["id"] for n in found] == (expected if sort == "asc" else expected[::-1])
    assert pages == 2


def test_customer_search_finds_every_live_person_once_in_pages_of_1000(api: Api, cio_sim: Simulator) -> None:
    found, pages = api.read_all("/customers", "identifiers", body=MATCH_ALL, limit=1000)
    assert pages == 3
    assert [i["cio_id"] for i in found] == [p["identifiers"]["cio_id"] for p in cio_sim.data.people]
    deleted = {p["identifiers"]["cio_id"] for p in cio_sim.data.deleted_people}
    assert deleted and not deleted & {i["cio_id"] for i in found}


def test_customer_search_filters_by_segment_and_attribute(api: Api, cio_sim: Simulator) -> None:
    in_segment, _ = api.read_all("/customers", "identifiers", body={"filter": {"segment": {"id": 3}}}, limit=1000)
    assert in_segment == cio_sim.data.segment_members[3]
    pro = {
        "filter": {
            "and": [
                {"attribute": {"field": "plan", "operator": "eq", "value": "pro"}},
                {"not": {"attribute": {"field": "email", "operator": "exists"}}},
            ]
        }
    }
    found, _ = api.read_all("/customers", "identifiers", body=pro, limit=1000)
    expected = [
        p["identifiers"]
        for p in cio_sim.data.people
        if p["attributes"]["plan"] == "pro" and p["identifiers"]["email"] is None
    ]
    assert found == expected and expected


def test_segment_membership_pages_through_a_segment_over_1000_members(api: Api, cio_sim: Simulator) -> None:
    members = cio_sim.data.segment_members[1]
    found, pages = api.read_all("/segments/1/membership", "identifiers")
    assert len(members) > 1000 and pages == 2
    assert found == members


@pytest.mark.parametrize("deleted", [False, True])
def test_activities_page_newest_first_with_numeric_cursors(api: Api, cio_sim: Simulator, deleted: bool) -> None:
    first = api.ok("/activities", limit=100, deleted=str(deleted).lower())
    assert first["next"].isdigit()
    found, _ = api.read_all("/activities", "activities", limit=100, deleted=str(deleted).lower())
    expected = cio_sim.data.activities if deleted else cio_sim.data.activities_of_live_people
    assert [a["id"] for a in found] == [a["id"] for a in expected]
    timestamps = [a["timestamp"] for a in found]
    assert timestamps == sorted(timestamps, reverse=True)


def test_deleted_true_adds_deleted_peoples_activities(cio_sim: Simulator) -> None:
    data = cio_sim.data
    assert len(data.activities) > len(data.activities_of_live_people)


@pytest.mark.parametrize("hidden", [False, True])
def test_sender_identities_page_with_next_per_hidden_flag(api: Api, cio_sim: Simulator, hidden: bool) -> None:
    found, _pages = api.read_all("/sender_identities", "sender_identities", limit=5, hidden=str(hidden).lower())
    assert [s["id"] for s in found] == [s["id"] for s in cio_sim.data.sender_identities if s["hidden"] == hidden]
    assert all(s["hidden"] == hidden for s in found) and found


@pytest.mark.parametrize("kind", ["bounces", "blocks", "spam_reports", "invalid_emails"])
def test_esp_suppressions_page_by_offset_until_a_null_list(api: Api, cio_sim: Simulator, kind: str) -> None:
    found, offset = [], 0
    while True:
        payload = api.ok(f"/esp/suppression/{kind}", limit=1000, offset=offset)
        if payload["suppressions"] is None:
            assert "category" not in payload
            break
        found.extend(payload["suppressions"])
        offset += 1000
    assert found == list(cio_sim.data.suppressions[kind])
    assert len(cio_sim.data.suppressions["bounces"]) > 1000


@pytest.mark.parametrize(
    ("path", "envelope", "maximum", "params"),
    [
        ("/newsletters", "newsletters", 100, {}),
        ("/activities", "activities", 100, {}),
        ("/messages", "messages", 1000, {}),
        ("/esp/suppression/bounces", "suppressions", 1000, {}),
    ],
)
def test_limits_above_the_maximum_are_clamped_to_it(
    api: Api, path: str, envelope: str, maximum: int, params: dict[str, str]
) -> None:
    assert len(api.ok(path, limit=maximum * 5, **params)[envelope]) == maximum


def test_customer_search_limit_is_clamped_to_1000(api: Api) -> None:
    assert len(api.post("/customers", MATCH_ALL, limit=5000).json()["identifiers"]) == 1000


@pytest.mark.parametrize("limit", ["0", "-3", "ten"])
def test_invalid_limits_are_a_400(api: Api, limit: str) -> None:
    response = api.get("/newsletters", limit=limit)
    assert response.status_code == 400 and response.json()["errors"][0]["status"] == "400"


def test_an_unknown_cursor_is_a_400(api: Api) -> None:
    assert api.get("/newsletters", start="not-a-cursor").status_code == 400
    assert api.get("/activities", start="MDo1").status_code == 400


def test_empty_results_come_back_as_null_lists(api: Api) -> None:
    assert api.ok("/segments/4/membership") == {"identifiers": None, "ids": None, "next": "", "segment_id": 4}
    nobody = {"filter": {"attribute": {"field": "plan", "operator": "eq", "value": "no-such-plan"}}}
    assert api.post("/customers", nobody).json() == {"identifiers": None, "ids": None, "next": ""}
    assert api.ok("/esp/suppression/bounces", offset=10**6) == {"suppressions": None}
    assert api.ok("/messages", start_ts=1, end_ts=2) == {"messages": None, "next": ""}


def test_empty_pages_quirk_puts_a_token_carrying_empty_page_before_each_later_page(make_cio_sim) -> None:
    simulator = make_cio_sim(quirks=("empty_pages",))
    api = Api(simulator)
    first = api.ok("/segments/1/membership")
    detour = api.ok("/segments/1/membership", start=first["next"])
    assert detour["identifiers"] is None and detour["next"]
    found, pages = api.read_all("/segments/1/membership", "identifiers")
    assert found == simulator.data.segment_members[1] and pages == 3
    now = simulator.data.now
    messages, pages = api.read_all("/messages", "messages", limit=1000, start_ts=now - 100 * 86400, end_ts=now)
    expected = [m["id"] for m in simulator.data.messages if now - 100 * 86400 <= m["created"] <= now]
    assert sorted(m["id"] for m in messages) == sorted(expected) and pages == 3


@pytest.mark.parametrize(
    ("path", "envelope"), [("/activities", "activities"), ("/sender_identities", "sender_identities")]
)
def test_sticky_end_quirk_repeats_the_last_token_on_empty_pages(make_cio_sim, path: str, envelope: str) -> None:
    simulator = make_cio_sim(quirks=("sticky_end",))
    api = Api(simulator)
    expected = {
        "activities": len(simulator.data.activities_of_live_people),
        "sender_identities": sum(not s["hidden"] for s in simulator.data.sender_identities),
    }[envelope]
    token, seen = None, 0
    while True:
        payload = api.ok(path, limit=100, **({"start": token} if token else {}))
        if not payload[envelope]:
            break
        seen += len(payload[envelope])
        token = payload["next"]
    assert seen == expected
    assert payload == {envelope: [], "next": token}
