"""Newsletters, their content variants and test groups."""

from __future__ import annotations

import typing as t

from tap_customerio.client import CustomerIOStream
from tap_customerio.schemas import newsletters as schemas

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

CONTENT_TIMESTAMPS = ("created", "updated")


class NewslettersStream(CustomerIOStream):
    """`GET /v1/newsletters`: cursor pages of at most 100; CDC on `updated`."""

    name = "newsletters"
    path = "/newsletters"
    records_key = "newsletters"
    paging = "cursor"
    page_size = 100
    primary_keys = ("id",)
    replication_key = "updated"
    schema = schemas.NEWSLETTER
    timestamp_fields = ("created", "updated", "sent_at")
    child_context_key = "newsletter_id"
    long_running = True


class NewsletterVariantsStream(CustomerIOStream):
    """`GET /v1/newsletters/{id}/contents`: no change timestamp, so full table."""

    name = "newsletter_variants"
    parent_stream_type = NewslettersStream
    path = "/newsletters/{newsletter_id}/contents"
    records_key = "contents"
    primary_keys = ("newsletter_id", "id")
    state_partitioning_keys = ()
    schema = schemas.NEWSLETTER_VARIANT
    timestamp_fields = CONTENT_TIMESTAMPS

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        """A variant's children (its metrics) are keyed by the newsletter and the variant's `content_id`."""
        return {**(context or {}), "content_id": record["id"]}


class NewsletterTestGroupsStream(CustomerIOStream):
    """`GET /v1/newsletters/{id}/test_groups`: full table."""

    name = "newsletter_test_groups"
    parent_stream_type = NewslettersStream
    path = "/newsletters/{newsletter_id}/test_groups"
    records_key = "test_groups"
    primary_keys = ("newsletter_id", "id")
    state_partitioning_keys = ()
    schema = schemas.NEWSLETTER_TEST_GROUP

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """`content_ids` as strings (the spec's type; its example and `newsletters.content_ids` are integers)."""
        if isinstance(row.get("content_ids"), list):
            row["content_ids"] = [
                str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in row["content_ids"]
            ]
        return super().post_process(row, context)
