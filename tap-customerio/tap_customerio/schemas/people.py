"""People (customers) and segment memberships (reference §2.9, §2.11)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import FreeObject, identifiers

CUSTOMER = th.PropertiesList(
    th.Property("cio_id", th.StringType, required=True),
    th.Property("id", th.StringType),
    th.Property("email", th.StringType),
    th.Property("identifiers", identifiers()),
    th.Property("attributes", FreeObject),
    th.Property("timestamps", th.ObjectType(additional_properties=th.DateTimeType)),
    th.Property("unsubscribed", th.BooleanType),
    th.Property(
        "devices",
        th.ArrayType(
            th.ObjectType(
                th.Property("id", th.StringType),
                th.Property("platform", th.StringType),
                th.Property("last_used", th.DateTimeType),
                th.Property("attributes", FreeObject),
            )
        ),
    ),
).to_dict()

SEGMENT_MEMBERSHIP = th.PropertiesList(
    th.Property("segment_id", th.IntegerType, required=True),
    th.Property("cio_id", th.StringType, required=True),
    th.Property("id", th.StringType),
    th.Property("email", th.StringType),
).to_dict()

#: `GET /v1/customers/{id}/subscription_preferences` (`customer` object), one record per person.
SUBSCRIPTION_PREFERENCES = th.PropertiesList(
    th.Property("cio_id", th.StringType, required=True),
    th.Property("id", th.StringType),
    th.Property("email", th.StringType),
    th.Property("unsubscribed", th.BooleanType),
    th.Property(
        "topics",
        th.ArrayType(
            th.ObjectType(
                th.Property("id", th.StringType),
                th.Property("name", th.StringType),
                th.Property("subscribed", th.BooleanType),
            )
        ),
    ),
).to_dict()
