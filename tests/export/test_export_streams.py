"""Export streams run in-process against the simulator: initial sync, changesets, reselection, cleared state.

Expectations are computed from the simulator's own data (`sim.data`) and from the summary `sim.mutate()`
returns, so "the second run holds only the changes" is checked against exactly what changed.
"""

from __future__ import annotations

import typing as t
from collections import Counter

import pytest
from cio_simulator.mutations import MUTATION_STEP
from export.expectations import (
    DAY,
    EXPORT_STREAMS,
    SEED,
    expected_changes,
    history_start,
    initial_export,
    iso,
    row_keys,
)
from export.tap_runs import Run, sync

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from cio_simulator import Simulator


@pytest.fixture
def sim(make_cio_sim: Callable[..., Simulator]) -> Simulator:
    """A small simulated workspace (a few hundred deliveries and people)."""
    return make_cio_sim(seed=SEED, scale=0.2)


def tap_config(sim: Simulator, **extra: t.Any) -> dict[str, t.Any]:
    """Tap settings reaching the whole simulated history; the workspace id comes from the API."""
    return {
        "app_api_key": sim.api_key,
        "api_url": sim.base_url,
        "start_date": history_start(sim),
        "max_requests_per_second": 1000,
        **extra,
    }


def emitted(run: Run, stream: str) -> set[tuple]:
    """Keys of the rows `run` emitted for `stream`, failing on any row emitted twice."""
    return row_keys(stream, run.records.get(stream, []))


# --- tests ------------------------------------------------------------------------------------------------


def test_first_sync_exports_all_history(sim: Simulator) -> None:
    run = sync(tap_config(sim), EXPORT_STREAMS)

    expected = initial_export(sim)
    for stream in EXPORT_STREAMS:
        assert emitted(run, stream) == expected[stream], stream


def test_second_sync_holds_exactly_the_changes_since_the_first(sim: Simulator) -> None:
    first = sync(tap_config(sim), EXPORT_STREAMS)
    summary = sim.mutate()

    second = sync(tap_config(sim), EXPORT_STREAMS, first.state)

    expected = expected_changes(sim, summary)
    for stream in EXPORT_STREAMS:
        assert emitted(second, stream) == expected[stream], stream


def test_sync_without_changes_since_the_last_one_exports_nothing(sim: Simulator) -> None:
    first = sync(tap_config(sim), EXPORT_STREAMS)

    again = sync(tap_config(sim), EXPORT_STREAMS, first.state)

    assert {stream: len(rows) for stream, rows in again.records.items() if rows} == {}


def test_full_table_replication_sends_all_history_every_run(sim: Simulator) -> None:
    first = sync(tap_config(sim), ["content", "people"], full_table=["content", "people"])
    sim.mutate()

    second = sync(tap_config(sim), ["content", "people"], first.state, full_table=["content", "people"])

    expected = initial_export(sim)
    assert emitted(second, "content") == expected["content"]
    assert emitted(second, "people") == expected["people"]


def test_attribute_changes_of_several_mutations_are_one_row_per_attribute_with_its_current_value(
    sim: Simulator,
) -> None:
    first = sync(tap_config(sim), ["attributes"])
    changed = expected_changes(sim, sim.mutate())["attributes"] | expected_changes(sim, sim.mutate())["attributes"]

    second = sync(tap_config(sim), ["attributes"], first.state)

    current = {
        (p["identifiers"]["cio_id"], name): value for p in sim.data.people for name, value in p["attributes"].items()
    }
    assert emitted(second, "attributes") == changed
    for row in second.records["attributes"]:
        assert row["attribute_value"] == current[(row["internal_customer_id"], row["attribute_name"])]


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

    assert emitted(second, "people") == initial_export(sim)["people"]


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


@pytest.mark.parametrize("stream", ["deliveries", "metrics"])
def test_interrupted_sync_resumes_from_its_last_state_without_losing_rows(sim: Simulator, stream: str) -> None:
    # One-day windows: opens and clicks land after the end of their delivery's window, so a bookmark taken
    # at the newest event instead of at most the window's end would skip events of the next window.
    config = tap_config(sim, messages_window_days=1)
    sim.faults.configure(rate=0.01, kinds=["500"], only_paths=["/messages"], seed=4)
    interrupted = sync({**config, "max_retries": 0}, [stream], may_fail=True)
    sim.faults.configure(rate=0.0)

    resumed = sync(config, [stream], interrupted.state)

    everything = initial_export(sim)[stream]
    assert interrupted.error is not None
    assert 0 < len(interrupted.records.get(stream, [])) < len(everything)
    assert len(resumed.records[stream]) < len(everything)  # resumed, not started over
    assert emitted(interrupted, stream) | emitted(resumed, stream) == everything


def test_metrics_have_a_row_per_open_and_click_with_the_clicked_link_from_the_activity_feed(sim: Simulator) -> None:
    run = sync(tap_config(sim), ["metrics"])

    feed = {activity["id"]: activity for activity, _ in sim.data.delivery_activities()}
    rows = run.records["metrics"]
    clicks = [row for row in rows if row["event_id"] in feed and row["metric"] == "clicked"]
    repeated = Counter((row["delivery_id"], row["metric"]) for row in rows if row["metric"] in ("opened", "clicked"))
    assert clicks and all(
        (row["link_id"], row["link_url"])
        == (feed[row["event_id"]]["data"]["link_id"], feed[row["event_id"]]["data"]["href"])
        for row in clicks
    )
    assert max(repeated.values()) == 2


def test_later_metrics_sync_has_new_events_of_deliveries_older_than_the_messages_lookback(sim: Simulator) -> None:
    config = tap_config(sim, messages_lookback_days=1)
    first = sync(config, ["metrics"])
    summary = sim.mutate()

    second = sync(config, ["metrics"], first.state)

    created = {m["id"]: m["created"] for m in sim.data.messages}
    old_deliveries = {d for d, _, _ in summary["messages"]["metric_events"] if created[d] < summary["clock"] - 2 * DAY}
    assert old_deliveries <= {row["delivery_id"] for row in second.records["metrics"]}
    assert emitted(second, "metrics") == expected_changes(sim, summary)["metrics"]


def test_people_deleted_after_the_first_sync_are_rows_marked_deleted_in_the_next(sim: Simulator) -> None:
    first = sync(tap_config(sim), ["people"])
    summary = sim.mutate()

    second = sync(tap_config(sim), ["people"], first.state)

    deleted = {row["internal_customer_id"]: row for row in second.records["people"] if row["deleted"]}
    assert set(deleted) == set(summary["people"]["deleted"])
    assert all(row["updated_at"] > iso(summary["clock"] - MUTATION_STEP) for row in deleted.values())
    assert not any(row["deleted"] for row in first.records["people"])
