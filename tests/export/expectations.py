"""What the export streams should contain, computed from the simulator's own data.

The first sync must hold everything the simulated API serves; a later sync exactly what the summary of
`sim.mutate()` lists as changed. Rows are compared by the keys in `KEYS`.
"""

from __future__ import annotations

import datetime
import typing as t

if t.TYPE_CHECKING:
    from cio_simulator import Simulator

DAY = 86400
EXPORT_STREAMS = ("deliveries", "metrics", "people", "attributes", "content")

SEED = 7

#: The fields each stream's rows are compared by.
KEYS = {
    "deliveries": ("delivery_id",),
    "metrics": ("delivery_id", "metric", "created_at"),
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


def event_keys(message: dict) -> set[tuple[str, str, str]]:
    """(delivery, metric, time) of the events in a message's `metrics` (counts are not events)."""
    return {(message["id"], metric, iso(at)) for metric, at in message["metrics"].items()
            if not metric.startswith(("human_", "prefetch_"))}


def all_content(sim: Simulator) -> set[tuple[str, int]]:
    """Every campaign/broadcast action, newsletter variant and transactional content."""
    data = sim.data
    return (
        {("campaign_action", int(a["id"])) for actions in data.campaign_actions.values() for a in actions}
        | {("broadcast_action", int(a["id"])) for actions in data.broadcast_actions.values() for a in actions}
        | {("newsletter_variant", c["id"]) for contents in data.newsletter_contents.values() for c in contents}
        | {("transactional_content", c["id"]) for contents in data.transactional_contents.values()
           for c in contents}
    )


def initial_export(sim: Simulator) -> Keys:
    """The rows of a first sync: all history."""
    people = list(sim.data.people)
    return {
        "deliveries": {(m["id"],) for m in sim.data.messages},
        "metrics": set().union(*(event_keys(m) for m in sim.data.messages)),
        "people": {(p["identifiers"]["cio_id"],) for p in people},
        "attributes": {(p["identifiers"]["cio_id"], name) for p in people for name in p["attributes"]},
        "content": all_content(sim),
    }


def expected_changes(sim: Simulator, summary: dict) -> Keys:
    """The rows a sync after one `mutate()` should hold: what that mutation created or changed."""
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
