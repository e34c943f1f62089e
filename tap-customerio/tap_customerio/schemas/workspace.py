"""Small configuration-like resources (reference §2.12, §2.14 to §2.22)."""

from __future__ import annotations

from singer_sdk import typing as th

from tap_customerio.schemas.common import FreeObject

EXPORT = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("deduplicate_id", th.StringType),
    th.Property("user_id", th.IntegerType),
    th.Property("user_email", th.StringType),
    th.Property("total", th.IntegerType),
    th.Property("type", th.StringType),
    th.Property("failed", th.BooleanType),
    th.Property("description", th.StringType),
    th.Property("downloads", th.IntegerType),
    th.Property("status", th.StringType),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
).to_dict()

SENDER_IDENTITY = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("deduplicate_id", th.StringType),
    th.Property("name", th.StringType),
    th.Property("email", th.StringType),
    th.Property("address", th.StringType),
    th.Property("template_type", th.StringType),
    th.Property("auto_generated", th.BooleanType),
    th.Property("hidden", th.BooleanType),
).to_dict()

REPORTING_WEBHOOK = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("name", th.StringType),
    th.Property("type", th.StringType),
    th.Property("endpoint", th.StringType),
    th.Property("disabled", th.BooleanType),
    th.Property("full_resolution", th.BooleanType),
    th.Property("with_content", th.BooleanType),
    th.Property("events", th.ArrayType(th.StringType)),
).to_dict()

SNIPPET = th.PropertiesList(
    th.Property("name", th.StringType, required=True),
    th.Property("value", th.StringType),
    th.Property("updated_at", th.DateTimeType),
).to_dict()

IP_ADDRESS = th.PropertiesList(th.Property("ip_address", th.StringType, required=True)).to_dict()

COLLECTION = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("name", th.StringType),
    th.Property("bytes", th.IntegerType),
    th.Property("rows", th.IntegerType),
    th.Property("schema", th.ArrayType(th.StringType)),
    th.Property("created_at", th.DateTimeType),
    th.Property("updated_at", th.DateTimeType),
).to_dict()

#: `GET /v1/collections/{id}/content`: the collection's data, any JSON object (spec), with the collection's
#: `updated_at` (the content has no timestamp of its own).
COLLECTION_CONTENT = th.PropertiesList(
    th.Property("collection_id", th.IntegerType, required=True),
    th.Property("updated_at", th.DateTimeType),
    th.Property("content", FreeObject),
).to_dict()

TOPIC = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("identifier", th.StringType),
    th.Property("name", th.StringType),
    th.Property("description", th.StringType),
    th.Property("subscribed_by_default", th.BooleanType),
).to_dict()

WORKSPACE = th.PropertiesList(
    th.Property("id", th.IntegerType, required=True),
    th.Property("name", th.StringType),
    th.Property("messages_sent", th.IntegerType),
    th.Property("billable_messages_sent", th.IntegerType),
    th.Property("people", th.IntegerType),
    th.Property("object_types", th.IntegerType),
    th.Property("objects", th.IntegerType),
).to_dict()

OBJECT_TYPE = th.PropertiesList(
    th.Property("id", th.StringType, required=True),
    th.Property("name", th.StringType),
    th.Property("singular_name", th.StringType),
    th.Property("slug", th.StringType),
    th.Property("singular_slug", th.StringType),
    th.Property("enabled", th.BooleanType),
    th.Property("icon", th.StringType),
).to_dict()

ESP_SUPPRESSION = th.PropertiesList(
    th.Property("suppression_type", th.StringType, required=True),
    th.Property("domain", th.StringType),
    th.Property("email", th.StringType, required=True),
    th.Property("category", th.StringType),
    th.Property("reason", th.StringType),
    th.Property("status", th.StringType),
    th.Property("created", th.DateTimeType),
).to_dict()
