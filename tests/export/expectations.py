"""What the export streams should contain, computed from the simulator's own data.

The first sync must hold everything the simulated API serves; a later sync exactly what the summary of
`sim.mutate()` lists as changed. Rows are compared by the keys in `KEYS`.
"""

from __future__ import annotations

import datetime
import time
import typing as t

from cio_simulator.dataset import FEED_DELIVERY_TYPES
from cio_simulator.mutations import MUTATION_STEP

if t.TYPE_CHECKING:
    from cio_simulator import Simulator

DAY = 86400
EXPORT_STREAMS = ("deliveries", "metrics", "people", "attributes", "content")

SEED = 7

#: The fields each stream's rows are compared by.
KEYS = {
    "deliveries": ("delivery_id",),
    "metrics": ("delivery_id", "metric", "created_at", "link_url"),
    "people": ("internal_customer_id",),
    "attributes": ("internal_customer_id", "attribute_name"),
    "content": ("content_type", "content_id"),
}

Keys = dict[str, set[tuple]]


def iso(unix: int) -> str:
    """A unix time as the ISO 8601 string the tap emits."""
    return datetime.datetime.fromtimestamp(unix, datetime.timezone.utc).isoformat()


def history_start(sim: Simulator) -> str:
    """A `start_date` before the simulator's oldest delivery."""
    return iso(sim.data.initial_clock - 400 * DAY)


#: The activity feed is complete for this many days before a run (the spec's guarantee).
FEED_DAYS = 30


def metric_events(sim: Simulator) -> set[tuple[str, str, str, str | None]]:
    """(delivery, metric, time, link) of every event `metrics` can know of now: from the activity feed for the
    event types it has within its `FEED_DAYS` (each open/click its own, clicks with their link), else the
    first occurrence of each metric in the message's `metrics` (no link)."""
    feed_from = int(time.time()) - FEED_DAYS * DAY
    found = set()
    for index, message in enumerate(sim.data.messages):
        for metric, at, data in sim.data.delivery_events(index, message):
            if f"{metric}_{message['type']}" in FEED_DELIVERY_TYPES and at >= feed_from:
                found.add((message["id"], metric, iso(at), data.get("href")))
            elif message["metrics"].get(metric) == at:
                found.add((message["id"], metric, iso(at), None))
    return found


def all_content(sim: Simulator) -> set[tuple[str, int]]:
    """Every campaign/broadcast action, newsletter variant and transactional content."""
    data = sim.data
    return (
        {("campaign_action", int(a["id"])) for actions in data.campaign_actions.values() for a in actions}
        | {("broadcast_action", int(a["id"])) for actions in data.broadcast_actions.values() for a in actions}
        | {("newsletter_variant", c["id"]) for contents in data.newsletter_contents.values() for c in contents}
        | {("transactional_content", c["id"]) for contents in data.transactional_contents.values() for c in contents}
    )


def initial_export(sim: Simulator) -> Keys:
    """The rows of a first sync: all history."""
    people = list(sim.data.people)
    return {
        "deliveries": {(m["id"],) for m in sim.data.messages},
        "metrics": metric_events(sim),
        "people": {(p["identifiers"]["cio_id"],) for p in people},
        "attributes": {(p["identifiers"]["cio_id"], name) for p in people for name in p["attributes"]},
        "content": all_content(sim),
    }


def expected_changes(sim: Simulator, summary: dict) -> Keys:
    """The rows a sync after one `mutate()` should hold: what that mutation created or changed."""
    created_ids = set(summary["messages"]["created"])
    created_messages = [m for m in sim.data.messages[-len(created_ids) :] if m["id"] in created_ids]
    people = {p["identifiers"]["cio_id"]: p for p in sim.data.people}
    newsletters = summary["newsletters"]["created"] + summary["newsletters"]["updated"]
    return {
        "deliveries": {(m["id"],) for m in created_messages},
        "metrics": {event for event in metric_events(sim) if event[2] > iso(summary["clock"] - MUTATION_STEP)},
        "people": {
            (cio,) for cio in summary["people"]["created"] + summary["people"]["updated"] + summary["people"]["deleted"]
        },
        "attributes": {(cio, name) for cio in summary["people"]["created"] for name in people[cio]["attributes"]}
        | {(cio, name) for cio in summary["people"]["updated"] for name in ("plan", "last_mutation")},
        "content": {("campaign_action", int(a)) for a in summary["campaign_actions"]["updated"]}
        | {("newsletter_variant", c["id"]) for n in newsletters for c in sim.data.newsletter_contents[n]},
    }


def row_keys(stream: str, rows: t.Iterable[t.Mapping[str, t.Any]]) -> set[tuple]:
    """The keys of `rows`, failing if any row appears twice."""
    keys = [tuple(_comparable(row[name]) for name in KEYS[stream]) for row in rows]
    assert len(keys) == len(set(keys)), f"{stream}: {len(keys) - len(set(keys))} duplicate rows"
    return set(keys)


def _comparable(value: t.Any) -> t.Any:
    """Timestamps read back from parquet compare as the ISO strings the tap emitted."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).isoformat()
    return value
