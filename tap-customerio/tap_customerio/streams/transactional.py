"""Transactional messages and their contents."""

from __future__ import annotations

from tap_customerio.client import CustomerIOStream
from tap_customerio.schemas import transactional as schemas


class TransactionalMessagesStream(CustomerIOStream):
    """`GET /v1/transactional` (envelope `messages`): one unpaged list; CDC on `updated_at`."""

    name = "transactional_messages"
    path = "/transactional"
    records_key = "messages"
    primary_keys = ("id",)
    replication_key = "updated_at"
    schema = schemas.TRANSACTIONAL_MESSAGE
    timestamp_fields = ("created_at", "updated_at")
    child_context_key = "transactional_id"


class TransactionalContentsStream(CustomerIOStream):
    """`GET /v1/transactional/{id}/contents`: bookmark on `updated` per transactional message."""

    name = "transactional_contents"
    parent_stream_type = TransactionalMessagesStream
    path = "/transactional/{transactional_id}/contents"
    records_key = "contents"
    primary_keys = ("transactional_id", "id")
    replication_key = "updated"
    state_partitioning_keys = ("transactional_id",)
    schema = schemas.TRANSACTIONAL_CONTENT
    timestamp_fields = ("created", "updated")
