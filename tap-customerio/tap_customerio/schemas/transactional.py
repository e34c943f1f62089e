"""Transactional messages and their contents (reference §2.23)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import message_content

TRANSACTIONAL_MESSAGE = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("name", th.StringType),
    th.Property("description", th.StringType),
    th.Property("trigger_name", th.StringType),
    th.Property("send_to_unsubscribed", th.BooleanType),
    th.Property("link_tracking", th.BooleanType),
    th.Property("open_tracking", th.BooleanType),
    th.Property("hide_message_body", th.BooleanType),
    th.Property("queue_drafts", th.BooleanType),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
).to_dict()

TRANSACTIONAL_CONTENT = message_content(
    th.Property("id", th.IntegerType, required=True),
    th.Property("transactional_id", th.IntegerType, required=True),
).to_dict()
