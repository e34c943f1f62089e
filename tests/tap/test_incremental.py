"""Incremental replication: a second run from the first run's final state emits only what changed in between;
catalog metadata switches any stream to full table; the lookback re-reads a window before the bookmark."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from cio_simulator import Simulator
from tap.tap_expected import expected_keys, key_fields
from tap.tap_harness import TapRun, catalog_for, run_tap, tap_config

from tap_customerio.timestamps import iso_to_unix

INCREMENTAL_STREAMS = [
    "activities",
    "broadcast_actions",
    "broadcasts",
    "campaign_actions",
    "campaigns",
    "collection_contents",
    "collections",
    "exports",
    "objects",
    "messages",
    "newsletters",
    "segments",
    "snippets",
    "transactional_contents",
    "transactional_messages",
]
CONFIG = {"start_date": "2020-01-01T00:00:00Z"}


def changed_by(summary: dict[str, Any], stream: str) -> Counter:
    """The records `sim.mutate()` created or changed, keyed like the stream's emitted records."""
    changes = {
        "campaigns": summary["campaigns"]["updated"],
        "campaign_actions": summary["campaign_actions"]["updated"],
        "broadcasts": summary["broadcasts"]["updated"],
        "newsletters": summary["newsletters"]["created"] + summary["newsletters"]["updated"],
        "segments": summary["segments"]["updated"],
        "activities": summary["activities"]["created"],
        "messages": summary["messages"]["created"],
        "collections": summary["collections"]["updated"],
        "collection_contents": summary["collections"]["updated"],
        "objects": summary["objects"]["updated"],
    }
    return Counter(changes.get(stream, []))


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=5, scale=0.5, api_key="sim-key", requests_per_second=1000) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def two_runs(sim: Simulator) -> tuple[TapRun, dict[str, Any], TapRun]:
    """First run, then `sim.mutate()`, then a second run from the first run's final state."""
    config = tap_config(sim, **CONFIG)
    first = run_tap(config, INCREMENTAL_STREAMS)
    summary = sim.mutate()
    second = run_tap(config, INCREMENTAL_STREAMS, state=first.final_state)
    return first, summary, second


def test_every_incremental_stream_is_incremental_by_default(sim: Simulator) -> None:
    catalog = catalog_for(tap_config(sim), INCREMENTAL_STREAMS)
    methods = {
        entry["tap_stream_id"]: entry["replication_method"]
        for entry in catalog["streams"]
        if entry["tap_stream_id"] in INCREMENTAL_STREAMS
    }
    assert set(methods.values()) == {"INCREMENTAL"}


@pytest.mark.parametrize("stream", INCREMENTAL_STREAMS)
def test_a_second_run_after_mutations_emits_only_the_changed_records(stream: str, two_runs: tuple) -> None:
    first, summary, second = two_runs
    assert first.records.get(stream), f"the first run emitted no {stream}"
    emitted = Counter(
        next(record[key] for key in ("id", "collection_id", "cio_object_id", "name") if key in record)
        for record in second.records.get(stream, [])
    )
    assert emitted == changed_by(summary, stream)


def test_the_mutation_changed_something_in_the_streams_that_change(two_runs: tuple) -> None:
    _, summary, _ = two_runs
    for stream in ("campaigns", "campaign_actions", "newsletters", "segments", "activities", "messages"):
        assert changed_by(summary, stream), stream


def test_bookmarks_of_child_streams_are_kept_per_parent(two_runs: tuple) -> None:
    first, _, _ = two_runs
    partitions = first.final_state["bookmarks"]["campaign_actions"]["partitions"]
    with_actions = {p["context"]["campaign_id"] for p in partitions if p.get("replication_key_value")}
    campaign_ids = {a["campaign_id"] for a in first.records["campaign_actions"]}
    assert with_actions == campaign_ids


def test_catalog_metadata_replication_method_full_table_emits_everything_despite_the_bookmark(
    sim: Simulator, two_runs: tuple
) -> None:
    first, _, _ = two_runs
    config = tap_config(sim, **CONFIG)
    streams = ["campaigns", "campaign_actions", "newsletters", "segments"]
    # Meltano's `metadata: {<stream>: {replication-method: FULL_TABLE}}` lands in the catalog like this.
    catalog = catalog_for(config, streams, metadata={"replication-method": "FULL_TABLE"})
    full = run_tap(config, catalog=catalog, state=first.final_state)
    for stream in streams:
        assert full.keys(stream, *key_fields(stream)) == expected_keys(sim.data, stream, config), stream


def test_forced_replication_method_in_catalog_metadata_also_switches_to_full_table(
    sim: Simulator, two_runs: tuple
) -> None:
    first, _, _ = two_runs
    config = tap_config(sim, **CONFIG)
    catalog = catalog_for(config, ["snippets"], metadata={"forced-replication-method": "FULL_TABLE"})
    full = run_tap(config, catalog=catalog, state=first.final_state)
    assert full.keys("snippets", "name") == expected_keys(sim.data, "snippets", config)


def test_the_lookback_window_re_emits_records_changed_shortly_before_the_bookmark(
    sim: Simulator, two_runs: tuple
) -> None:
    first, _, _ = two_runs
    lookback_minutes = 60 * 24 * 30
    config = tap_config(sim, **CONFIG, lookback_window_minutes=lookback_minutes)
    rerun = run_tap(config, ["campaigns"], state=first.final_state)
    bookmark = iso_to_unix(first.final_state["bookmarks"]["campaigns"]["replication_key_value"])
    recent = {c["id"] for c in sim.data.campaigns if c["updated"] > bookmark - lookback_minutes * 60}
    assert len(recent) < len(sim.data.campaigns)
    assert set(rerun.keys("campaigns", "id")) == recent
