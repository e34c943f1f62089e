"""Segments and their memberships."""

from __future__ import annotations

import typing as t

from tap_customerio.client import CustomerIOStream
from tap_customerio.schemas import people as people_schemas
from tap_customerio.schemas import segments as schemas

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests


class SegmentsStream(CustomerIOStream):
    """`GET /v1/segments`: one unpaged list; CDC on the live-only `updated_at`."""

    name = "segments"
    path = "/segments"
    records_key = "segments"
    primary_keys = ("id",)
    replication_key = "updated_at"
    schema = schemas.SEGMENT
    timestamp_fields = ("created_at", "updated_at")
    child_context_key = "segment_id"


class SegmentMembershipsStream(CustomerIOStream):
    """`GET /v1/segments/{id}/membership`: up to 30000 per page; records from `identifiers` (members
    without an `id` are an empty string in `ids` but complete in `identifiers`)."""

    name = "segment_memberships"
    parent_stream_type = SegmentsStream
    path = "/segments/{segment_id}/membership"
    records_key = "identifiers"
    paging = "cursor"
    page_size = 30000
    continue_on_empty_page = True
    primary_keys = ("segment_id", "cio_id")
    state_partitioning_keys = ()
    schema = people_schemas.SEGMENT_MEMBERSHIP

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """Flatten `{email, id, cio_id}` identifiers into membership rows."""
        return [
            {"cio_id": ident.get("cio_id"), "id": ident.get("id"), "email": ident.get("email")}
            for ident in super().parse_response(response)
        ]


class SegmentUsageStream(CustomerIOStream):
    """`GET /v1/segments/{id}/used_by`: one record per segment, the campaigns and newsletters using it (Airbyte's
    `segment_usage`, Fivetran's segment dependency tables); no timestamps, so full table."""

    name = "segment_usage"
    parent_stream_type = SegmentsStream
    path = "/segments/{segment_id}/used_by"
    records_key = "used_by"
    primary_keys = ("segment_id",)
    state_partitioning_keys = ()
    schema = schemas.SEGMENT_USAGE

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """The `used_by` object is the one record (a null one is none)."""
        usage = self.records_in(response, self.records_key)
        return [usage] if usage else []
