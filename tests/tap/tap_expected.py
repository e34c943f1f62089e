"""What the simulated API exposes, per stream, as a multiset of primary keys (each key once)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from cio_simulator.metrics import TRANSACTIONAL_KEYS, entity_links

#: Metric keys in every campaign/newsletter series the simulator serves.
from cio_simulator.records import METRIC_SERIES_KEYS

Data = Any


def _one_each(keys: Any) -> Counter:
    return Counter(keys)


def _links(d: Data, c: dict[str, Any], entities: Any) -> Counter:
    """One `clicked` row per day for each link of each `(key, simulator entity name)`."""
    return Counter(
        {
            (*key, link_id, "clicked"): c["metrics_days"]
            for key, name in entities
            for link_id, _ in entity_links(d.seed, name)
        }
    )


EXPECTED: dict[str, Callable[[Data, dict[str, Any]], Counter]] = {
    "campaigns": lambda d, c: _one_each(x["id"] for x in d.campaigns),
    "campaign_actions": lambda d, c: _one_each(
        (cid, a["id"]) for cid, acts in d.campaign_actions.items() for a in acts
    ),
    "broadcasts": lambda d, c: _one_each(x["id"] for x in d.broadcasts),
    "broadcast_actions": lambda d, c: _one_each(
        (bid, a["id"]) for bid, acts in d.broadcast_actions.items() for a in acts
    ),
    "broadcast_triggers": lambda d, c: _one_each(t["id"] for ts in d.broadcast_triggers.values() for t in ts),
    "newsletters": lambda d, c: _one_each(x["id"] for x in d.newsletters),
    "newsletter_variants": lambda d, c: _one_each(
        (nid, v["id"]) for nid, vs in d.newsletter_contents.items() for v in vs
    ),
    "newsletter_test_groups": lambda d, c: _one_each(
        (nid, g["id"]) for nid, gs in d.newsletter_test_groups.items() for g in gs
    ),
    "segments": lambda d, c: _one_each(x["id"] for x in d.segments),
    "segment_memberships": lambda d, c: _one_each(
        (sid, m["cio_id"]) for sid, ms in d.segment_members.items() for m in ms
    ),
    "segment_usage": lambda d, c: _one_each(x["id"] for x in d.segments),
    "transactional_messages": lambda d, c: _one_each(x["id"] for x in d.transactional),
    "transactional_contents": lambda d, c: _one_each(
        (tid, x["id"]) for tid, xs in d.transactional_contents.items() for x in xs
    ),
    "exports": lambda d, c: _one_each(x["id"] for x in d.exports),
    "reporting_webhooks": lambda d, c: _one_each(x["id"] for x in d.reporting_webhooks),
    "snippets": lambda d, c: _one_each(x["name"] for x in d.snippets),
    "collections": lambda d, c: _one_each(x["id"] for x in d.collections),
    "collection_contents": lambda d, c: _one_each(x["id"] for x in d.collections),
    "objects": lambda d, c: _one_each((tid, o["cio_object_id"]) for tid, items in d.objects.items() for o in items),
    "object_relationships": lambda d, c: _one_each(
        (tid, o["cio_object_id"], d.identifiers(i)["cio_id"])
        for tid, items in d.objects.items()
        for o in items
        for i in o["people"]
    ),
    "topics": lambda d, c: _one_each(x["id"] for x in d.subscription_topics),
    "types": lambda d, c: _one_each(x["id"] for x in d.object_types),
    "workspaces": lambda d, c: _one_each(x["id"] for x in d.workspaces),
    "ip_addresses": lambda d, c: _one_each(d.ip_addresses),
    "sender_identities": lambda d, c: _one_each(x["id"] for x in d.sender_identities),
    "eps_suppression": lambda d, c: _one_each((kind, x["email"]) for kind, xs in d.suppressions.items() for x in xs),
    "customers": lambda d, c: _one_each(p["identifiers"]["cio_id"] for p in d.people),
    "subscription_preferences": lambda d, c: _one_each(p["identifiers"]["cio_id"] for p in d.people),
    "customer_relationships": lambda d, c: _one_each(
        (d.identifiers(i)["cio_id"], str(r["object_type_id"]), r["identifiers"]["cio_object_id"])
        for i in d.live_people_positions()
        for r in d.person_relationships(i)
    ),
    "messages": lambda d, c: _one_each(m["id"] for m in d.messages),
    "activities": lambda d, c: _one_each(
        a["id"] for a in (d.activities if c.get("include_deleted_people") else d.activities_of_live_people)
    ),
    "campaign_metrics": lambda d, c: Counter(
        {(x["id"], key): c["metrics_days"] for x in d.campaigns for key in METRIC_SERIES_KEYS}
    ),
    "newsletter_metrics": lambda d, c: Counter(
        {(x["id"], key): c["metrics_days"] for x in d.newsletters for key in METRIC_SERIES_KEYS}
    ),
    "newsletter_variant_metrics": lambda d, c: Counter(
        {
            (nid, v["id"], key): c["metrics_days"]
            for nid, vs in d.newsletter_contents.items()
            for v in vs
            for key in METRIC_SERIES_KEYS
        }
    ),
    "transactional_metrics": lambda d, c: Counter(
        {(x["id"], key): c["metrics_days"] for x in d.transactional for key in TRANSACTIONAL_KEYS}
    ),
    "campaign_action_metrics": lambda d, c: Counter(
        {
            (cid, a["id"], key): c["metrics_days"]
            for cid, acts in d.campaign_actions.items()
            for a in acts
            for key in METRIC_SERIES_KEYS
        }
    ),
    "broadcast_metrics": lambda d, c: Counter(
        {(x["id"], key): c["metrics_days"] for x in d.broadcasts for key in METRIC_SERIES_KEYS}
    ),
    "broadcast_action_metrics": lambda d, c: Counter(
        {
            (bid, a["id"], key): c["metrics_days"]
            for bid, acts in d.broadcast_actions.items()
            for a in acts
            for key in METRIC_SERIES_KEYS
        }
    ),
    "campaign_link_metrics": lambda d, c: _links(d, c, (((x["id"],), f"campaign{x['id']}") for x in d.campaigns)),
    "campaign_action_link_metrics": lambda d, c: _links(
        d, c, (((cid, a["id"]), f"action{a['id']}") for cid, acts in d.campaign_actions.items() for a in acts)
    ),
    "broadcast_link_metrics": lambda d, c: _links(d, c, (((x["id"],), f"broadcast{x['id']}") for x in d.broadcasts)),
    "broadcast_action_link_metrics": lambda d, c: _links(
        d,
        c,
        (((bid, a["id"]), f"broadcast_action{a['id']}") for bid, acts in d.broadcast_actions.items() for a in acts),
    ),
    "newsletter_link_metrics": lambda d, c: _links(d, c, (((x["id"],), f"newsletter{x['id']}") for x in d.newsletters)),
    "newsletter_variant_link_metrics": lambda d, c: _links(
        d, c, (((nid, v["id"]), f"variant{v['id']}") for nid, vs in d.newsletter_contents.items() for v in vs)
    ),
    "transactional_link_metrics": lambda d, c: _links(
        d, c, (((x["id"],), f"transactional{x['id']}") for x in d.transactional)
    ),
}

#: Primary-key fields per stream, as the tap declares them (metrics: entity and metric; days are counted).
KEYS: dict[str, tuple[str, ...]] = {
    "campaign_actions": ("campaign_id", "id"),
    "broadcast_actions": ("broadcast_id", "id"),
    "newsletter_variants": ("newsletter_id", "id"),
    "newsletter_test_groups": ("newsletter_id", "id"),
    "segment_memberships": ("segment_id", "cio_id"),
    "segment_usage": ("segment_id",),
    "collection_contents": ("collection_id",),
    "objects": ("object_type_id", "cio_object_id"),
    "object_relationships": ("object_type_id", "cio_object_id", "cio_id"),
    "transactional_contents": ("transactional_id", "id"),
    "snippets": ("name",),
    "ip_addresses": ("ip_address",),
    "eps_suppression": ("suppression_type", "email"),
    "customers": ("cio_id",),
    "subscription_preferences": ("cio_id",),
    "campaign_metrics": ("campaign_id", "metric"),
    "newsletter_metrics": ("newsletter_id", "metric"),
    "campaign_action_metrics": ("campaign_id", "action_id", "metric"),
    "broadcast_metrics": ("broadcast_id", "metric"),
    "broadcast_action_metrics": ("broadcast_id", "action_id", "metric"),
    "customer_relationships": ("cio_id", "object_type_id", "cio_object_id"),
    "campaign_link_metrics": ("campaign_id", "link_id", "metric"),
    "campaign_action_link_metrics": ("campaign_id", "action_id", "link_id", "metric"),
    "broadcast_link_metrics": ("broadcast_id", "link_id", "metric"),
    "broadcast_action_link_metrics": ("broadcast_id", "action_id", "link_id", "metric"),
    "newsletter_link_metrics": ("newsletter_id", "link_id", "metric"),
    "newsletter_variant_metrics": ("newsletter_id", "content_id", "metric"),
    "transactional_metrics": ("transactional_id", "metric"),
    "newsletter_variant_link_metrics": ("newsletter_id", "content_id", "link_id", "metric"),
    "transactional_link_metrics": ("transactional_id", "link_id", "metric"),
}


def key_fields(stream: str) -> tuple[str, ...]:
    return KEYS.get(stream, ("id",))


def expected_keys(data: Data, stream: str, config: dict[str, Any]) -> Counter:
    return EXPECTED[stream](data, config)
