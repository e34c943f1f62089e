"""Metrics streams are incremental by day: a day that is over does not change, so a sync with state reads
and emits again only the day that was still open when the previous sync read it, and the days since."""

from __future__ import annotations

import datetime
import time
from zoneinfo import ZoneInfo

from cio_simulator import Simulator
from cio_simulator.metrics import METRIC_SERIES_KEYS
from tap.tap_harness import run_tap, tap_config

NEW_YORK = ZoneInfo("America/New_York")
STREAMS = ["campaigns", "campaign_metrics", "newsletters", "newsletter_metrics"]


def day_starts(rows: list[dict]) -> set[datetime.date]:
    """The New York days of the rows' `period_start`."""
    return {datetime.datetime.fromisoformat(row["period_start"]).astimezone(NEW_YORK).date() for row in rows}


def test_a_second_sync_with_state_reads_and_emits_only_the_day_that_was_open(make_cio_sim) -> None:
    sim: Simulator = make_cio_sim(scale=0.1, anchor=int(time.time()))  # v1 buckets end at the simulator's "now"
    config = tap_config(sim, metrics_days=5)
    today = datetime.datetime.now(NEW_YORK).date()
    midnight = int(datetime.datetime.combine(today, datetime.time(), NEW_YORK).timestamp())

    first = run_tap(config, STREAMS)
    sim.reset_log()
    second = run_tap(config, STREAMS, state=first.final_state)

    assert day_starts(first.records["campaign_metrics"]) == {today - datetime.timedelta(days=n) for n in range(5)}
    assert day_starts(second.records["campaign_metrics"]) == {today}
    assert day_starts(second.records["newsletter_metrics"]) == {today}
    assert len(second.records["campaign_metrics"]) == len(METRIC_SERIES_KEYS) * len(sim.data.campaigns)
    assert len(second.records["newsletter_metrics"]) == len(METRIC_SERIES_KEYS) * len(sim.data.newsletters)
    campaign_reads = [
        e.query for e in sim.request_log if e.path.startswith("/v1/campaigns/") and e.path.endswith("/metrics")
    ]
    newsletter_reads = [e.query for e in sim.request_log if e.path.startswith("/v1/newsletters/")]
    assert {query["start"] for query in campaign_reads} == {str(midnight)}
    assert {query["steps"] for query in newsletter_reads} == {"2"}  # v1 refuses fewer than 2 steps
