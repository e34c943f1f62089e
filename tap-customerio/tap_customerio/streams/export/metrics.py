"""`metrics` (`metrics.json`): one row per delivery event, from the activity feed and the messages' `metrics`."""

from __future__ import annotations

import time
import typing as t
import uuid
from functools import cached_property

from tap_customerio.sdk_hooks import hold_progress_marker
from tap_customerio.streams.export.base import ExportStream, export_schema
from tap_customerio.streams.export.sources import ActivityFeed, MessageWindows
from tap_customerio.streams.export.values import Row, as_int, as_text, as_unix
from tap_customerio.streams.messages import DAY, MessagesStream
from tap_customerio.timestamps import iso_to_unix, unix_to_iso

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from singer_sdk.helpers.types import Context

#: Keys of a message's `metrics` that are counts, not the time an event happened (reference §2.8).
COUNT_METRICS = frozenset({"human_clicked", "prefetch_clicked", "human_opened", "prefetch_opened"})

#: Events whose cause is the message's `failure_message`.
FAILURE_METRICS = frozenset({"bounced", "dropped", "failed", "undeliverable"})

#: Delivery event types of the activity feed, `<metric>_<message type>` → metric: the `/v1/activities` `type`
#: enum of the published spec for the channels a message `type` names. The `*_action`/`*_content` types name no
#: channel, so they are not read; every other metric of a message (`delivered` of a webhook, `opened` of an SMS,
#: ...) has no activity type and comes from the message's `metrics` timestamps.
FEED_EVENT_TYPES = {
    f"{metric}_{channel}": metric
    for metric, channels in {
        "attempted": ("email", "in_app", "push", "slack", "twilio", "webhook"),
        "bounced": ("email", "push", "twilio"),
        "clicked": ("email", "in_app", "push", "twilio", "webhook"),
        "converted": ("email", "in_app", "slack", "twilio", "webhook"),
        "deferred": ("email", "in_app", "push", "slack", "twilio", "webhook"),
        "delivered": ("email", "push", "twilio"),
        "drafted": ("email", "in_app", "push", "slack", "twilio", "webhook"),
        "dropped": ("email", "push", "twilio", "webhook"),
        "failed": ("email", "in_app", "push", "slack", "twilio", "webhook"),
        "opened": ("email", "in_app", "push"),
        "sent": ("email", "in_app", "push", "slack", "twilio", "webhook"),
        "spammed": ("email",),
        "undeliverable": ("email", "in_app", "push", "slack", "twilio", "webhook"),
        "unsubscribed": ("email",),
    }.items()
    for channel in channels
}

#: Days of history the activity feed is guaranteed to hold ("guaranteed to return activity history within the
#: past 30 days", spec): feed events from then on, message timestamps before.
FEED_RETENTION_DAYS = 30

#: Namespace of the name-based UUIDs used as metric `event_id`s: the same event always gets the same id.
EVENT_ID_NAMESPACE = uuid.UUID("2deacff0-ccdc-418c-a8a4-69fcb7e456a9")


def metric_event_id(delivery_id: str, metric: str, timestamp: int) -> str:
    """A stable id for one delivery event: the same (delivery, metric, time) gives the same id every run."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{delivery_id}/{metric}/{timestamp}"))


def metric_events(message: Mapping[str, t.Any]) -> Iterator[tuple[str, int]]:
    """`(metric, unix time)` of every event recorded in a message's `metrics`, in metric-name order."""
    for metric, value in sorted((message.get("metrics") or {}).items()):
        timestamp = as_unix(value)
        if metric not in COUNT_METRICS and timestamp is not None:
            yield metric, timestamp


def in_feed(metric: str, message_type: str | None) -> bool:
    """Whether the activity feed has an event type for this metric of a message of this type."""
    return f"{metric}_{message_type}" in FEED_EVENT_TYPES


def metric_rows(
    message: Mapping[str, t.Any], workspace_id: int, after: int | None = None, feed_from: int | None = None
) -> Iterator[Row]:
    """`metrics` rows for the events of one message recorded after `after` (all events when None), leaving out
    those the activity feed serves: event types it has, at or after `feed_from` (None: the feed is not used)."""
    for metric, timestamp in metric_events(message):
        if after is not None and timestamp <= after:
            continue
        if feed_from is not None and timestamp >= feed_from and in_feed(metric, message.get("type")):
            continue
        yield {
            "workspace_id": workspace_id,
            "event_id": metric_event_id(message["id"], metric, timestamp),
            "delivery_id": message["id"],
            "metric": metric,
            "reason": (message.get("failure_message") or None) if metric in FAILURE_METRICS else None,
            "link_id": None,
            "link_url": None,
            "created_at": unix_to_iso(timestamp),
        }


def activity_metric_row(activity: Mapping[str, t.Any], workspace_id: int) -> Row | None:
    """A `metrics` row from a delivery event of the activity feed, None for any other activity.

    `event_id` is the activity's own id (stable, one per event, so a second open or click is a row of its own);
    the event data carries the link of a click (`link_id`, `href`) and the cause of a failure
    (`failure_message`), as the reporting webhooks describe them.
    """
    metric = FEED_EVENT_TYPES.get(activity.get("type") or "")
    data = activity.get("data") or {}
    delivery_id = activity.get("delivery_id") or data.get("delivery_id")
    timestamp = as_unix(activity.get("timestamp"))
    if metric is None or not delivery_id or timestamp is None or not activity.get("id"):
        return None
    clicked = metric == "clicked"
    return {
        "workspace_id": workspace_id,
        "event_id": str(activity["id"]),
        "delivery_id": str(delivery_id),
        "metric": metric,
        "reason": as_text(data.get("failure_message") or None) if metric in FAILURE_METRICS else None,
        "link_id": as_int(data.get("link_id")) if clicked else None,
        "link_url": as_text(data.get("href") or None) if clicked else None,
        "created_at": unix_to_iso(timestamp),
    }


class MetricsStream(ExportStream):
    """`metrics`: one row per delivery event after the bookmark.

    Two sources, split so that no event comes from both: the activity feed (every open and click its own row,
    clicks with their link) for the event types it has, from `FEED_RETENTION_DAYS` before the run on; the
    messages' `metrics` timestamps (first occurrence of each metric) for the other event types and for older
    events. Message windows start `messages_lookback_days` before the bookmark, so fallback events on older
    deliveries are out of reach; feed events are read down to the bookmark whatever their delivery's age.

    The messages are read first, window by window, with the bookmark held at the newest event emitted but never
    past the window's end nor the feed's start (the feed's events are not emitted yet); the feed is read last,
    newest first, and its events move the bookmark when the stream completes.
    """

    name = "metrics"
    primary_keys = ("event_id",)
    replication_key = "created_at"
    path = MessagesStream.path  # the endpoint read first (named by `--about`), through `messages` below
    schema = export_schema("metrics")

    @cached_property
    def messages(self) -> MessageWindows:
        """The message windows this stream reads, from `messages_lookback_days` before the bookmark (building
        them sends no request, see `ExportStream`)."""
        return MessageWindows(self, rereads=True)

    @cached_property
    def feed_from(self) -> int:
        """Unix time from which the activity feed is complete (`FEED_RETENTION_DAYS` before the run)."""
        return int(time.time()) - FEED_RETENTION_DAYS * DAY

    def probe_access(self) -> bool:
        """Readable when `/v1/messages` is."""
        return self.messages.probe_access()

    def backfill_estimate(self) -> tuple[int, str] | None:
        """The windows' pages."""
        return self.messages.backfill_estimate()

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Message-timestamp events window by window, then the feed's events."""
        after, workspace_id, feed_from, messages = (
            self.changed_after(),
            self.workspace_id,
            self.feed_from,
            self.messages,
        )
        newest: int | None = None
        for start_ts, end_ts in messages.windows():
            for message in messages.request_records({"start_ts": start_ts, "end_ts": end_ts}):
                for row in metric_rows(message, workspace_id, after, feed_from):
                    newest = max(newest or 0, iso_to_unix(row["created_at"]))
                    yield row
            self.hold_bookmark(newest, min(end_ts, feed_from - 1))
            messages.commit_window()
        stop_at = max(after or 0, feed_from - 1)
        for activity in ActivityFeed(self, stop_at).request_records(None):
            event = activity_metric_row(activity, workspace_id)
            if event is not None and iso_to_unix(event["created_at"]) > stop_at:
                yield event

    def hold_bookmark(self, newest: int | None, limit: int) -> None:
        """Set the progress marker to the newest event emitted so far, capped at `limit`."""
        if newest is None or not self.incremental:
            return
        hold_progress_marker(self.get_context_state(None), self.replication_key, unix_to_iso(min(newest, limit)))
