"""Campaigns and their actions (reference §2.1, §2.2)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import FreeObject, action_sender_ids, message_content, typed_refs

CAMPAIGN = th.PropertiesList(
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
    th.Property("tags", th.ArrayType(th.StringType)),
    th.Property("filter_segment_ids", th.ArrayType(th.IntegerType)),
    th.Property("trigger_segment_ids", th.ArrayType(th.IntegerType)),
    th.Property("msg_templates", typed_refs(th.IntegerType)),
    th.Property("event_name", th.StringType),
    th.Property("frequency", th.StringType),
    th.Property("date_attribute", th.StringType),
    th.Property("timezone", th.StringType),
    th.Property("use_customer_timezone", th.BooleanType),
    th.Property("start_hour", th.IntegerType),
    th.Property("start_minutes", th.IntegerType),
    th.Property("object_type_id", th.IntegerType),
    th.Property("filter_object_attributes", th.StringType),
    th.Property("filter_relationship_attributes", th.StringType),
    th.Property("audience", FreeObject),
    # JSON text, like `filter_object_attributes`: the spec types these two `object`, but its examples and
    # the live API send JSON strings (reference §2.1); an object is converted to its JSON text.
    th.Property("relationship_attribute_triggers", th.StringType),
    th.Property("object_attribute_triggers", th.StringType),
    th.Property("webhook_id", th.IntegerType),
).to_dict()

CAMPAIGN_ACTION = message_content(
    th.Property("id", th.StringType, required=True),
    th.Property("campaign_id", th.IntegerType, required=True),
    th.Property("parent_action_id", th.IntegerType),
    *action_sender_ids(),
).to_dict()
