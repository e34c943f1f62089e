"""Newsletters, their content variants and A/B test groups (reference §2.6, §2.7)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import message_content

NEWSLETTER = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("deduplicate_id", th.StringType),
    th.Property("name", th.StringType),
    th.Property("type", th.StringType),
    th.Property("content_ids", th.ArrayType(th.IntegerType)),
    th.Property("sent_at", th.DateTimeType),
    th.Property("created", th.DateTimeType),
    th.Property("updated", th.DateTimeType),
    th.Property("tags", th.ArrayType(th.StringType)),
    th.Property("recipient_segment_ids", th.ArrayType(th.IntegerType)),
    th.Property("subscription_topic_id", th.IntegerType),
).to_dict()

NEWSLETTER_VARIANT = message_content(
    th.Property("id", th.IntegerType, required=True),
    th.Property("newsletter_id", th.IntegerType, required=True),
).to_dict()

NEWSLETTER_TEST_GROUP = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("newsletter_id", th.IntegerType, required=True),
    th.Property("name", th.StringType),
    th.Property("label", th.StringType),
    th.Property("winner", th.BooleanType),
    th.Property("content_ids", th.ArrayType(th.StringType)),
).to_dict()
