"""API-triggered broadcasts, their actions and triggers."""

from __future__ import annotations

import typing as t

from tap_customerio.client import CustomerIOStream
from tap_customerio.schemas import broadcasts as schemas
from tap_customerio.streams.actions import ActionStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class BroadcastsStream(CustomerIOStream):
    """`GET /v1/broadcasts`: one unpaged list; CDC on `updated`."""

    name = "broadcasts"
    path = "/broadcasts"
    records_key = "broadcasts"
    primary_keys = ("id",)
    replication_key = "updated"
    schema = schemas.BROADCAST
    timestamp_fields = ("created", "updated", "first_started")
    child_context_key = "broadcast_id"

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """`tags: "nil"` (the spec's broadcast example writes no tags so) is no tags."""
        if row.get("tags") == "nil":
            row["tags"] = None
        return super().post_process(row, context)


class BroadcastActionsStream(ActionStream):
    """`GET /v1/broadcasts/{id}/actions`: follows `next` when present (seen live); bookmark per broadcast."""

    name = "broadcast_actions"
    parent_stream_type = BroadcastsStream
    path = "/broadcasts/{broadcast_id}/actions"
    records_key = "actions"
    paging = "cursor"
    primary_keys = ("broadcast_id", "id")
    replication_key = "updated"
    state_partitioning_keys = ("broadcast_id",)
    schema = schemas.BROADCAST_ACTION
    timestamp_fields = ("created", "updated")


class BroadcastTriggersStream(CustomerIOStream):
    """`GET /v1/broadcasts/{id}/triggers`: full table (`processed_at` changes after `created_at`)."""

    name = "broadcast_triggers"
    parent_stream_type = BroadcastsStream
    path = "/broadcasts/{broadcast_id}/triggers"
    records_key = "triggers"
    primary_keys = ("id",)
    state_partitioning_keys = ()
    schema = schemas.BROADCAST_TRIGGER
    timestamp_fields = ("created_at", "processed_at")
