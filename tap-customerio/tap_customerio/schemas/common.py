"""Schema fragments shared by several resources."""

from __future__ import annotations

from singer_sdk import typing as th

#: Free-form JSON object whose keys vary (attributes, headers, filters).
FreeObject = th.ObjectType(additional_properties=True)


def identifiers() -> th.ObjectType:
    """`{email, id, cio_id}` as sent with people, memberships and deliveries (email/id may be null)."""
    return th.ObjectType(
        th.Property("email", th.StringType),
        th.Property("id", th.StringType),
        th.Property("cio_id", th.StringType),
    )


def typed_refs(id_type: th.JSONTypeHelper | type[th.JSONTypeHelper]) -> th.ArrayType:
    """`[{type, id}]` references from a campaign or broadcast to its actions and templates."""
    return th.ArrayType(th.ObjectType(th.Property("type", th.StringType), th.Property("id", id_type)))


def action_sender_ids() -> tuple[th.Property, ...]:
    """`from_id` / `reply_to_id` of campaign and broadcast actions: integers in the spec, strings in Airbyte's
    manifest; declared as strings, which hold both without loss."""
    return th.Property("from_id", th.StringType), th.Property("reply_to_id", th.StringType)


def message_content(*extra: th.Property) -> th.PropertiesList:
    """Fields of a message content: campaign/broadcast actions, newsletter variants, transactional contents.

    `id` is a string: campaign and broadcast action ids arrive as JSON strings live (reference §6.1);
    the other contents are declared with their own `id` type by passing it in `extra`.
    """
    names = {prop.name for prop in extra}
    base: list[th.Property] = [
        th.Property("id", th.StringType),
        th.Property("deduplicate_id", th.StringType),
        th.Property("name", th.StringType),
        th.Property("layout", th.StringType),
        th.Property("created", th.DateTimeType),
        th.Property("updated", th.DateTimeType),
        th.Property("body", th.StringType),
        th.Property("body_amp", th.StringType),
        th.Property("language", th.StringType),
        th.Property("type", th.StringType),
        th.Property("sending_state", th.StringType),
        th.Property("from", th.StringType),
        th.Property("from_id", th.IntegerType),
        th.Property("reply_to", th.StringType),
        th.Property("reply_to_id", th.IntegerType),
        th.Property("preprocessor", th.StringType),
        th.Property("recipient", th.StringType),
        th.Property("subject", th.StringType),
        th.Property("bcc", th.StringType),
        th.Property("fake_bcc", th.BooleanType),
        th.Property("preheader_text", th.StringType),
        th.Property("headers", FreeObject),
        th.Property("image_url", th.StringType),
        th.Property("url", th.StringType),
        th.Property("method", th.StringType),
    ]
    return th.PropertiesList(*extra, *(prop for prop in base if prop.name not in names))
