"""`objects` and `object_relationships`: every object of every type with its attributes, and its people."""

from __future__ import annotations

import itertools

from tap.tap_harness import run_tap, tap_config


def test_every_object_is_emitted_with_its_attributes_and_last_change(cio_sim) -> None:
    run = run_tap(tap_config(cio_sim), ["objects"])

    emitted = {(r["object_type_id"], r["cio_object_id"]): r for r in run.records["objects"]}
    expected = {(type_id, o["cio_object_id"]): o for type_id, items in cio_sim.data.objects.items() for o in items}
    assert emitted.keys() == expected.keys()
    for key, item in expected.items():
        assert emitted[key]["object_id"] == item["object_id"]
        assert emitted[key]["attributes"] == item["attributes"]
        assert emitted[key]["updated_at"] == max(emitted[key]["timestamps"].values())


def test_each_object_relationship_is_a_row_naming_the_related_person(cio_sim) -> None:
    run = run_tap(tap_config(cio_sim), ["object_relationships"])

    data = cio_sim.data
    expected = sorted(
        (type_id, o["cio_object_id"], data.identifiers(i)["cio_id"], data.identifiers(i)["email"])
        for type_id, items in data.objects.items()
        for o in items
        for i in o["people"]
    )
    emitted = sorted(
        (r["object_type_id"], r["cio_object_id"], r["cio_id"], r["email"]) for r in run.records["object_relationships"]
    )
    assert emitted == expected


def test_relationships_of_the_next_objects_are_requested_while_one_is_being_read(make_cio_sim) -> None:
    latency = 0.1
    sim = make_cio_sim(latency=latency)
    config = tap_config(sim)
    run_tap(config, ["objects", "object_relationships"])

    arrivals = sorted(e.time for e in sim.request_log if e.path.endswith("/relationships"))
    # One request after the other, each would arrive a whole response time after the one before it.
    assert min(after - before for before, after in itertools.pairwise(arrivals)) < latency / 2
