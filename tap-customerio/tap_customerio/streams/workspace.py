"""Small configuration-like resources: exports, senders, webhooks, snippets, IPs, collections, topics,
workspaces, object types and ESP suppressions."""

from __future__ import annotations

import typing as t
from functools import cached_property

from tap_customerio.client import CustomerIOStream
from tap_customerio.responses import parsed_body
from tap_customerio.schemas import workspace as schemas
from tap_customerio.streams.rejected import SkipsRejectedRequests
from tap_customerio.timestamps import iso_to_unix

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context


class ExportsStream(CustomerIOStream):
    """`GET /v1/exports`: CDC on `updated_at`."""

    name = "exports"
    path = "/exports"
    records_key = "exports"
    primary_keys = ("id",)
    replication_key = "updated_at"
    schema = schemas.EXPORT
    timestamp_fields = ("created_at", "updated_at")


class SenderIdentitiesStream(CustomerIOStream):
    """`GET /v1/sender_identities`: read once per `hidden` value, since the API lists hidden senders only
    when asked (`hidden=true`) and visible ones otherwise (reference §2.14). `hidden` is not in the spec:
    an API that ignores it lists every sender on both reads, so a sender already emitted is not emitted again.
    """

    name = "sender_identities"
    path = "/sender_identities"
    records_key = "sender_identities"
    paging = "cursor"
    page_size = 100
    primary_keys = ("id",)
    schema = schemas.SENDER_IDENTITY

    @property
    def partitions(self) -> list[dict]:
        """Visible senders, then hidden ones."""
        return [{"hidden": "false"}, {"hidden": "true"}]

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Adds the `hidden` filter of the partition."""
        return {**super().get_url_params(context, next_page_token), "hidden": (context or {}).get("hidden")}

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Senders of this partition not already emitted by the other one (sender lists are small)."""
        for record in super().get_records(context):
            if record.get("id") not in self._emitted:
                self._emitted.add(record.get("id"))
                yield record

    @cached_property
    def _emitted(self) -> set[t.Any]:
        return set()

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """A sender without `hidden` (the spec has none) keeps it unknown instead of the partition's filter."""
        row.setdefault("hidden", None)
        return super().post_process(row, context)


class ReportingWebhooksStream(CustomerIOStream):
    """`GET /v1/reporting_webhooks`: no timestamps, full table."""

    name = "reporting_webhooks"
    path = "/reporting_webhooks"
    records_key = "reporting_webhooks"
    primary_keys = ("id",)
    schema = schemas.REPORTING_WEBHOOK


class SnippetsStream(CustomerIOStream):
    """`GET /v1/snippets`: keyed by `name` (snippets have no id); CDC on `updated_at`."""

    name = "snippets"
    path = "/snippets"
    records_key = "snippets"
    primary_keys = ("name",)
    replication_key = "updated_at"
    schema = schemas.SNIPPET
    timestamp_fields = ("updated_at",)


class IpAddressesStream(CustomerIOStream):
    """`GET /v1/info/ip_addresses`: a list of strings, emitted as one record per address."""

    name = "ip_addresses"
    path = "/info/ip_addresses"
    records_key = "ip_addresses"
    primary_keys = ("ip_address",)
    schema = schemas.IP_ADDRESS

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """Wrap each address string in a record."""
        return [{"ip_address": ip} for ip in super().parse_response(response)]


class CollectionsStream(CustomerIOStream):
    """`GET /v1/collections` (metadata only): CDC on `updated_at`."""

    name = "collections"
    path = "/collections"
    records_key = "collections"
    primary_keys = ("id",)
    replication_key = "updated_at"
    schema = schemas.COLLECTION
    timestamp_fields = ("created_at", "updated_at")

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        """Contents are read per collection and carry its `updated_at` (they have no timestamp of their own)."""
        return {"collection_id": record["id"], "updated_at": record.get("updated_at")}


class CollectionContentsStream(CustomerIOStream):
    """`GET /v1/collections/{id}/content`: one record per collection holding its data (a JSON object).

    The content has no timestamp, so the collection's `updated_at` is its replication key: an incremental run
    requests only the contents of collections updated after the bookmark (minus lookback).
    """

    name = "collection_contents"
    parent_stream_type = CollectionsStream
    path = "/collections/{collection_id}/content"
    primary_keys = ("collection_id",)
    replication_key = "updated_at"
    state_partitioning_keys = ()
    schema = schemas.COLLECTION_CONTENT

    def unchanged(self, context: Context | None) -> bool:
        """Whether the collection of `context` was not updated since the bookmark (minus lookback)."""
        threshold = self.cdc_threshold(context)
        updated = (context or {}).get("updated_at")
        if threshold is None or updated is None:
            return False
        # The parent prefetches with its raw record (unix seconds), syncs with the processed one (ISO 8601).
        return (updated if isinstance(updated, int) else iso_to_unix(updated)) <= threshold

    def prefetch_first_page(self, context: Context | None, *, with_children: bool = False) -> None:
        """No request ahead for a collection whose contents are not read."""
        if not self.unchanged(context):
            super().prefetch_first_page(context, with_children=with_children)

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """The content of a collection updated since the bookmark."""
        if not self.unchanged(context):
            yield from self.request_records(context)

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """The whole body is the content."""
        return [{"content": parsed_body(response)}]


class TopicsStream(CustomerIOStream):
    """`GET /v1/subscription_topics` (envelope `topics`): full table."""

    name = "topics"
    path = "/subscription_topics"
    records_key = "topics"
    primary_keys = ("id",)
    schema = schemas.TOPIC


class WorkspacesStream(CustomerIOStream):
    """`GET /v1/workspaces`: billing-period counters, full table."""

    name = "workspaces"
    path = "/workspaces"
    records_key = "workspaces"
    primary_keys = ("id",)
    schema = schemas.WORKSPACE


class ObjectTypesStream(CustomerIOStream):
    """`GET /v1/object_types` (envelope `types`): ids are strings; full table."""

    name = "types"
    path = "/object_types"
    records_key = "types"
    primary_keys = ("id",)
    schema = schemas.OBJECT_TYPE
    child_context_key = "object_type_id"


class EspSuppressionStream(SkipsRejectedRequests):
    """`GET /v1/esp/suppression/{type}` for all four types, offset-paged 1000 at a time.

    The spec enumerates `bounces` and `spam_reports`; its text and Airbyte also read `blocks` and
    `invalid_emails`, so a 400 for one type skips that type with a warning. With `esp_suppression_domains`
    every type is read per sending domain (`domain=`), and the domain is part of the key. Keyed by
    (type, [domain,] email): one address can be suppressed for several reasons.
    """

    name = "eps_suppression"
    path = "/esp/suppression/{suppression_type}"
    records_key = "suppressions"
    paging = "offset"
    page_size = 1000
    primary_keys: tuple[str, ...] = ("suppression_type", "email")
    schema = schemas.ESP_SUPPRESSION
    timestamp_fields = ("created",)

    @property
    def domains(self) -> list[str]:
        """The configured sending domains (none: one read per type, without `domain`)."""
        return list(self.settings.esp_suppression_domains)

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """The domain is part of the key when suppressions are read per domain."""
        super().__init__(*args, **kwargs)
        if self.domains:
            self.primary_keys = ("suppression_type", "domain", "email")

    @property
    def partitions(self) -> list[dict]:
        """One partition per suppression type (and domain)."""
        kinds = ("bounces", "blocks", "spam_reports", "invalid_emails")
        if not self.domains:
            return [{"suppression_type": kind} for kind in kinds]
        return [{"suppression_type": kind, "domain": domain} for kind in kinds for domain in self.domains]

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Adds the partition's `domain`, if any."""
        params = super().get_url_params(context, next_page_token)
        if context and context.get("domain"):
            params["domain"] = context["domain"]
        return params

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """Suppressions with the page's `category`."""
        category = parsed_body(response).get("category")
        return [{**row, "category": category} for row in super().parse_response(response)]
