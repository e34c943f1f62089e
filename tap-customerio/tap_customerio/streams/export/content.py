"""`content` (`content.json`): campaign and broadcast actions, newsletter variants and transactional contents."""

from __future__ import annotations

import typing as t

from tap_customerio.concurrency import lookahead
from tap_customerio.streams.export.base import ExportStream, export_schema
from tap_customerio.streams.export.values import Row, as_int, as_text, as_unix, delivery_type
from tap_customerio.timestamps import unix_to_iso

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from singer_sdk.helpers.types import Context

    from tap_customerio.client import CustomerIOStream

#: Content kinds: the export's `content_type` → the parent id column the App API record belongs to.
CONTENT_PARENTS = {
    "campaign_action": "campaign_id",
    "broadcast_action": "broadcast_id",
    "newsletter_variant": "newsletter_id",
    "transactional_content": "transactional_message_id",
}

#: (`content_type`, parent stream, child stream): the tap's streams whose records make up `content`.
CONTENT_SOURCES = (
    ("campaign_action", "campaigns", "campaign_actions"),
    ("broadcast_action", "broadcasts", "broadcast_actions"),
    ("newsletter_variant", "newsletters", "newsletter_variants"),
    ("transactional_content", "transactional_messages", "transactional_contents"),
)

#: Text columns copied from the content item.
TEXT_FIELDS = (
    "name",
    "language",
    "sending_state",
    "from",
    "reply_to",
    "recipient",
    "subject",
    "preheader_text",
    "body",
)


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
    for field in TEXT_FIELDS:
        row[field] = as_text(item.get(field))
    return row


class ContentStream(ExportStream):
    """`content`: the message contents of four child endpoints in one table.

    The lists are read through the tap's own parent and child streams (their paths, paging, 404 skipping
    for deleted parents and 403 skipping), without touching their state.
    """

    name = "content"
    primary_keys = ("content_type", "content_id")
    replication_key = "updated_at"
    schema = export_schema("content")

    def probe_access(self) -> bool:
        """Each source list is probed as its own stream; a forbidden one is skipped when read."""
        return True

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Contents changed after the bookmark, one source after the other."""
        after, workspace_id = self.changed_after(), self.workspace_id
        for content_type, *names in CONTENT_SOURCES:
            parents, children = (t.cast("CustomerIOStream", self.owning_tap.streams[name]) for name in names)
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
            depth=2 * self.settings.max_concurrency,
        ):
            for item in children.request_records(child_context):
                yield parent, item
