"""Pages fetched ahead are named by their stream, URL and body, so a page is only ever claimed by its own request."""

from __future__ import annotations

from tap_harness import tap_config

from tap_customerio.tap import TapCustomerIO


def test_first_pages_fetched_ahead_for_two_object_types_are_each_their_own_types(cio_sim) -> None:
    tap = TapCustomerIO(config=tap_config(cio_sim), setup_mapper=False)
    objects = tap.streams["objects"]
    first, second = sorted(cio_sim.data.objects)[:2]

    ahead = {type_id: objects.first_page_ahead({"object_type_id": type_id}) for type_id in (first, second)}

    assert ahead[first] is not ahead[second]  # both searches POST to the same URL; only the body tells them apart
    for type_id in (first, second):
        found = {item["cio_object_id"] for item in ahead[type_id].result().json()["identifiers"]}
        assert found
        assert found <= {item["cio_object_id"] for item in cio_sim.data.objects[type_id]}
        assert list(objects.request_records({"object_type_id": type_id}))  # claims the page fetched ahead
