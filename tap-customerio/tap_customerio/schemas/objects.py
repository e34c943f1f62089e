"""Objects (reference §2.21): `POST /v1/objects` search, per-object attributes and relationships."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import FreeObject

OBJECT = th.PropertiesList(
    th.Property("object_type_id", th.StringType, required=True),
    th.Property("cio_object_id", th.StringType, required=True),
    th.Property("object_id", th.StringType),
    th.Property("attributes", FreeObject),
    th.Property("timestamps", th.ObjectType(additional_properties=th.DateTimeType)),
    th.Property("updated_at", th.DateTimeType),
).to_dict()

OBJECT_RELATIONSHIP = th.PropertiesList(
    th.Property("object_type_id", th.StringType, required=True),
    th.Property("cio_object_id", th.StringType, required=True),
    th.Property("cio_id", th.StringType, required=True),
    th.Property("id", th.StringType),
    th.Property("email", th.StringType),
).to_dict()
