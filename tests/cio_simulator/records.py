"""Builders for single records in the exact shape the App API serves them (reference sections 2.x and 6).

Each builder takes its own random stream (`SplitMix`) so a record never depends on how many records came before it of
another kind. Types follow the live API: unix-second integers, action ids as strings in action lists, object
type ids as strings, nullable fields really null sometimes.
"""

from __future__ import annotations

import json
from typing import Any

from .determinism import Record, SplitMix

WORDS = [
    "welcome",
    "onboarding",
    "trial",
    "renewal",
    "winback",
    "launch",
    "digest",
    "weekly",
    "monthly",
    "upgrade",
    "feedback",
    "survey",
    "invite",
    "reminder",
    "cart",
    "abandoned",
    "receipt",
    "shipping",
    "summer",
    "winter",
    "spring",
    "autumn",
    "promo",
    "beta",
    "insider",
    "vip",
    "loyalty",
]
FIRST_NAMES = [
    "ada",
    "grace",
    "alan",
    "edsger",
    "barbara",
    "ken",
    "dennis",
    "margaret",
    "linus",
    "guido",
    "james",
    "anita",
    "radia",
    "donald",
]
LAST_NAMES = [
    "lovelace",
    "hopper",
    "turing",
    "dijkstra",
    "liskov",
    "thompson",
    "ritchie",
    "hamilton",
    "torvalds",
    "rossum",
    "gosling",
    "borg",
]
EMAIL_DOMAINS = ("example.com", "example.org", "mail.test", "inbox.example")
TAGS = ("lifecycle", "marketing", "product", "billing", "q3", "experiment")
LANGUAGES = ("", "", "", "de", "fr", "es")
CAMPAIGN_TYPES = ("segment", "event", "form", "date", "relationship", "object", "webhook")
ACTION_TYPES = ("email", "email", "email", "push", "twilio", "slack", "in_app")
METRIC_SERIES_KEYS = [
    "2xx",
    "3xx",
    "4xx",
    "5xx",
    "attempted",
    "bounced",
    "clicked",
    "human_clicked",
    "prefetch_clicked",
    "converted",
    "created",
    "deferred",
    "delivered",
    "drafted",
    "failed",
    "opened",
    "human_opened",
    "prefetch_opened",
    "sent",
    "spammed",
    "suppressed",
    "undeliverable",
    "topic_unsubscribed",
    "unsubscribed",
]


def title(rng: SplitMix, words: int = 2) -> str:
    return " ".join(rng.choice(WORDS).capitalize() for _ in range(words))


def campaign(
    rng: SplitMix,
    campaign_id: int,
    created: int,
    updated: int,
    action_ids: list[tuple[int, str]],
    segment_ids: list[int],
) -> Record:
    """A campaign: the union of common fields plus the fields of its trigger type (spec `oneOf`)."""
    kind = CAMPAIGN_TYPES[campaign_id % len(CAMPAIGN_TYPES)]
    state = rng.choice(("running", "running", "running", "draft", "stopped"))
    record: Record = {
        "id": campaign_id,
        "deduplicate_id": f"{campaign_id}:{updated}",
        "name": f"{title(rng)} campaign",
        "type": kind,
        "created": created,
        "updated": updated,
        "active": state == "running",
        "state": state,
        "actions": [{"type": action_type, "id": action_id} for action_id, action_type in action_ids],
        "first_started": 0 if state == "draft" else created + rng.randint(60, 86400),
        "tags": rng.sample(TAGS, rng.randint(0, 2)),
        "filter_segment_ids": rng.sample(segment_ids, min(len(segment_ids), rng.randint(0, 1))),
    }
    if kind == "segment":
        record["trigger_segment_ids"] = rng.sample(segment_ids, min(len(segment_ids), 1))
        record["msg_templates"] = [{"type": t, "id": a} for a, t in action_ids if t in ("email", "sms", "push")]
    elif kind == "event":
        record["event_name"] = rng.choice(("purchase", "signup", "cart_updated", "trial_ended"))
    elif kind == "date":
        record.update(
            frequency=rng.choice(("once", "monthly", "yearly")),
            date_attribute="created_at",
            timezone="America/New_York",
            use_customer_timezone=rng.random() < 0.5,
            start_hour=rng.randint(0, 23),
            start_minutes=rng.choice((0, 15, 30, 45)),
        )
    elif kind in ("relationship", "object"):
        # Live quirk (reference 2.1): these are typed `object` in the spec but arrive as JSON text.
        record.update(
            object_type_id=1,
            filter_object_attributes=json.dumps({"and": [{"field": "plan", "operator": "exists"}]}),
            filter_relationship_attributes=json.dumps({"or": []}),
            audience={
                "type": rng.randint(0, 1),
                "person_filters": json.dumps({"and": []}),
                "relationship_filters": json.dumps({"and": []}),
            },
            relationship_attribute_triggers=json.dumps({"role": "admin"}),
            object_attribute_triggers=json.dumps({"tier": "gold"}),
        )
    elif kind == "webhook":
        record["webhook_id"] = rng.randint(1, 50)
    return record


def content_fields(rng: SplitMix, kind: str) -> Record:
    """Message-content fields shared by campaign/broadcast actions, newsletter and transactional contents."""
    subject = f"{title(rng, 3)}!"
    fields: Record = {
        "name": f"{kind.capitalize()} {title(rng, 1)}",
        "layout": "<html><body>{{content}}</body></html>" if kind == "email" else "",
        "body": f"<p>Hello {{{{customer.first_name}}}}, {subject.lower()}</p>",
        "body_amp": "",
        "language": rng.choice(LANGUAGES),
        "type": kind,
        "from": "Team <team@example.com>" if kind == "email" else "",
        "from_id": rng.randint(1, 12),
        "reply_to": "support@example.com" if rng.random() < 0.5 else "",
        "reply_to_id": rng.randint(1, 12) if rng.random() < 0.4 else None,
        "preprocessor": "premailer",
        "recipient": "{{customer.email}}" if kind == "email" else "{{customer.phone}}",
        "subject": subject if kind == "email" else "",
        "bcc": "",
        "fake_bcc": rng.random() < 0.1,
        "preheader_text": title(rng, 4) if rng.random() < 0.5 else "",
        "headers": {"X-Mailer-Tag": rng.choice(WORDS)} if rng.random() < 0.4 else {},
    }
    return fields


def action(
    rng: SplitMix, action_id: int, parent_key: str, parent_id: int, parent_action_id: int, created: int, updated: int
) -> Record:
    """A campaign or broadcast action; `id` is a JSON string as the live API sends it (reference 6.1)."""
    kind = rng.choice(ACTION_TYPES)
    record: Record = {"id": str(action_id), parent_key: parent_id, "deduplicate_id": f"{action_id}:{updated}"}
    if parent_key == "campaign_id":
        record["parent_action_id"] = parent_action_id
    record.update(content_fields(rng, kind))
    record.update(
        created=created,
        updated=updated,
        sending_state=rng.choice(("automatic", "automatic", "draft", "off")),
        image_url="https://cdn.example.com/img.png" if kind == "push" else "",
        url="https://hooks.example.com/cio" if kind == "slack" else "",
        method="post" if kind == "slack" else "get",
    )
    return record


def broadcast(
    rng: SplitMix, broadcast_id: int, created: int, updated: int, action_ids: list[tuple[int, str]]
) -> Record:
    state = rng.choice(("running", "running", "draft"))
    return {
        "id": broadcast_id,
        "deduplicate_id": f"{broadcast_id}:{updated}",
        "name": f"{title(rng)} broadcast",
        "type": "triggered_broadcast",
        "created": created,
        "updated": updated,
        "active": state == "running",
        "state": state,
        "actions": [{"id": a, "type": t} for a, t in action_ids],
        "msg_template_ids": [{"id": a, "type": t} for a, t in action_ids],
        "first_started": 0 if state == "draft" else created + rng.randint(60, 3600),
        "tags": rng.sample(TAGS, rng.randint(0, 2)),
    }


def newsletter(
    rng: SplitMix,
    newsletter_id: int,
    created: int,
    updated: int,
    content_ids: list[int],
    segment_ids: list[int],
    topic_ids: list[int],
) -> Record:
    sent = rng.random() < 0.8
    return {
        "id": newsletter_id,
        "deduplicate_id": f"{newsletter_id}:{updated}",
        "content_ids": content_ids,
        "name": f"{title(rng)} newsletter #{newsletter_id}",
        "sent_at": created + rng.randint(600, 7 * 86400) if sent else None,
        "created": created,
        "updated": updated,
        "type": rng.choice(("email", "email", "email", "push", "in_app")),
        "tags": rng.sample(TAGS, rng.randint(0, 2)),
        "recipient_segment_ids": rng.sample(segment_ids, min(len(segment_ids), rng.randint(1, 2))),
        "subscription_topic_id": rng.choice(topic_ids) if rng.random() < 0.5 else None,
    }


def newsletter_content(rng: SplitMix, content_id: int, newsletter_id: int) -> Record:
    record: Record = {"id": content_id, "newsletter_id": newsletter_id, "deduplicate_id": f"{content_id}:1"}
    record.update(content_fields(rng, "email"))
    return record


def segment(rng: SplitMix, segment_id: int, name: str, created: int, updated: int) -> Record:
    dynamic = rng.random() < 0.7
    return {
        "id": segment_id,
        "deduplicate_id": f"{segment_id}:{updated}",
        "name": name,
        "description": f"People who match {name.lower()}",
        "state": "finished" if rng.random() < 0.85 else "build",
        "progress": None if rng.random() < 0.7 else rng.randint(0, 100),
        "type": "dynamic" if dynamic else "manual",
        "tags": rng.sample(TAGS, rng.randint(1, 2)) if rng.random() < 0.6 else None,
        "conditions": {"and": [{"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}]} if dynamic else {},
        "created_at": created,
        "updated_at": updated,
    }


def transactional(rng: SplitMix, transactional_id: int, created: int, updated: int) -> Record:
    name = f"{title(rng, 1)} receipt"
    return {
        "id": transactional_id,
        "name": name,
        "description": f"Sent when a {name.lower()} is needed",
        "send_to_unsubscribed": True,
        "link_tracking": rng.random() < 0.7,
        "open_tracking": rng.random() < 0.7,
        "hide_message_body": rng.random() < 0.2,
        "queue_drafts": rng.random() < 0.1,
        "trigger_name": name.lower().replace(" ", "_"),
        "created_at": created,
        "updated_at": updated,
    }


def transactional_content(rng: SplitMix, content_id: int, created: int, updated: int) -> Record:
    record: Record = {"id": content_id}
    record.update(content_fields(rng, rng.choice(("email", "email", "push"))))
    record.update(created=created, updated=updated)
    return record


def metric_value(rng: SplitMix, key: str) -> int:
    """One bucket of a metrics series: plausible magnitudes per metric."""
    if key in ("sent", "delivered", "attempted", "created"):
        return rng.randint(0, 500)
    if key in ("opened", "human_opened", "clicked", "human_clicked", "2xx"):
        return rng.randint(0, 120)
    return rng.randint(0, 6)


def settings_resources(rng: SplitMix, anchor: int, scale: float) -> dict[str, Any]:
    """The small workspace-configuration lists (exports, webhooks, snippets, ...)."""

    def count(base: int) -> int:
        return max(1, round(base * min(scale, 5.0)))

    exports = []
    for i in range(count(5)):
        created = anchor - rng.randint(2, 300) * 86400
        failed = i == 3
        exports.append(
            {
                "id": 900 + i,
                "user_id": rng.randint(1, 9),
                "user_email": "analyst@example.com",
                "total": rng.randint(10, 5000),
                "deduplicate_id": f"{900 + i}:{created}",
                "type": ("customers", "deliveries")[i % 2],
                "failed": failed,
                "description": f"{title(rng)} export",
                "downloads": rng.randint(0, 4),
                "created_at": created,
                "updated_at": created + rng.randint(5, 600),
                "status": "failed" if failed else ("done" if i else "pending"),
            }
        )
    webhooks = [
        {
            "name": f"{title(rng, 1)} webhook",
            "id": 40 + i,
            "endpoint": f"https://hooks.example.com/cio/{i}",
            "disabled": i == 2,
            "full_resolution": rng.random() < 0.5,
            "with_content": rng.random() < 0.5,
            "events": rng.sample(["email_sent", "email_opened", "email_clicked", "email_failed", "sms_sent"], 3),
            "type": "webhook",
        }
        for i in range(count(3))
    ]
    snippets = [
        {
            "name": f"snippet_{rng.choice(WORDS)}_{i}",
            "value": f"<p>{title(rng, 3)}</p>",
            "updated_at": anchor - rng.randint(1, 400) * 86400,
        }
        for i in range(count(6))
    ]
    collections = []
    for i in range(count(4)):
        created = anchor - rng.randint(10, 400) * 86400
        collections.append(
            {
                "bytes": rng.randint(100, 10**6),
                "created_at": created,
                "updated_at": created + rng.randint(0, 86400 * 5),
                "id": 70 + i,
                "name": f"{rng.choice(WORDS)}_list",
                "rows": rng.randint(1, 5000),
                "schema": ["sku", "price", "name"][: rng.randint(1, 3)],
            }
        )
    topics = [
        {
            "name": f"{title(rng, 1)} updates",
            "description": f"News about {rng.choice(WORDS)}",
            "subscribed_by_default": i != 1,
            "id": i + 1,
            "identifier": f"topic_{i + 1}",
        }
        for i in range(count(3))
    ]
    object_types = [
        {
            "id": "1",
            "name": "Companies",
            "singular_name": "Company",
            "slug": "companies",
            "singular_slug": "company",
            "enabled": True,
            "icon": "building",
        },
        {
            "id": "2",
            "name": "Accounts",
            "singular_name": "Account",
            "slug": "accounts",
            "singular_slug": "account",
            "enabled": False,
            "icon": "folder",
        },
    ]
    ip_addresses = [f"35.188.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(8)]
    return {
        "exports": exports,
        "reporting_webhooks": webhooks,
        "snippets": snippets,
        "collections": collections,
        "topics": topics,
        "object_types": object_types,
        "ip_addresses": ip_addresses,
    }


def sender_identity(rng: SplitMix, sender_id: int, hidden: bool) -> Record:
    first = rng.choice(FIRST_NAMES).capitalize()
    phone = sender_id % 5 == 4
    return {
        "id": sender_id,
        "deduplicate_id": f"{sender_id}:1",
        "name": first,
        "email": "" if phone else f"{first.lower()}.{sender_id}@example.com",
        "address": f"+1555000{sender_id:04d}" if phone else f"{first} <{first.lower()}.{sender_id}@example.com>",
        "template_type": "phone" if phone else "email",
        "auto_generated": sender_id % 7 == 0,
        "hidden": hidden,
    }
