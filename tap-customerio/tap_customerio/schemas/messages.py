"""Deliveries from `/v1/messages` (reference §2.8, §6.3)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import identifiers

#: `metrics` keys holding the unix time a delivery reached that metric.
METRIC_TIMESTAMP_KEYS = (
    "attempted",
    "bounced",
    "clicked",
    "converted",
    "created",
    "deferred",
    "delivered",
    "drafted",
    "dropped",
    "failed",
    "opened",
    "sent",
    "spammed",
    "topic_unsubscribed",
    "undeliverable",
    "unsubscribed",
)
#: `metrics` keys holding counts, not times.
METRIC_COUNT_KEYS = ("human_clicked", "prefetch_clicked", "human_opened", "prefetch_opened")

MESSAGE = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("deduplicate_id", th.StringType),
    th.Property("message_template_id", th.IntegerType),
    th.Property("msg_template_id", th.IntegerType),
    th.Property("customer_id", th.StringType),
    th.Property("customer_identifiers", identifiers()),
    th.Property("recipient", th.StringType),
    th.Property("subject", th.StringType),
    th.Property(
        "metrics",
        th.ObjectType(
            *(th.Property(key, th.DateTimeType) for key in METRIC_TIMESTAMP_KEYS),
            *(th.Property(key, th.IntegerType) for key in METRIC_COUNT_KEYS),
        ),
    ),
    th.Property("created", th.DateTimeType),
    th.Property("failure_message", th.StringType),
    th.Property("campaign_id", th.IntegerType),
    th.Property("action_id", th.IntegerType),
    th.Property("parent_action_id", th.IntegerType),
    th.Property("newsletter_id", th.IntegerType),
    th.Property("content_id", th.IntegerType),
    th.Property("broadcast_id", th.IntegerType),
    th.Property("transactional_message_id", th.IntegerType),
    th.Property("trigger_event_id", th.StringType),
    th.Property("type", th.StringType),
    th.Property("forgotten", th.BooleanType),
).to_dict()

MESSAGE_TIMESTAMP_FIELDS = ("created", *(f"metrics.{key}" for key in METRIC_TIMESTAMP_KEYS))
