"""Every daily series stream (metrics and link metrics of every entity) is incremental by day: a second sync
from the first one's state reads again, for every entity, only the day that was still open."""

from __future__ import annotations

import datetime
import time
from zoneinfo import ZoneInfo

import pytest
from cio_simulator import Simulator
from tap.tap_harness import run_tap, tap_config

from tap_customerio.streams.metrics import DailyMetricsStream
from tap_customerio.tap import STREAM_TYPES

NEW_YORK = ZoneInfo("America/New_York")
SERIES_STREAMS = sorted(s.name for s in STREAM_TYPES if issubclass(s, DailyMetricsStream))
#: Key fields that are not the entity's.
SERIES_KEYS = {"link_id", "period", "period_start", "metric"}


def days(rows: list[dict]) -> set[datetime.date]:
    """The New York days of the rows' `period_start`."""
    return {datetime.datetime.fromisoformat(row["period_start"]).astimezone(NEW_YORK).date() for row in rows}


def test_the_series_streams_include_the_per_variant_and_transactional_series() -> None:
    assert {"newsletter_variant_metrics", "newsletter_variant_link_metrics", "transactional_metrics"} <= set(
        SERIES_STREAMS
    )


@pytest.mark.parametrize("stream", SERIES_STREAMS)
def test_a_second_sync_emits_only_the_day_that_was_open_for_every_entity(make_cio_sim, stream: str) -> None:
    sim: Simulator = make_cio_sim(scale=0.2, anchor=int(time.time()))  # v1 buckets end at the simulator's "now"
    config = tap_config(sim, metrics_days=3)
    today = datetime.datetime.now(NEW_YORK).date()

    first = run_tap(config, [stream])
    second = run_tap(config, [stream], state=first.final_state)

    key = next(m["key_properties"] for m in first.messages if m["type"] == "SCHEMA" and m["stream"] == stream)
    entity = [name for name in key if name not in SERIES_KEYS]
    entities = {tuple(row[name] for name in entity) for row in first.records[stream]}
    assert entities, f"the simulator has no {stream}: the test would prove nothing"
    assert days(first.records[stream]) == {today - datetime.timedelta(days=n) for n in range(3)}
    assert days(second.records[stream]) == {today}
    assert {tuple(row[name] for name in entity) for row in second.records[stream]} == entities
    keys = [tuple(row[name] for name in key) for row in first.records[stream] + second.records[stream]]
    assert len(keys) - len(set(keys)) == len(second.records[stream]), "only today's rows are emitted twice"
