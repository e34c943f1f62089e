"""`transactional_metrics`: each transactional message's daily series (`/v1/transactional/{id}/metrics`, v1
`period=days&steps=N`), one row per message, New York day and metric, incremental by day
(tests/tap/test_series_second_sync.py)."""

from __future__ import annotations

import datetime
import time
from zoneinfo import ZoneInfo

import requests
from cio_simulator import Simulator
from tap.tap_harness import API_KEY, run_tap, tap_config

NEW_YORK = ZoneInfo("America/New_York")
STREAM = "transactional_metrics"


def day_index(row: dict, first_day: datetime.date) -> int:
    """How many New York days after `first_day` the row's day starts (checking it starts at midnight)."""
    start = datetime.datetime.fromisoformat(row["period_start"]).astimezone(NEW_YORK)
    assert start.time() == datetime.time(0, 0) and row["period"] == "days"
    return (start.date() - first_day).days


def test_each_day_and_metric_of_each_transactional_message_is_a_row_with_the_served_value(make_cio_sim) -> None:
    sim: Simulator = make_cio_sim(scale=0.3, anchor=int(time.time()))  # v1 buckets end at the simulator's "now"
    first_day = datetime.datetime.now(NEW_YORK).date() - datetime.timedelta(days=3)

    run = run_tap(tap_config(sim, metrics_days=4), [STREAM])

    assert sim.data.transactional, "the simulator has no transactional messages: the test would prove nothing"
    rows = run.records[STREAM]
    emitted = {(r["transactional_id"], r["metric"], day_index(r, first_day)): r["value"] for r in rows}
    assert len(emitted) == len(rows), "rows share a primary key"
    expected = {}
    for message in sim.data.transactional:
        body = requests.get(
            f"{sim.url}/v1/transactional/{message['id']}/metrics",
            params={"period": "days", "steps": "4"},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=10,
        ).json()
        for metric, values in body["metric"]["series"].items():
            expected.update({(message["id"], metric, day): value for day, value in enumerate(values)})
    assert emitted == expected
