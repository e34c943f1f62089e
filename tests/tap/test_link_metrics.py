"""Link metrics: each link's daily `clicked` series of campaigns, campaign actions, broadcasts, broadcast actions,
newsletters, newsletter variants and transactional messages, one row per entity, link, New York day and metric."""

from __future__ import annotations

import datetime
import time
from zoneinfo import ZoneInfo

import pytest
import requests
from tap.tap_harness import API_KEY, run_tap, tap_config

NEW_YORK = ZoneInfo("America/New_York")

#: Link metrics stream → the row's entity keys (action ids are text, the others integers).
LINK_STREAMS = {
    "campaign_link_metrics": ("campaign_id",),
    "campaign_action_link_metrics": ("campaign_id", "action_id"),
    "broadcast_link_metrics": ("broadcast_id",),
    "broadcast_action_link_metrics": ("broadcast_id", "action_id"),
    "newsletter_link_metrics": ("newsletter_id",),
    "newsletter_variant_link_metrics": ("newsletter_id", "content_id"),
    "transactional_link_metrics": ("transactional_id",),
}


def served_rows(sim, path: str, query: dict[str, str]) -> dict[tuple, tuple]:
    """What the API answers to `path?query`, one `(link_id, metric, day index) → (href, value)` per value."""
    body = requests.get(
        f"{sim.url}{path}", params=query, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    ).json()
    return {
        (item["link"]["id"], metric, day): (item["link"]["href"], value)
        for item in body["links"]
        for metric, values in item["metric"]["series"].items()
        for day, value in enumerate(values)
    }


@pytest.mark.parametrize("stream", sorted(LINK_STREAMS))
def test_each_day_of_each_links_series_is_a_row_with_the_served_count(make_cio_sim, stream: str) -> None:
    sim = make_cio_sim(scale=0.5, anchor=int(time.time()))  # v1 buckets end at the simulator's "now"
    keys = LINK_STREAMS[stream]

    run = run_tap(tap_config(sim, metrics_days=4), [stream])

    calls = [e for e in sim.request_log if e.path.endswith("/metrics/links")]
    assert calls and {(e.query.get("period"), e.query.get("steps"), e.status) for e in calls} == {("days", "4", 200)}
    rows = run.records[stream]
    assert rows, f"the simulator has no {stream}: the test would prove nothing"
    today = datetime.datetime.now(NEW_YORK).date()
    first_day = today - datetime.timedelta(days=3)
    emitted: dict[tuple, tuple] = {}
    for row in rows:
        day = datetime.datetime.fromisoformat(row["period_start"]).astimezone(NEW_YORK)
        assert day.time() == datetime.time(0, 0) and row["period"] == "days"
        index = (day.date() - first_day).days
        emitted[(tuple(row[key] for key in keys), row["link_id"], row["metric"], index)] = (row["href"], row["value"])
    assert len(emitted) == len(rows)
    expected = {}
    for call in calls:
        ids = entity_ids(call.path)
        entity = tuple(value if key == "action_id" else int(value) for key, value in zip(keys, ids, strict=True))
        for (link_id, metric, index), served in served_rows(sim, call.path, call.query).items():
            expected[(entity, link_id, metric, index)] = served
    assert emitted == expected


def entity_ids(path: str) -> list[str]:
    """The ids in a `/v1/<entity>/<id>[/actions/<action_id> | /contents/<content_id>]/metrics/links` path."""
    parts = path.split("/")
    return [
        parts[i + 1]
        for i, part in enumerate(parts)
        if part in ("campaigns", "broadcasts", "newsletters", "transactional", "actions", "contents")
    ]
