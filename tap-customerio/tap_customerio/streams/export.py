"""Customer.io's data-warehouse export (v4 parquet files) rebuilt from the App API.

Customer.io's Premium export writes `deliveries`, `metrics`, `subjects`, `outputs`, `content`, `people` and
`attributes` files: the first sync holds all history, later syncs hold only what changed since the previous
one. These streams give the same tables wherever the App API exposes the data (subjects and outputs, the
workflow journeys, are not exposed), so loaders built on the export keep working.

The module has two halves:
- row builders: pure functions from API-shaped dicts (as the App API sends them: unix-second integers,
  ids sometimes as strings) to export rows; they hold every mapping decision and are tested directly;
- streams: the tap's own streams (messages windows, customer search + hydration, content lists) with their
  records turned into export rows, a strict "changed after the bookmark" filter (the export's changesets
  must not repeat rows, unlike the tap's lookback re-reads) and a `seq_num` that grows across runs.
"""

from __future__ import annotations

import json
import time
import typing as t
import uuid
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property

from singer_sdk import SchemaDirectory, StreamSchema

from tap_customerio import schemas
from tap_customerio.client import CustomerIOError, CustomerIOStream
from tap_customerio.concurrency import lookahead
from tap_customerio.pagination import NewestFirstCursorPaginator
from tap_customerio.streams.activities import ActivitiesStream
from tap_customerio.streams.messages import DAY, MessagesStream
from tap_customerio.streams.people import CustomersStream
from tap_customerio.timestamps import iso_to_unix, unix_to_iso

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_customerio.tap import TapCustomerIO

#: Delivery types as the export names them; the App API calls SMS `twilio` and in-app `in_app`.
DELIVERY_TYPES = {"twilio": "sms", "in_app": "in-app"}

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

#: The activity type the feed records when a person is deleted (spec `type` enum).
PROFILE_DELETE = "profile_delete"

#: Namespace of the name-based UUIDs used as metric `event_id`s: the same event always gets the same id.
EVENT_ID_NAMESPACE = uuid.UUID("2deacff0-ccdc-418c-a8a4-69fcb7e456a9")

Row = dict[str, t.Any]


def as_int(value: t.Any) -> t.Any:
    """An id as an integer: the API sends some integer ids as JSON strings (reference §6.1). Anything else
    is passed on unchanged, for the stream's schema check to reject with the record's key."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def as_text(value: t.Any) -> str | None:
    """A value as the export's STRING: strings unchanged, other JSON values as JSON text, null as null."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def as_unix(value: t.Any) -> int | None:
    """A unix time from an integer or a digit string (attribute values are strings); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def delivery_type(api_type: str | None) -> str | None:
    """The export's delivery type for an App API message/content `type`."""
    return DELIVERY_TYPES.get(api_type, api_type) if api_type else None


def delivery_row(message: Mapping[str, t.Any], workspace_id: int) -> Row:
    """A `deliveries` row from a `/v1/messages` record.

    Fields the App API does not expose are typed nulls: `subject_id` (journey path) and `trigger_id`
    (broadcast trigger). API-triggered broadcasts have no `campaign_id` in the API; the export puts the
    broadcast id there. `content_id` is a newsletter variant only, as in the export. Messages of forgotten
    (deleted) people lose their person id, as the export anonymises them.
    """
    identifiers = message.get("customer_identifiers") or {}
    newsletter_id = as_int(message.get("newsletter_id"))
    return {
        "workspace_id": workspace_id,
        "delivery_id": message["id"],
        "internal_customer_id": None if message.get("forgotten") else as_text(identifiers.get("cio_id")),
        "subject_id": None,
        "event_id": message.get("trigger_event_id") or None,
        "delivery_type": delivery_type(message.get("type")),
        "campaign_id": as_int(message.get("campaign_id")) or as_int(message.get("broadcast_id")),
        "action_id": as_int(message.get("action_id")),
        "newsletter_id": newsletter_id,
        "content_id": as_int(message.get("content_id")) if newsletter_id is not None else None,
        "trigger_id": None,
        "created_at": unix_to_iso(message["created"]),
        "transactional_message_id": as_int(message.get("transactional_message_id")),
    }


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


def person_identifiers(customer: Mapping[str, t.Any]) -> Mapping[str, t.Any]:
    """`{cio_id, id, email}` of a hydrated person (the bulk endpoint sends them flat, reference §6.2)."""
    return customer.get("identifiers") or (customer.get("customer") or {}).get("identifiers") or {}


def last_change(customer: Mapping[str, t.Any]) -> int | None:
    """The latest per-attribute update time of a person, i.e. when the profile last changed."""
    times = [as_unix(value) for value in (customer.get("timestamps") or {}).values()]
    return max((time for time in times if time is not None), default=None)


def person_row(customer: Mapping[str, t.Any], workspace_id: int) -> Row:
    """A `people` row from a hydrated person (`POST /v1/customers/attributes` item).

    `deleted` is false: the search only returns people that exist. `suppressed` is null: the App API
    does not say whether a person is suppressed.
    """
    identifiers = person_identifiers(customer)
    attributes = customer.get("attributes") or {}
    return {
        "workspace_id": workspace_id,
        "internal_customer_id": as_text(identifiers["cio_id"]),
        "customer_id": as_text(identifiers.get("id")) or None,
        "email": identifiers.get("email") or None,
        "deleted": False,
        "suppressed": None,
        "unsubscribed": customer.get("unsubscribed"),
        "created_at": unix_to_iso(as_unix(attributes.get("created_at"))),
        "updated_at": unix_to_iso(last_change(customer)),
    }


def deleted_person_row(activity: Mapping[str, t.Any], workspace_id: int) -> Row | None:
    """A `people` row from a `profile_delete` activity: the person's identifiers as the feed keeps them,
    `deleted` true at the activity's time; None when the activity names no `cio_id`."""
    identifiers = activity.get("customer_identifiers") or {}
    cio_id = as_text(identifiers.get("cio_id"))
    if activity.get("type") != PROFILE_DELETE or not cio_id:
        return None
    return {
        "workspace_id": workspace_id,
        "internal_customer_id": cio_id,
        "customer_id": as_text(identifiers.get("id") or activity.get("customer_id")) or None,
        "email": identifiers.get("email") or None,
        "deleted": True,
        "suppressed": None,
        "unsubscribed": None,
        "created_at": None,
        "updated_at": unix_to_iso(as_unix(activity.get("timestamp"))),
    }


def first_seen(customer: Mapping[str, t.Any]) -> int | None:
    """When a person was created: the `created_at` attribute, else the earliest attribute timestamp."""
    created = as_unix((customer.get("attributes") or {}).get("created_at"))
    if created is not None:
        return created
    times = [as_unix(value) for value in (customer.get("timestamps") or {}).values()]
    return min((time for time in times if time is not None), default=None)


def attribute_rows(customer: Mapping[str, t.Any], workspace_id: int, after: int | None = None) -> Iterator[Row]:
    """`attributes` rows of one person: every current attribute when `after` is None (the initial sync)
    or the person was created after `after`, else one row per attribute whose `timestamps` entry is later
    than `after` (a changeset).

    An attribute changed twice between syncs yields one row with its current value, as in the seed's
    12:00/12:05/12:10/12:15 example; an attribute without a timestamp can only appear in an initial sync
    or with a new person.
    """
    cio_id = as_text(person_identifiers(customer)["cio_id"])
    timestamps = customer.get("timestamps") or {}
    if after is not None and (first_seen(customer) or 0) > after:
        after = None
    for name, value in sorted((customer.get("attributes") or {}).items()):
        changed = as_unix(timestamps.get(name))
        if after is not None and (changed is None or changed <= after):
            continue
        yield {
            "workspace_id": workspace_id,
            "internal_customer_id": cio_id,
            "attribute_name": name,
            "attribute_value": as_text(value),
            "timestamp": unix_to_iso(changed),
        }


#: Content kinds: the export's `content_type` → the parent id column the App API record belongs to.
CONTENT_PARENTS = {
    "campaign_action": "campaign_id",
    "broadcast_action": "broadcast_id",
    "newsletter_variant": "newsletter_id",
    "transactional_content": "transactional_message_id",
}


def content_times(item: Mapping[str, t.Any], parent_times: Mapping[str, t.Any] | None) -> Mapping[str, t.Any]:
    """The `created`/`updated` of a content item, or of its parent when the item has none (variants)."""
    return parent_times if item.get("updated") is None and parent_times else item


def content_row(
    content_type: str,
    item: Mapping[str, t.Any],
    parent_id: int,
    workspace_id: int,
    *,
    parent_times: Mapping[str, t.Any] | None = None,
) -> Row:
    """A `content` row from a campaign/broadcast action, newsletter variant or transactional content.

    `content_id` is the item's own id (an action id for actions, so deliveries join on
    `action_id`/`content_id` plus `content_type`). Newsletter variants carry no timestamps in the API, so
    the newsletter's `created`/`updated` (`parent_times`) stand in for them.
    """
    times = content_times(item, parent_times)
    row: Row = {
        "workspace_id": workspace_id,
        "content_type": content_type,
        "content_id": as_int(item["id"]),
        **dict.fromkeys(CONTENT_PARENTS.values()),
        CONTENT_PARENTS[content_type]: as_int(parent_id),
        "delivery_type": delivery_type(item.get("type")),
        "created_at": unix_to_iso(as_unix(times.get("created"))),
        "updated_at": unix_to_iso(as_unix(times.get("updated"))),
    }
    for field in (
        "name",
        "language",
        "sending_state",
        "from",
        "reply_to",
        "recipient",
        "subject",
        "preheader_text",
        "body",
    ):
        row[field] = as_text(item.get(field))
    return row


# --- streams -------------------------------------------------------------------------------------------

EXPORT_SCHEMAS = SchemaDirectory(schemas)

#: Stream-state key holding the last `seq_num` handed out (next to the SDK's bookmark keys).
SEQ_NUM_STATE_KEY = "seq_num"


class ExportStream(CustomerIOStream):
    """Behaviour shared by the export streams; a subclass builds rows in `get_records` from its source.

    Changesets: `changed_after()` is the bookmark of the previous run of *this* stream (None on a first
    run, after a cleared state, or in FULL_TABLE mode), so a stream deselected and selected again catches
    up from its own bookmark and a stream never synced starts with full history. Rows at or before the
    bookmark were exported before and are left out: no lookback re-reads into the changeset, because the
    export's loaders append changesets and a repeated row would be a duplicate.
    """

    #: Rows are built with ISO 8601 times already; the source streams' unix-time paths do not apply to them.
    timestamp_fields: tuple[str, ...] = ()

    @property
    def workspace_id(self) -> int:
        """The `workspace_id` setting, else the only workspace `/v1/workspaces` shows this key (listed once
        per run by the tap). Not a `cached_property`: before Python 3.12 its lock is shared by every instance,
        so a stream waiting on the network inside it would block the other export streams while they hold
        the scheduler's turn, and the run would deadlock."""
        configured = self.config.get("workspace_id")
        if configured not in (None, ""):
            return int(configured)
        workspaces = t.cast("TapCustomerIO", self._tap).workspaces_list()
        if len(workspaces) != 1:
            msg = f"stream '{self.name}' needs the workspace_id setting: the API key sees {len(workspaces)} workspaces"
            raise CustomerIOError(msg)
        return int(workspaces[0]["id"])

    def changed_after(self) -> int | None:
        """Unix time up to which this stream's rows were exported by an earlier run (None: everything)."""
        return self.saved_bookmark_unix(None) if self.incremental else None

    @cached_property
    def _seq_num_floor(self) -> int:
        """Microseconds since the epoch at the start of the run: keeps `seq_num` growing across runs
        even when the state that holds the last one was cleared."""
        return time.time_ns() // 1000

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Stamp the row's `seq_num` (one more than the last one of this stream, kept in its state), then
        check the row against the export schema like every record."""
        state = self.stream_state
        seq_num = max(int(state.get(SEQ_NUM_STATE_KEY, 0)), self._seq_num_floor) + 1
        state[SEQ_NUM_STATE_KEY] = seq_num
        row["seq_num"] = seq_num
        return super().post_process(row, context)


class DeliveriesStream(ExportStream, MessagesStream):
    """`deliveries`: one row per message, read in the `messages` stream's windows from the bookmark."""

    name = "deliveries"
    primary_keys = ("delivery_id",)
    replication_key = "created_at"
    schema = StreamSchema(EXPORT_SCHEMAS, key="export_deliveries")

    def lookback_seconds(self) -> int:
        """No re-read: a delivery row never changes after creation, and earlier ones were exported."""
        return 0

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Deliveries created after the bookmark, window by window. A message without `created` or `type` (the
        spec requires neither) cannot be a row, whose columns require both: it is left out with a warning naming it."""
        after, workspace_id = self.changed_after(), self.workspace_id
        for start_ts, end_ts in self.windows():
            for message in self.request_records({"start_ts": start_ts, "end_ts": end_ts}):
                if message.get("created") is None or not message.get("type"):
                    self.logger.warning(
                        "Stream 'deliveries' leaves out message %s: it has no created time or type", message.get("id")
                    )
                elif after is None or message["created"] > after:
                    yield delivery_row(message, workspace_id)
            self.commit_window()


class ActivityFeed(ActivitiesStream):
    """`GET /v1/activities` as the export streams read it (not a stream of the catalog): deleted people
    included, newest first down to `stop_at`."""

    def __init__(self, owner: CustomerIOStream, stop_at: int | None, activity_type: str | None = None) -> None:
        super().__init__(tap=owner._tap, name=f"{owner.name}_activity_feed")
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


class MetricsStream(ExportStream, MessagesStream):
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
    schema = StreamSchema(EXPORT_SCHEMAS, key="export_metrics")

    @cached_property
    def feed_from(self) -> int:
        """Unix time from which the activity feed is complete (`FEED_RETENTION_DAYS` before the run)."""
        return int(time.time()) - FEED_RETENTION_DAYS * DAY

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Message-timestamp events window by window, then the feed's events."""
        after, workspace_id, feed_from = self.changed_after(), self.workspace_id, self.feed_from
        newest: int | None = None
        for start_ts, end_ts in self.windows():
            for message in self.request_records({"start_ts": start_ts, "end_ts": end_ts}):
                for row in metric_rows(message, workspace_id, after, feed_from):
                    newest = max(newest or 0, iso_to_unix(row["created_at"]))
                    yield row
            self.hold_bookmark(newest, min(end_ts, feed_from - 1))
            self.commit_window()
        stop_at = max(after or 0, feed_from - 1)
        for activity in ActivityFeed(self, stop_at).request_records(None):
            feed_row = activity_metric_row(activity, workspace_id)
            if feed_row is not None and iso_to_unix(feed_row["created_at"]) > stop_at:
                yield feed_row

    def hold_bookmark(self, newest: int | None, limit: int) -> None:
        """Set the progress marker to the newest event emitted so far, capped at `limit`."""
        if newest is None or not self.incremental:
            return
        markers = self.get_context_state(None).setdefault("progress_markers", {})
        markers.update(replication_key=self.replication_key, replication_key_value=unix_to_iso(min(newest, limit)))


class PeopleStream(ExportStream, CustomersStream):
    """`people`: one row per person whose attributes changed after the bookmark (all on a first run), and on
    later runs one row per person deleted since (`deleted` true), from the feed's `profile_delete` activities.

    People deleted before the first sync are left out, as in Customer.io's export. Suppression cannot be told
    apart from deletion through the App API, so `suppressed` stays null (see docs/export.md).
    """

    name = "people"
    primary_keys = ("internal_customer_id",)
    replication_key = "updated_at"
    schema = StreamSchema(EXPORT_SCHEMAS, key="export_people")

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """People from the search + hydration of the `customers` stream."""
        after, workspace_id = self.changed_after(), self.workspace_id
        for customer in super().get_records(context):
            changed = last_change(customer)
            if after is None or (changed is not None and changed > after):
                yield person_row(customer, workspace_id)
        if after is not None:
            yield from self.deleted_since(after, workspace_id)

    def deleted_since(self, after: int, workspace_id: int) -> Iterator[Row]:
        """Rows of the people whose `profile_delete` activity is later than `after`."""
        for activity in ActivityFeed(self, after, PROFILE_DELETE).request_records(None):
            row = deleted_person_row(activity, workspace_id)
            if row is not None and (as_unix(activity.get("timestamp")) or 0) > after:
                yield row


class AttributesStream(ExportStream, CustomersStream):
    """`attributes`: every person's current attributes first, then one row per changed attribute."""

    name = "attributes"
    primary_keys = ("internal_customer_id", "attribute_name")
    replication_key = "timestamp"
    schema = StreamSchema(EXPORT_SCHEMAS, key="export_attributes")

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Attribute rows of every person from the `customers` stream's search + hydration."""
        after, workspace_id = self.changed_after(), self.workspace_id
        for customer in super().get_records(context):
            yield from attribute_rows(customer, workspace_id, after)


#: (`content_type`, parent stream, child stream): the tap's streams whose records make up `content`.
CONTENT_SOURCES = (
    ("campaign_action", "campaigns", "campaign_actions"),
    ("broadcast_action", "broadcasts", "broadcast_actions"),
    ("newsletter_variant", "newsletters", "newsletter_variants"),
    ("transactional_content", "transactional_messages", "transactional_contents"),
)


class ContentStream(ExportStream):
    """`content`: the message contents of four child endpoints in one table.

    The lists are read through the tap's own parent and child streams (their paths, paging, 404 skipping
    for deleted parents and 403 skipping), without touching their state.
    """

    name = "content"
    path = ""  # reads through its source streams, never from a path of its own
    primary_keys = ("content_type", "content_id")
    replication_key = "updated_at"
    schema = StreamSchema(EXPORT_SCHEMAS, key="export_content")
    long_running = True

    def probe_access(self) -> bool:
        """Each source list is probed as its own stream; a forbidden one is skipped when read."""
        return True

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Contents changed after the bookmark, one source after the other."""
        after, workspace_id = self.changed_after(), self.workspace_id
        for content_type, parent_name, child_name in CONTENT_SOURCES:
            streams = t.cast("dict[str, CustomerIOStream]", self._tap.streams)
            parents, children = streams[parent_name], streams[child_name]
            for parent, item in self.children_of(parents, children):
                changed = as_unix(content_times(item, parent).get("updated"))
                if after is None or (changed is not None and changed > after):
                    yield content_row(content_type, item, parent["id"], workspace_id, parent_times=parent)

    def children_of(self, parents: CustomerIOStream, children: CustomerIOStream) -> Iterator[tuple[dict, dict]]:
        """(parent, child record) pairs in parent order; each child list's first page is fetched a few
        parents ahead, so request latency overlaps as for the tap's child streams."""
        contexts = ((parent, parents.get_child_context(parent, None)) for parent in parents.request_records(None))
        for parent, child_context in lookahead(
            contexts,
            lambda pair: children.prefetch_first_page(pair[1]),
            depth=2 * int(self.config.get("max_concurrency", 4)),
        ):
            for item in children.request_records(child_context):
                yield parent, item


#: The export streams, in the order the tap registers them.
EXPORT_STREAM_TYPES = (DeliveriesStream, MetricsStream, PeopleStream, AttributesStream, ContentStream)
