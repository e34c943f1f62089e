"""`deliveries` (`deliveries.json`): one row per message, from `GET /v1/messages` windows."""

from __future__ import annotations

import typing as t
from functools import cached_property

from tap_customerio.streams.export.base import ExportStream, export_schema
from tap_customerio.streams.export.sources import MessageWindows
from tap_customerio.streams.export.values import Row, as_int, as_text, delivery_type
from tap_customerio.streams.messages import MessagesStream
from tap_customerio.timestamps import unix_to_iso

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from singer_sdk.helpers.types import Context


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


class DeliveriesStream(ExportStream):
    """`deliveries`: one row per message created after the bookmark, read in the `messages` stream's windows
    from the bookmark (no re-read: a delivery row never changes after creation, and earlier ones were
    exported)."""

    name = "deliveries"
    primary_keys = ("delivery_id",)
    replication_key = "created_at"
    path = MessagesStream.path  # the endpoint read (named by `--about`), through `messages` below
    schema = export_schema("deliveries")

    @cached_property
    def messages(self) -> MessageWindows:
        """The message windows this stream reads (building them sends no request, see `ExportStream`)."""
        return MessageWindows(self, rereads=False)

    def probe_access(self) -> bool:
        """Readable when `/v1/messages` is."""
        return self.messages.probe_access()

    def backfill_estimate(self) -> tuple[int, str] | None:
        """The windows' pages."""
        return self.messages.backfill_estimate()

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Deliveries created after the bookmark, window by window. A message without `created` or `type` (the
        spec requires neither) cannot be a row, whose columns require both: it is left out with a warning naming it."""
        after, workspace_id, messages = self.changed_after(), self.workspace_id, self.messages
        for start_ts, end_ts in messages.windows():
            for message in messages.request_records({"start_ts": start_ts, "end_ts": end_ts}):
                if message.get("created") is None or not message.get("type"):
                    self.logger.warning(
                        "Stream 'deliveries' leaves out message %s: it has no created time or type", message.get("id")
                    )
                elif after is None or message["created"] > after:
                    yield delivery_row(message, workspace_id)
            messages.commit_window()
