"""Campaigns and their actions."""

from __future__ import annotations

from tap_customerio.client import CustomerIOStream
from tap_customerio.schemas import campaigns as schemas
from tap_customerio.streams.actions import ActionStream

CONTENT_TIMESTAMPS = ("created", "updated")


class CampaignsStream(CustomerIOStream):
    """`GET /v1/campaigns`: one unpaged list; CDC on `updated`."""

    name = "campaigns"
    path = "/campaigns"
    records_key = "campaigns"
    primary_keys = ("id",)
    replication_key = "updated"
    schema = schemas.CAMPAIGN
    timestamp_fields = ("created", "updated", "first_started")
    child_context_key = "campaign_id"
    long_running = True


class CampaignActionsStream(ActionStream):
    """`GET /v1/campaigns/{id}/actions`: up to 10 per page (no `limit`), bookmark per campaign."""

    name = "campaign_actions"
    parent_stream_type = CampaignsStream
    path = "/campaigns/{campaign_id}/actions"
    records_key = "actions"
    paging = "cursor"
    primary_keys = ("campaign_id", "id")
    replication_key = "updated"
    state_partitioning_keys = ("campaign_id",)
    schema = schemas.CAMPAIGN_ACTION
    timestamp_fields = CONTENT_TIMESTAMPS
