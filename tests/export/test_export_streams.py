"""Export streams run in-process against the simulator: initial sync, changesets, reselection, cleared state.

Expectations are computed from the simulator's own data (`sim.data`) and from the summary `sim.mutate()`
returns, so "the second run holds only the changes" is checked against exactly what changed.
"""

from __future__ import annotations

import datetime
import typing as t

import pytest
from tap_runs import EXPORT_STREAMS, Run, sync

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from cio_simulator import Simulator

DAY = 86400
#: Seed whose data keeps every timestamp at or before the simulator's clock (see `test_export_pipeline.py`).
SEED = 7


@pytest.fixture
def sim(make_cio_sim: Callable[..., Simulator]) -> Simulator:
    """A small simulated workspace (a few hundred deliveries and people)."""
    return make_cio_sim(seed=SEED, scale=0.2)


def tap_config(sim: Simulator, **extra: t.Any) -> dict[str, t.Any]:
    """Tap settings reaching the whole simulated history; the workspace id comes from the API."""
    start = datetime.datetime.fromtimestamp(sim.data.initial_clock - 400 * DAY, datetime.timezone.utc)
    return {"app_api_key": sim.api_key, "api_url": sim.base_url, "start_date": start.isoformat(),
            "max_requests_per_second": 1000, **extra}


# --- what the simulated API holds --------------------------------------------------------------------------

def event_keys(message: dict) -> set[tuple[str, str, str]]:
    """(delivery, metric, time) of the events in a message's `metrics` (counts are not events)."""
    return {(message["id"], metric, iso(at)) for metric, at in message["metrics"].items()
            if not metric.startswith(("human_", "prefetch_"))}


def iso(unix: int) -> str:
    return datetime.datetime.fromtimestamp(unix, datetime.timezone.utc).isoformat()


def all_content(sim: Simulator) -> set[tuple[str, int]]:
    data = sim.data
    return (
        {("campaign_action", int(a["id"])) for actions in data.campaign_actions.values() for a in actions}
        | {("broadcast_action", int(a["id"])) for actions in data.broadcast_actions.values() for a in actions}
        | {("newsletter_variant", c["id"]) for contents in data.newsletter_contents.values() for c in contents}
        | {("transactional_content", c["id"]) for contents in data.transactional_contents.values()
           for c in contents}
    )


def expected_changes(sim: Simulator, summary: dict) -> dict[str, set]:
    """The export rows one `mutate()` should produce, per stream, as the keys the tests compare."""
    created_ids = set(summary["messages"]["created"])
    created_messages = [m for m in sim.data.messages[-len(created_ids):] if m["id"] in created_ids]
    people = {p["identifiers"]["cio_id"]: p for p in sim.data.people}
    newsletters = summary["newsletters"]["created"] + summary["newsletters"]["updated"]
    return {
        "deliveries": {(m["id"],) for m in created_messages},
        "metrics": {(d, m, iso(at)) for d, m, at in summary["messages"]["metric_events"]}
        | set().union(*(event_keys(m) for m in created_messages)),
        "people": {(cio,) for cio in summary["people"]["created"] + summary["people"]["updated"]},
        "attributes": {(cio, name) for cio in summary["people"]["created"] for name in people[cio]["attributes"]}
        | {(cio, name) for cio in summary["people"]["updated"] for name in ("plan", "last_mutation")},
        "content": {("campaign_action", int(a)) for a in summary["campaign_actions"]["updated"]}
        | {("newsletter_variant", c["id"]) for n in newsletters for c in sim.data.newsletter_contents[n]},
    }


#: The fields each stream's rows are compared by.
KEYS = {
    "deliveries": ("delivery_id",),
    "metrics": ("delivery_id", "metric", "created_at"),
    "people": ("internal_customer_id",),
    "attributes": ("internal_customer_id", "attribute_name"),
    "content": ("content_type", "content_id"),
}


def emitted(run: Run, stream: str) -> set[tuple]:
    """Keys of the rows `run` emitted for `stream`, failing on any row emitted twice."""
    keys = run.keys(stream, *KEYS[stream])
    assert len(keys) == len(set(keys)), f"{stream}: duplicate rows"
    return set(keys)


# --- tests ------------------------------------------------------------------------------------------------

def test_first_sync_exports_all_history(sim: Simulator) -> None:
    run = sync(tap_config(sim), EXPORT_STREAMS)

    people = list(sim.data.people)
    assert emitted(run, "deliveries") == {(m["id"],) for m in sim.data.messages}
    assert emitted(run, "metrics") == set().union(*(event_keys(m) for m in sim.data.messages))
    assert emitted(run, "people") == {(p["identifiers"]["cio_id"],) for p in people}
    assert emitted(run, "attributes") == {(p["identifiers"]["cio_id"], a) for p in people for a in p["attributes"]}
    assert emitted(run, "content") == all_content(sim)


def test_second_sync_holds_exactly_the_changes_since_the_first(sim: Simulator) -> None:
    first = sync(tap_config(sim), EXPORT_STREAMS)
    summary = sim.mutate()

    second = sync(tap_config(sim), EXPORT_STREAMS, first.state)

    expected = expected_changes(sim, summary)
    for stream in EXPORT_STREAMS:
        assert emitted(second, stream) == expected[stream], stream


def test_attribute_changed_twice_between_syncs_is_one_row_with_the_latest_value(sim: Simulator) -> None:
    first = sync(tap_config(sim), ["attributes"])
    sim.mutate()
    summary = sim.mutate()  # the same people may change again; each attribute still yields one row

    second = sync(tap_config(sim), ["attributes"], first.state)

    people = {p["identifiers"]["cio_id"]: p for p in sim.data.people}
    rows = {(r["internal_customer_id"], r["attribute_name"]): r["attribute_value"] for r in second.records["attributes"]}
    assert len(rows) == len(second.records["attributes"])
    for cio in summary["people"]["updated"]:
        assert rows[(cio, "plan")] == people[cio]["attributes"]["plan"]
        assert rows[(cio, "last_mutation")] == "2"


def test_reselected_stream_catches_up_from_its_own_bookmark(sim: Simulator) -> None:
    first = sync(tap_config(sim), ["deliveries", "metrics"])
    first_changes = expected_changes(sim, sim.mutate())
    only_deliveries = sync(tap_config(sim), ["deliveries"], first.state)
    second_changes = expected_changes(sim, sim.mutate())

    both_again = sync(tap_config(sim), ["deliveries", "metrics"], only_deliveries.state)

    assert emitted(only_deliveries, "deliveries") == first_changes["deliveries"]
    assert emitted(both_again, "deliveries") == second_changes["deliveries"]
    assert emitted(both_again, "metrics") == first_changes["metrics"] | second_changes["metrics"]


def test_stream_never_synced_before_starts_with_full_history(sim: Simulator) -> None:
    first = sync(tap_config(sim), ["deliveries"])
    sim.mutate()

    second = sync(tap_config(sim), ["deliveries", "people"], first.state)

    assert emitted(second, "people") == {(p["identifiers"]["cio_id"],) for p in sim.data.people}


def test_cleared_state_sends_everything_again_with_higher_seq_nums(sim: Simulator) -> None:
    first = sync(tap_config(sim), ["content", "people"])

    again = sync(tap_config(sim), ["content", "people"], state={})

    for stream in ("content", "people"):
        assert emitted(again, stream) == emitted(first, stream)
        assert min(r["seq_num"] for r in again.records[stream]) > max(r["seq_num"] for r in first.records[stream])


def test_seq_num_increases_within_a_run_and_across_runs(sim: Simulator) -> None:
    first = sync(tap_config(sim), EXPORT_STREAMS)
    sim.mutate()
    second = sync(tap_config(sim), EXPORT_STREAMS, first.state)

    for stream in EXPORT_STREAMS:
        seq_nums = [r["seq_num"] for run in (first, second) for r in run.records[stream]]
        assert seq_nums == sorted(seq_nums) and len(set(seq_nums)) == len(seq_nums), stream


def test_workspace_id_is_the_setting_or_the_only_workspace_the_key_sees(sim: Simulator) -> None:
    looked_up = sync(tap_config(sim), ["content"])
    configured = sync(tap_config(sim, workspace_id=99), ["content"])

    assert {r["workspace_id"] for r in looked_up.records["content"]} == {sim.data.workspace_id}
    assert {r["workspace_id"] for r in configured.records["content"]} == {99}
