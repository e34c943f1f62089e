"""Determinism (same seed, same data) and `mutate()`: its summary is exactly what the API then serves as new."""

from __future__ import annotations

import json

import pytest
from cio_simulator import Dataset, Simulator
from simulator.sim_api import MATCH_ALL, Api

ANCHOR = 1_700_000_000


def snapshot(data: Dataset) -> str:
    return json.dumps(
        {
            "campaigns": data.campaigns,
            "actions": data.campaign_actions,
            "newsletters": data.newsletters,
            "segments": data.segments,
            "messages": data.messages[::97],
            "people": data.people[::53],
            "activities": data.activities[::31],
            "bounces": data.suppressions["bounces"][::41],
            "senders": data.sender_identities,
            "snippets": data.snippets,
        },
        sort_keys=True,
        default=str,
    )


def test_the_same_seed_scale_and_anchor_give_the_same_data() -> None:
    assert snapshot(Dataset(7, 1.0, ANCHOR)) == snapshot(Dataset(7, 1.0, ANCHOR))
    assert snapshot(Dataset(7, 1.0, ANCHOR)) != snapshot(Dataset(8, 1.0, ANCHOR))


def test_the_same_seed_serves_byte_identical_responses(make_cio_sim) -> None:
    first, second = (Api(make_cio_sim(seed=11, anchor=ANCHOR)) for _ in range(2))
    for path in ("/campaigns", "/messages?limit=200", "/activities?limit=100", "/newsletters?limit=100"):
        assert first.get(path).content == second.get(path).content


def test_scale_multiplies_counts() -> None:
    small, large = Dataset(7, 1.0, ANCHOR), Dataset(7, 4.0, ANCHOR)
    assert len(large.messages) == 4 * len(small.messages)
    assert len(large.campaigns) == 4 * len(small.campaigns)
    assert len(large.newsletters) == 4 * len(small.newsletters)


def test_mutations_are_deterministic() -> None:
    first, second = Dataset(7, 1.0, ANCHOR), Dataset(7, 1.0, ANCHOR)
    assert [first.mutate() for _ in range(3)] == [second.mutate() for _ in range(3)]
    assert snapshot(first) == snapshot(second)


def test_nothing_generated_or_mutated_is_after_the_anchor() -> None:
    data = Dataset(7, 1.0, ANCHOR)
    for _ in range(12):
        data.mutate()
    assert max(m["created"] for m in data.messages) <= ANCHOR
    assert max(a["timestamp"] for a in data.activities) <= ANCHOR
    assert max(c["updated"] for c in data.campaigns) <= ANCHOR


CHANGE_TIMES = ("created", "updated", "created_at", "updated_at")


@pytest.mark.parametrize(("seed", "scale"), [(1, 1.0), (3, 1.0), (3, 0.2), (7, 1.0)])
def test_no_generated_record_changes_after_the_data_clock(seed: int, scale: float) -> None:
    data = Dataset(seed, scale, ANCHOR)
    lists = [
        data.campaigns,
        data.broadcasts,
        data.newsletters,
        data.segments,
        data.transactional,
        *data.campaign_actions.values(),
        *data.broadcast_actions.values(),
        *data.transactional_contents.values(),
    ]
    times = [record[field] for records in lists for record in records for field in CHANGE_TIMES if record.get(field)]
    times += [at for person in data.people for at in person["timestamps"].values()]
    assert times
    assert max(times) <= data.initial_clock


@pytest.fixture
def mutated(make_cio_sim) -> tuple[Simulator, dict, int]:
    simulator = make_cio_sim(anchor=ANCHOR)
    before = simulator.data.clock
    return simulator, simulator.mutate(), before


def test_a_deleted_campaign_disappears_and_its_children_are_404(mutated) -> None:
    simulator, summary, _ = mutated
    api = Api(simulator)
    [deleted] = summary["campaigns"]["deleted"]
    assert deleted not in [c["id"] for c in api.ok("/campaigns")["campaigns"]]
    for path in (f"/campaigns/{deleted}/actions", f"/campaigns/{deleted}/metrics?version=2", f"/campaigns/{deleted}"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json()["errors"][0] == {"detail": f"campaign {deleted} not found", "status": "404"}


def test_changed_campaigns_newsletters_segments_and_actions_are_exactly_the_summary(mutated) -> None:
    simulator, summary, before = mutated
    api = Api(simulator)
    changed = {c["id"] for c in api.ok("/campaigns")["campaigns"] if c["updated"] > before}
    assert changed == set(summary["campaigns"]["updated"]) and changed
    newsletters, _ = api.read_all("/newsletters", "newsletters", limit=100)
    assert {n["id"] for n in newsletters if n["updated"] > before} == set(
        summary["newsletters"]["updated"] + summary["newsletters"]["created"]
    )
    assert [s["id"] for s in api.ok("/segments")["segments"] if s["updated_at"] > before] == summary["segments"][
        "updated"
    ]
    actions = [
        a for cid in simulator.data.campaign_actions for a in api.read_all(f"/campaigns/{cid}/actions", "actions")[0]
    ]
    assert (
        sorted((a["id"] for a in actions if a["updated"] > before), key=int) == summary["campaign_actions"]["updated"]
    )


def test_new_messages_are_newer_than_everything_before_and_come_first(mutated) -> None:
    simulator, summary, before = mutated
    newest = Api(simulator).ok("/messages", limit=len(summary["messages"]["created"]))["messages"]
    assert sorted(m["id"] for m in newest) == sorted(summary["messages"]["created"])
    assert all(m["created"] > before for m in newest)
    assert sum(m["created"] > before for m in simulator.data.messages) == len(newest)


def test_metrics_land_on_existing_recent_messages(mutated) -> None:
    simulator, summary, before = mutated
    api = Api(simulator)
    assert summary["messages"]["metrics_added"]
    for message_id, metric, at in summary["messages"]["metric_events"]:
        message = api.ok(f"/messages/{message_id}")["message"]
        assert message["metrics"][metric] == at and at > before >= message["created"]


def test_people_changes_show_in_search_and_attribute_timestamps(mutated) -> None:
    simulator, summary, before = mutated
    api = Api(simulator)
    found, _ = api.read_all("/customers", "identifiers", body=MATCH_ALL, limit=1000)
    assert set(summary["people"]["created"]) <= {i["cio_id"] for i in found}
    changed = summary["people"]["created"] + summary["people"]["updated"]
    people = api.post("/customers/attributes", {"ids": changed}, id_type="cio_id").json()["customers"]
    assert all(max(p["timestamps"].values()) > before for p in people) and len(people) == len(changed)
    recent = [p["identifiers"]["cio_id"] for p in simulator.data.people if max(p["timestamps"].values()) > before]
    assert sorted(recent) == sorted(changed)


def test_new_activities_are_served_first(mutated) -> None:
    simulator, summary, before = mutated
    created = summary["activities"]["created"]
    newest = Api(simulator).ok("/activities", limit=len(created))["activities"]
    assert sorted(a["id"] for a in newest) == sorted(created)
    assert all(a["timestamp"] > before for a in newest)
