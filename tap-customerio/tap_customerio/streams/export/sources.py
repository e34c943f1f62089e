"""The tap streams an export stream reads through, held by it (composition): each reads pages exactly as the
tap's own stream does (path, paging, fetch-ahead, 403/404 handling) and carries the export stream's name, so
its requests, errors and log lines are the export stream's, and so is the state it commits.

Their own bookmark-related hooks defer to the export stream: the export stream owns the bookmark (its
replication key is an export column, not the API field) and the catalog metadata that sets its replication
method.
"""

from __future__ import annotations

import typing as t

from tap_customerio.pagination import NewestFirstCursorPaginator
from tap_customerio.streams.activities import ActivitiesStream
from tap_customerio.streams.messages import MessagesStream
from tap_customerio.streams.people import CustomersStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_customerio.progress import Progress
    from tap_customerio.streams.export.base import ExportStream


class MessageWindows(MessagesStream):
    """`GET /v1/messages` in the `messages` stream's `start_ts`/`end_ts` windows, starting from the export
    stream's bookmark; `commit_window` writes the export stream's state (the same state entry: same name).

    `rereads`: whether windows start `messages_lookback_days` before the bookmark (metrics land after their
    delivery's creation) or right after it (a delivery never changes)."""

    def __init__(self, owner: ExportStream, *, rereads: bool) -> None:
        super().__init__(tap=owner.owning_tap, name=owner.name)
        self.owner = owner
        self.rereads = rereads

    @property
    def incremental(self) -> bool:
        """The export stream's replication method (its catalog entry), not this reader's."""
        return self.owner.incremental

    def saved_bookmark_unix(self, context: Context | None) -> int | None:
        """The export stream's bookmark (its replication key is `created_at`, not the API's `created`)."""
        return self.owner.saved_bookmark_unix(context)

    def lookback_seconds(self) -> int:
        """`messages_lookback_days` when the windows re-read, else 0."""
        return super().lookback_seconds() if self.rereads else 0

    @property
    def progress(self) -> Progress:
        """The export stream's progress line (pages read here, rows counted there)."""
        return self.owner.progress


class People(CustomersStream):
    """The `customers` stream's search + hydration, read for an export stream."""

    def __init__(self, owner: ExportStream) -> None:
        super().__init__(tap=owner.owning_tap, name=owner.name)
        self.owner = owner

    @property
    def progress(self) -> Progress:
        """The export stream's progress line (pages read here, rows counted there)."""
        return self.owner.progress


class ActivityFeed(ActivitiesStream):
    """`GET /v1/activities` as the export streams read it (not a stream of the catalog): deleted people
    included, newest first down to `stop_at`."""

    def __init__(self, owner: ExportStream, stop_at: int | None, activity_type: str | None = None) -> None:
        super().__init__(tap=owner.owning_tap, name=f"{owner.name}_activity_feed")
        self.stop_at = stop_at
        self.activity_type = activity_type

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Always `deleted=true`: events of people deleted since are still events; `type` when one is asked."""
        params = {**super().get_url_params(context, next_page_token), "deleted": "true"}
        if self.activity_type:
            params["type"] = self.activity_type
        return params

    def get_new_paginator(self) -> NewestFirstCursorPaginator:
        """Stops after the page reaching `stop_at` (not the `activities` stream's bookmark)."""
        return NewestFirstCursorPaginator(
            self.path, records_key=self.records_key, time_key="timestamp", stop_at=self.stop_at
        )
