"""`customer_relationships`: each person's related objects, one request per person, so off unless selected."""

from __future__ import annotations

import datetime

from tap.tap_harness import run_tap, tap_config

from tap_customerio.streams import relationships
from tap_customerio.tap import TapCustomerIO


def expected_relationships(data) -> dict[tuple[str, str, str], dict]:
    """Every live person's relationships, keyed (cio_id, object_type_id, cio_object_id), as the tap emits them:
    the object type id as text, the relationship's unix timestamps as ISO 8601 date-times."""
    expected = {}
    for index in data.live_people_positions():
        cio_id = data.identifiers(index)["cio_id"]
        for relation in data.person_relationships(index):
            ids = relation["identifiers"]
            expected[(cio_id, str(relation["object_type_id"]), ids["cio_object_id"])] = {
                "object_id": ids["object_id"],
                "attributes": relation["attributes"],
                "timestamps": {name: iso(value) for name, value in relation["timestamps"].items()},
            }
    return expected


def iso(unix: int) -> str:
    return datetime.datetime.fromtimestamp(unix, tz=datetime.timezone.utc).isoformat()


def emitted(run) -> dict[tuple[str, str, str], dict]:
    rows = run.records["customer_relationships"]
    keyed = {(r["cio_id"], r["object_type_id"], r["cio_object_id"]): r for r in rows}
    assert len(keyed) == len(rows), "a relationship was emitted twice"
    return {
        key: {"object_id": r["object_id"], "attributes": r["attributes"], "timestamps": r["timestamps"]}
        for key, r in keyed.items()
    }


def test_customer_relationships_are_not_selected_by_default(cio_sim) -> None:
    catalog = TapCustomerIO(config=tap_config(cio_sim), setup_mapper=False).catalog_dict
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "customer_relationships")
    root = next(m["metadata"] for m in entry["metadata"] if not m["breadcrumb"])

    assert root["selected-by-default"] is False


def test_every_relationship_of_every_person_is_a_row_with_its_attributes(cio_sim) -> None:
    run = run_tap(tap_config(cio_sim), ["customer_relationships"])

    expected = expected_relationships(cio_sim.data)
    assert len(expected) > 20
    assert emitted(run) == expected


def test_a_second_run_after_changes_emits_the_current_relationships_of_the_people_that_remain(cio_sim) -> None:
    config = tap_config(cio_sim)
    first = run_tap(config, ["customer_relationships"])
    summary = cio_sim.mutate()
    second = run_tap(config, ["customer_relationships"], state=first.final_state)

    after = expected_relationships(cio_sim.data)
    assert emitted(second) == after
    assert summary["people"]["deleted"], "the mutation deletes someone"
    assert summary["objects"]["related"], "the mutation relates someone new to an object"
    new_keys = after.keys() - emitted(first).keys()
    assert {cio_id for cio_id, _, _ in new_keys} == set(summary["objects"]["related"])


def test_relationships_spanning_several_pages_are_all_read_following_next(cio_sim, monkeypatch) -> None:
    monkeypatch.setattr(relationships, "RELATIONSHIPS_PAGE_SIZE", 1)  # every second relationship is on a later page

    run = run_tap(tap_config(cio_sim), ["customer_relationships"])

    followed = [e for e in cio_sim.request_log if e.path.endswith("/relationships") and e.query.get("start")]
    assert followed and {e.query["limit"] for e in followed} == {"1"}
    assert emitted(run) == expected_relationships(cio_sim.data)
