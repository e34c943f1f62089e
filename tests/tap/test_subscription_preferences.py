"""`subscription_preferences`: one request per person, so off unless selected; each person's topics."""

from __future__ import annotations

from tap.tap_harness import run_tap, tap_config

from tap_customerio.tap import TapCustomerIO


def test_subscription_preferences_are_not_selected_by_default(cio_sim) -> None:
    catalog = TapCustomerIO(config=tap_config(cio_sim), setup_mapper=False).catalog_dict
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "subscription_preferences")
    root = next(m["metadata"] for m in entry["metadata"] if not m["breadcrumb"])

    assert root["selected-by-default"] is False


def test_each_person_has_a_row_with_their_topics(cio_sim) -> None:
    run = run_tap(tap_config(cio_sim), ["subscription_preferences"])

    data = cio_sim.data
    expected = {}
    for index in data.live_people_positions():
        preferences = data.subscription_preferences(index)
        expected[preferences["identifiers"]["cio_id"]] = (preferences["topics"], preferences["unsubscribed"])
    assert {r["cio_id"]: (r["topics"], r["unsubscribed"]) for r in run.records["subscription_preferences"]} == expected
