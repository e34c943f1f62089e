"""API-triggered broadcasts, their actions and triggers (reference §2.4, §2.5)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import action_sender_ids, message_content, typed_refs

BROADCAST = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("deduplicate_id", th.StringType),
    th.Property("name", th.StringType),
    th.Property("type", th.StringType),
    th.Property("created", th.DateTimeType),
    th.Property("updated", th.DateTimeType),
    th.Property("first_started", th.DateTimeType),
    th.Property("active", th.BooleanType),
    th.Property("state", th.StringType),
    th.Property("actions", typed_refs(th.IntegerType)),
    th.Property("msg_template_ids", typed_refs(th.IntegerType)),
    th.Property("tags", th.ArrayType(th.StringType)),
).to_dict()

BROADCAST_ACTION = message_content(
    th.Property("id", th.StringType, required=True),
    th.Property("broadcast_id", th.IntegerType, required=True),
    *action_sender_ids(),
).to_dict()

BROADCAST_TRIGGER = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("broadcast_id", th.IntegerType, required=True),
    th.Property("created_at", th.DateTimeType),
    th.Property("processed_at", th.DateTimeType),
).to_dict()
