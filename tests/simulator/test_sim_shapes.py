"""The simulator's opt-in alternative shapes, the `400` fault and its New York metric days."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from cio_simulator import Simulator
from simulator.sim_api import Api


def test_spec_people_are_wrapped_in_customer_with_identifiers_only_in_attributes(make_cio_sim) -> None:
    sim: Simulator = make_cio_sim(scale=0.1, quirks=("spec_people",))
    person = sim.data.person(0)

    items = (
        Api(sim)
        .post("/customers/attributes", {"ids": [person["identifiers"]["cio_id"]]}, id_type="cio_id")
        .json()["customers"]
    )

    assert items == [{"customer": {k: v for k, v in person.items() if k != "identifiers"}}]
    assert items[0]["customer"]["attributes"]["cio_id"] == person["identifiers"]["cio_id"]


def test_string_sender_ids_turn_action_sender_ids_into_text(make_cio_sim) -> None:
    sim: Simulator = make_cio_sim(scale=0.1, quirks=("string_sender_ids",))

    actions = Api(sim).ok("/campaigns/1/actions")["actions"]

    assert actions and all(isinstance(a["from_id"], str) for a in actions)
    assert all(a["reply_to_id"] is None or isinstance(a["reply_to_id"], str) for a in actions)


def test_hidden_ignored_lists_every_sender_on_both_reads(make_cio_sim) -> None:
    api = Api(make_cio_sim(scale=0.1, quirks=("hidden_ignored",)))

    visible = api.ok("/sender_identities", hidden="false", limit=100)["sender_identities"]

    assert visible == api.ok("/sender_identities", hidden="true", limit=100)["sender_identities"]
    assert {s["hidden"] for s in visible} == {False, True}


def test_the_400_fault_answers_a_rejected_parameter(make_cio_sim) -> None:
    sim: Simulator = make_cio_sim(scale=0.1)
    sim.faults.configure(rate=1.0, kinds=("400",), only_paths=("/esp/suppression/blocks",))
    api = Api(sim)

    assert api.get("/esp/suppression/blocks").json() == {"errors": [{"detail": "invalid parameter", "status": "400"}]}
    assert api.get("/esp/suppression/bounces").status_code == 200


def test_v2_metrics_want_a_region_name_and_count_days_in_it(make_cio_sim) -> None:
    api = Api(make_cio_sim(scale=0.1))
    # 2024-03-10 is the New York DST day (23 hours): three New York days from its midnight.
    start = int(datetime.datetime(2024, 3, 9, tzinfo=ZoneInfo("America/New_York")).timestamp())
    query = {"version": 2, "res": "days", "start": start, "end": start + 3 * 86400 - 3600 - 1}

    assert api.get("/campaigns/1/metrics", tz="UTC", **query).status_code == 400
    assert len(api.ok("/campaigns/1/metrics", tz="America/New_York", **query)["metric"]["series"]["sent"]) == 3
    assert len(api.ok("/campaigns/1/metrics", tz="Asia/Tokyo", **query)["metric"]["series"]["sent"]) == 4
