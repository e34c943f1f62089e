"""Properties deselected in the catalog are not emitted, at the top level and nested."""

from __future__ import annotations

from collections.abc import Callable

from cio_simulator import Simulator
from tap.tap_harness import catalog_for, run_tap, tap_config


def deselect(catalog: dict, stream: str, *breadcrumb: str) -> None:
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == stream)
    entry["metadata"].append({"breadcrumb": list(breadcrumb), "metadata": {"selected": False}})


def test_a_deselected_top_level_property_is_left_out_of_every_record(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.3)
    config = tap_config(sim)
    catalog = catalog_for(config, ["campaigns"])
    deselect(catalog, "campaigns", "properties", "tags")
    run = run_tap(config, catalog=catalog)
    assert len(run.records["campaigns"]) == len(sim.data.campaigns)
    assert all("tags" not in record and "name" in record for record in run.records["campaigns"])


def test_a_deselected_nested_property_is_left_out_too(make_cio_sim: Callable[..., Simulator]) -> None:
    sim = make_cio_sim(scale=0.3)
    config = tap_config(sim, start_date="2020-01-01T00:00:00Z")
    catalog = catalog_for(config, ["messages"])
    deselect(catalog, "messages", "properties", "metrics", "properties", "sent")
    run = run_tap(config, catalog=catalog)
    assert any("sent" in m["metrics"] for m in sim.data.messages)
    assert all("sent" not in record["metrics"] for record in run.records["messages"])
    assert any("delivered" in record["metrics"] for record in run.records["messages"])
