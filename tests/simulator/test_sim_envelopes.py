"""Every list endpoint answers with the reference's envelope and the live field types (section 2 and 6)."""

from __future__ import annotations

import pytest
from cio_simulator import Simulator
from simulator.sim_api import MATCH_ALL, Api


@pytest.fixture(scope="module")
def cio_sim(read_only_sim: Simulator) -> Simulator:
    """These tests only read, so the module shares one simulator."""
    return read_only_sim


# (path, envelope, fields that must be present with these Python types in every record)
LIST_ENDPOINTS = [
    (
        "/campaigns",
        "campaigns",
        {
            "id": int,
            "name": str,
            "created": int,
            "updated": int,
            "actions": list,
            "first_started": int,
            "tags": list,
            "active": bool,
        },
    ),
    (
        "/campaigns/1/actions",
        "actions",
        {"id": str, "campaign_id": int, "created": int, "updated": int, "headers": dict, "type": str},
    ),
    ("/broadcasts", "broadcasts", {"id": int, "created": int, "updated": int, "actions": list}),
    ("/broadcasts/15/actions", "actions", {"id": str, "broadcast_id": int, "created": int, "updated": int}),
    ("/broadcasts/13/triggers", "triggers", {"id": int, "broadcast_id": int, "created_at": int, "processed_at": int}),
    ("/newsletters", "newsletters", {"id": int, "created": int, "updated": int, "content_ids": list}),
    ("/newsletters/1/contents", "contents", {"id": int, "newsletter_id": int, "headers": dict, "from_id": int}),
    (
        "/messages",
        "messages",
        {"id": str, "created": int, "metrics": dict, "customer_identifiers": dict, "type": str, "forgotten": bool},
    ),
    ("/segments", "segments", {"id": int, "name": str, "created_at": int, "updated_at": int}),
    ("/segments/1/membership", "identifiers", {"cio_id": str}),
    ("/exports", "exports", {"id": int, "created_at": int, "updated_at": int, "status": str}),
    (
        "/activities",
        "activities",
        {"id": str, "timestamp": int, "type": str, "customer_identifiers": dict, "data": dict},
    ),
    ("/sender_identities", "sender_identities", {"id": int, "email": str, "hidden": bool}),
    ("/reporting_webhooks", "reporting_webhooks", {"id": int, "endpoint": str, "events": list, "disabled": bool}),
    ("/snippets", "snippets", {"name": str, "value": str, "updated_at": int}),
    ("/info/ip_addresses", "ip_addresses", {}),
    ("/collections", "collections", {"id": int, "created_at": int, "updated_at": int, "schema": list}),
    ("/subscription_topics", "topics", {"id": int, "identifier": str, "subscribed_by_default": bool}),
    ("/workspaces", "workspaces", {"id": int, "people": int, "messages_sent": int}),
    ("/object_types", "types", {"id": str, "name": str, "enabled": bool}),
    ("/esp/suppression/bounces", "suppressions", {"created": int, "email": str, "status": str}),
    ("/transactional", "messages", {"id": int, "created_at": int, "updated_at": int, "trigger_name": str}),
    ("/transactional/1/contents", "contents", {"id": int, "created": int, "updated": int}),
    ("/transactional/1/messages", "messages", {"id": str, "created": int, "transactional_message_id": int}),
]


@pytest.mark.parametrize(("path", "envelope", "types"), LIST_ENDPOINTS, ids=[e[0] for e in LIST_ENDPOINTS])
def test_list_endpoint_uses_the_reference_envelope_and_types(
    api: Api, path: str, envelope: str, types: dict[str, type]
) -> None:
    payload = api.ok(path)
    records = payload[envelope]
    assert isinstance(records, list) and records
    for record in records:
        for name, expected in types.items():
            value = record[name]
            assert isinstance(value, expected) and (expected is bool or not isinstance(value, bool)), (name, value)


def test_ip_addresses_are_plain_strings(api: Api) -> None:
    addresses = api.ok("/info/ip_addresses")["ip_addresses"]
    assert addresses and all(isinstance(a, str) and a.count(".") == 3 for a in addresses)


def test_campaign_action_refs_are_integers_but_action_records_carry_string_ids(api: Api) -> None:
    campaign = api.ok("/campaigns")["campaigns"][0]
    listed = api.ok("/campaigns/1/actions")["actions"]
    assert all(isinstance(ref["id"], int) for ref in campaign["actions"])
    assert [a["id"] for a in listed] == [str(ref["id"]) for ref in campaign["actions"][:10]]


def test_message_metrics_are_timestamps_not_counts(api: Api) -> None:
    messages = api.ok("/messages", limit=200)["messages"]
    for message in messages:
        for name, value in message["metrics"].items():
            if not name.startswith(("human_", "prefetch_")):
                assert value >= message["created"], (name, message)
    assert any("opened" in m["metrics"] for m in messages)


def test_nullable_fields_are_really_null_sometimes(cio_sim: Simulator) -> None:
    data = cio_sim.data
    people = data.people[:500]
    assert any(p["identifiers"]["id"] is None for p in people)
    assert any(p["identifiers"]["email"] is None for p in people)
    messages = data.messages[:500]
    assert any(m["campaign_id"] is None for m in messages) and any(m["newsletter_id"] is None for m in messages)
    assert any(s["progress"] is None for s in data.segments)


def test_bulk_attributes_are_flat_and_omit_unknown_ids(api: Api, cio_sim: Simulator) -> None:
    wanted = [p["identifiers"]["cio_id"] for p in cio_sim.data.people[:3]]
    response = api.post("/customers/attributes", {"ids": [*wanted, "ffffffff"]}, id_type="cio_id")
    customers = response.json()["customers"]
    assert [c["identifiers"]["cio_id"] for c in customers] == wanted
    assert set(customers[0]) == {"attributes", "devices", "id", "identifiers", "timestamps", "unsubscribed"}
    assert all(isinstance(t, int) for c in customers for t in c["timestamps"].values())


def test_bulk_attributes_refuse_more_than_100_ids(api: Api) -> None:
    response = api.post("/customers/attributes", {"ids": [f"{i:08x}" for i in range(101)]}, id_type="cio_id")
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == "400"


def test_single_person_attributes_are_wrapped_in_customer(api: Api, cio_sim: Simulator) -> None:
    person = cio_sim.data.people[5]
    payload = api.ok(f"/customers/{person['identifiers']['cio_id']}/attributes", id_type="cio_id")
    assert payload == {"customer": person}


def test_customer_search_returns_identifiers_and_legacy_ids(api: Api) -> None:
    payload = api.post("/customers", MATCH_ALL, limit=50).json()
    assert set(payload) == {"identifiers", "ids", "next"}
    assert [i["id"] or "" for i in payload["identifiers"]] == payload["ids"]
    assert "" in payload["ids"]  # people without an id are listed with an empty legacy id


def test_segment_membership_carries_the_segment_id(api: Api) -> None:
    assert api.ok("/segments/2/membership")["segment_id"] == 2


@pytest.mark.parametrize(
    "path",
    [
        "/campaigns/1/metrics?version=2&res=days",
        "/campaigns/1/metrics?version=1&period=weeks&steps=4",
        "/newsletters/3/metrics?period=days&steps=7",
    ],
)
def test_metrics_are_series_of_integers_per_metric(api: Api, path: str) -> None:
    series = api.get(path).json()["metric"]["series"]
    lengths = {len(values) for values in series.values()}
    assert "opened" in series and len(lengths) == 1
    assert all(isinstance(v, int) for values in series.values() for v in values)


def test_campaign_metrics_v2_has_one_bucket_per_day_between_start_and_end(api: Api) -> None:
    series = api.ok("/campaigns/1/metrics", version=2, res="days", start=1_699_920_000, end=1_699_920_000 + 6 * 86400)[
        "metric"
    ]["series"]
    assert len(series["sent"]) == 7


def test_campaign_metrics_require_a_version(api: Api) -> None:
    response = api.get("/campaigns/1/metrics", res="days")
    assert response.status_code == 400
    assert response.json() == {"errors": [{"detail": "version is required and must be 1 or 2", "status": "400"}]}


@pytest.mark.parametrize(
    ("path", "envelope", "expected"),
    [
        ("/campaigns/1", "campaign", lambda d: d.campaigns[0]),
        ("/campaigns/1/actions/1001", "action", lambda d: d.campaign_actions[1][1]),
        ("/broadcasts/13", "broadcast", lambda d: d.broadcasts[0]),
        ("/segments/2", "segment", lambda d: d.segments[1]),
        ("/exports/901", "export", lambda d: d.exports[1]),
        ("/sender_identities/3", "sender_identity", lambda d: d.sender_identities[2]),
        ("/transactional/2", "message", lambda d: d.transactional[1]),
    ],
)
def test_single_records_are_wrapped_in_their_singular_envelope(
    api: Api, cio_sim: Simulator, path: str, envelope: str, expected
) -> None:
    assert api.ok(path) == {envelope: expected(cio_sim.data)}


def test_a_newsletter_variant_is_wrapped_in_content(api: Api, cio_sim: Simulator) -> None:
    content = cio_sim.data.newsletter_contents[5][-1]
    assert api.ok(f"/newsletters/5/contents/{content['id']}") == {"content": content}


def test_customers_by_email_returns_identifier_results(api: Api, cio_sim: Simulator) -> None:
    person = next(p for p in cio_sim.data.people if p["identifiers"]["email"])
    assert api.ok("/customers", email=person["identifiers"]["email"]) == {"results": [person["identifiers"]]}
    assert api.ok("/customers", email="nobody@example.com") == {"results": []}


def test_segment_count_and_usage(api: Api, cio_sim: Simulator) -> None:
    assert api.ok("/segments/1/customer_count") == {"count": len(cio_sim.data.segment_members[1])}
    used_by = api.ok("/segments/1/used_by")["used_by"]
    assert used_by["segment_id"] == 1 and set(used_by) == {
        "segment_id",
        "campaigns",
        "sent_newsletters",
        "draft_newsletters",
    }


def test_metrics_repeat_exactly_and_are_zero_before_the_entity_existed(api: Api, cio_sim: Simulator) -> None:
    created = cio_sim.data.campaigns[0]["created"]
    query = {"version": 2, "res": "days", "start": created - 10 * 86400, "end": created + 10 * 86400}
    series = api.ok("/campaigns/1/metrics", **query)["metric"]["series"]
    assert series == api.ok("/campaigns/1/metrics", **query)["metric"]["series"]
    assert all(values[:9] == [0] * 9 for values in series.values())
    assert any(values[11:] != [0] * len(values[11:]) for values in series.values())
