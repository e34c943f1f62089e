"""A person's relationships (`GET /v1/customers/{customer_id}/relationships`, `getPersonRelationships`): the
spec's `cio_relationships` items — `object_type_id`, `identifiers` {`object_id`, `cio_object_id`}, the
relationship's `attributes` and their `timestamps` (unix) — flattened, with the person's `cio_id`."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import FreeObject

CUSTOMER_RELATIONSHIP = th.PropertiesList(
    th.Property("cio_id", th.StringType, required=True),
    # The spec types it as an integer here but as a string of digits everywhere else (object types, objects,
    # object relationships): text, so it joins those streams.
    th.Property("object_type_id", th.StringType, required=True),
    th.Property("cio_object_id", th.StringType, required=True),
    th.Property("object_id", th.StringType),
    th.Property("attributes", FreeObject),
    th.Property("timestamps", th.ObjectType(additional_properties=th.DateTimeType)),
).to_dict()
