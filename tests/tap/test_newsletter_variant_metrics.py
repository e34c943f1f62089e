"""Per-variant newsletter metrics: each variant's (a language or an A/B test message) daily series
(`/v1/newsletters/{id}/contents/{content_id}/metrics`) and each of its links' daily clicks
(`…/contents/{content_id}/metrics/links`), one row per newsletter, variant, (link,) New York day and metric,
incremental by day like the newsletter's own series (tests/tap/test_series_second_sync.py)."""

from __future__ import annotations

import datetime
import time
from zoneinfo import ZoneInfo

import requests
from cio_simulator import Simulator
from tap.tap_harness import API_KEY, run_tap, tap_config

NEW_YORK = ZoneInfo("America/New_York")
STREAMS = ["newsletter_variant_metrics", "newsletter_variant_link_metrics"]


def day_index(row: dict, first_day: datetime.date) -> int:
    """How many New York days after `first_day` the row's day starts (checking it starts at midnight)."""
    start = datetime.datetime.fromisoformat(row["period_start"]).astimezone(NEW_YORK)
    assert start.time() == datetime.time(0, 0) and row["period"] == "days"
    return (start.date() - first_day).days


def served(sim: Simulator, path: str, steps: int) -> dict:
    """The simulated API's answer to `path?period=days&steps=<steps>`."""
    return requests.get(
        f"{sim.url}{path}",
        params={"period": "days", "steps": str(steps)},
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    ).json()


def variants(sim: Simulator) -> list[tuple[int, int]]:
    """(newsletter_id, content_id) of every variant the simulated workspace has."""
    return [(nid, content["id"]) for nid, contents in sim.data.newsletter_contents.items() for content in contents]


def test_every_variant_has_a_row_per_day_and_metric_with_the_served_value(make_cio_sim) -> None:
    sim = make_cio_sim(scale=0.3, anchor=int(time.time()))  # v1 buckets end at the simulator's "now"
    first_day = datetime.datetime.now(NEW_YORK).date() - datetime.timedelta(days=3)

    run = run_tap(tap_config(sim, metrics_days=4), STREAMS)

    assert len(variants(sim)) > 1, "the simulator has no variants: the test would prove nothing"
    emitted = {
        (r["newsletter_id"], r["content_id"], r["metric"], day_index(r, first_day)): r["value"]
        for r in run.records["newsletter_variant_metrics"]
    }
    assert len(emitted) == len(run.records["newsletter_variant_metrics"])
    expected = {
        (nid, cid, metric, day): value
        for nid, cid in variants(sim)
        for metric, values in served(sim, f"/v1/newsletters/{nid}/contents/{cid}/metrics", 4)["metric"][
            "series"
        ].items()
        for day, value in enumerate(values)
    }
    assert emitted == expected

    links = {
        (r["newsletter_id"], r["content_id"], r["link_id"], r["metric"], day_index(r, first_day)): (
            r["href"],
            r["value"],
        )
        for r in run.records["newsletter_variant_link_metrics"]
    }
    assert len(links) == len(run.records["newsletter_variant_link_metrics"])
    expected_links = {
        (nid, cid, item["link"]["id"], metric, day): (item["link"]["href"], value)
        for nid, cid in variants(sim)
        for item in served(sim, f"/v1/newsletters/{nid}/contents/{cid}/metrics/links", 4)["links"]
        for metric, values in item["metric"]["series"].items()
        for day, value in enumerate(values)
    }
    assert links == expected_links
    assert {(nid, cid) for nid, cid, *_ in links} == set(variants(sim))
    for stream in STREAMS:
        key = next(m["key_properties"] for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == stream)
        keys = [tuple(row[name] for name in key) for row in run.records[stream]]
        assert {"newsletter_id", "content_id", "period_start", "metric"} <= set(key), stream
        assert len(set(keys)) == len(keys), f"{stream}: rows share a primary key"
