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
