"""Activities: newest first, so an incremental run stops paging at the bookmark minus lookback."""

from __future__ import annotations

import typing as t

from tap_customerio.client import CustomerIOStream
from tap_customerio.pagination import NewestFirstCursorPaginator
from tap_customerio.schemas import activities as schemas

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class ActivitiesStream(CustomerIOStream):
    """`GET /v1/activities`: 100 per page, `deleted=true` when deleted people are wanted."""

    name = "activities"
    path = "/activities"
    records_key = "activities"
    paging = "cursor"
    page_size = 100
    primary_keys = ("id",)
    replication_key = "timestamp"
    start_date_applies = True
    long_running = True
    schema = schemas.ACTIVITY
    timestamp_fields = ("timestamp",)

    def lookback_seconds(self) -> int:
        """Activities arrive late less often than entity edits: their own, shorter lookback."""
        return self.settings.activities_lookback_minutes * 60

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Adds `deleted=true` when `include_deleted_people` is set."""
        params = super().get_url_params(context, next_page_token)
        if self.settings.include_deleted_people:
            params["deleted"] = "true"
        return params

    def get_new_paginator(self) -> NewestFirstCursorPaginator:
        """Stops after the page that reaches the CDC threshold (records below it are filtered out)."""
        return NewestFirstCursorPaginator(
            self.path,
            records_key=self.records_key,
            time_key=self.replication_key,
            stop_at=self.cdc_threshold(None),
        )
