"""Activities (reference §2.13): `data` varies by activity type, so it is a free-form object."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import FreeObject, identifiers

ACTIVITY = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("customer_id", th.StringType),
    th.Property("customer_identifiers", identifiers()),
    th.Property("type", th.StringType),
    th.Property("name", th.StringType),
    th.Property("timestamp", th.DateTimeType),
    th.Property("delivery_id", th.StringType),
    th.Property("delivery_type", th.StringType),
    th.Property("data", FreeObject),
).to_dict()
