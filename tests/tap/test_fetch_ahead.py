"""Pages fetched ahead are named by their stream, URL and body, so a page is only ever claimed by its own request;
the first pages of children of children are fetched ahead too, before their parents' syncs reach them."""

from __future__ import annotations

import re
from collections.abc import Callable

from cio_simulator import Simulator
from tap.tap_expected import expected_keys, key_fields
from tap.tap_harness import catalog_for, run_tap, tap_config

from tap_customerio.client import CustomerIOStream
from tap_customerio.tap import TapCustomerIO

LATENCY = 0.2
VARIANT_METRICS = re.compile(r"/v1/newsletters/(\d+)/contents/\d+/metrics")


def test_first_pages_fetched_ahead_for_two_object_types_are_each_their_own_types(cio_sim) -> None:
    tap = TapCustomerIO(config=tap_config(cio_sim), setup_mapper=False)
    objects = tap.streams["objects"]
    assert isinstance(objects, CustomerIOStream), "every stream of the tap is a CustomerIOStream"
    first, second = sorted(cio_sim.data.objects)[:2]

    ahead = {type_id: objects.first_page_ahead({"object_type_id": type_id}) for type_id in (first, second)}

    assert ahead[first] is not ahead[second]  # both searches POST to the same URL; only the body tells them apart
    for type_id in (first, second):
        found = {item["cio_object_id"] for item in ahead[type_id].result().json()["identifiers"]}
        assert found
        assert found <= {item["cio_object_id"] for item in cio_sim.data.objects[type_id]}
        assert list(objects.request_records({"object_type_id": type_id}))  # claims the page fetched ahead


def test_grandchildren_of_several_parents_are_requested_before_the_first_ones_are_answered(
    make_cio_sim: Callable[..., Simulator],
) -> None:
    """Variant metrics are two levels below newsletters: were they fetched only when the variants' sync reaches
    them, one newsletter's would be requested after the previous newsletter's were answered (one latency later)."""
    sim = make_cio_sim(scale=0.2, latency=LATENCY)
    config = tap_config(sim, metrics_days=2)
    streams = ["newsletters", "newsletter_variants", "newsletter_variant_metrics"]
    catalog = catalog_for(config, streams)
    sim.reset_log()
    run = run_tap(config, catalog=catalog)
    first_asked: dict[str, float] = {}  # newsletter id -> arrival of the first request for its variants' metrics
    for entry in sim.request_log:
        if match := VARIANT_METRICS.fullmatch(entry.path):
            first_asked.setdefault(match[1], entry.time)
    first_answer = min(first_asked.values()) + LATENCY
    assert sum(1 for moment in first_asked.values() if moment < first_answer) >= 3
    for stream in streams:
        assert run.keys(stream, *key_fields(stream)) == expected_keys(sim.data, stream, config), stream
