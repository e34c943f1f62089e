"""Segments (reference §2.10; `created_at`/`updated_at`/`conditions` are live-only, §6.5)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import FreeObject

SEGMENT = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("deduplicate_id", th.StringType),
    th.Property("name", th.StringType),
    th.Property("description", th.StringType),
    th.Property("state", th.StringType),
    th.Property("progress", th.IntegerType),
    th.Property("type", th.StringType),
    th.Property("tags", th.ArrayType(th.StringType)),
    th.Property("conditions", FreeObject),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
).to_dict()

#: `GET /v1/segments/{id}/used_by` (`used_by` object): what references a segment; `segment_id` from the parent
#: (the spec's object has none, the live one does).
SEGMENT_USAGE = th.PropertiesList(
    th.Property("segment_id", th.IntegerType, required=True),
    th.Property("campaigns", th.ArrayType(th.IntegerType)),
    th.Property("sent_newsletters", th.ArrayType(th.IntegerType)),
    th.Property("draft_newsletters", th.ArrayType(th.IntegerType)),
).to_dict()
