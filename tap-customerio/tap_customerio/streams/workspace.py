"""Small configuration-like resources: exports, senders, webhooks, snippets, IPs, collections, topics,
workspaces, object types and ESP suppressions."""

from __future__ import annotations

import typing as t

from tap_customerio.client import CustomerIOStream
from tap_customerio.responses import parsed_body
from tap_customerio.schemas import workspace as schemas

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests


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
    when asked (`hidden=true`) and visible ones otherwise (reference §2.14)."""

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

    def get_url_params(self, context: dict | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Adds the `hidden` filter of the partition."""
        return {**super().get_url_params(context, next_page_token), "hidden": (context or {}).get("hidden")}


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


class EspSuppressionStream(CustomerIOStream):
    """`GET /v1/esp/suppression/{type}` for all four types, offset-paged 1000 at a time.

    Keyed by (type, email): one address can be suppressed for several reasons.
    """

    name = "eps_suppression"
    path = "/esp/suppression/{suppression_type}"
    records_key = "suppressions"
    paging = "offset"
    page_size = 1000
    primary_keys = ("suppression_type", "email")
    schema = schemas.ESP_SUPPRESSION
    timestamp_fields = ("created",)

    @property
    def partitions(self) -> list[dict]:
        """One partition per suppression type."""
        return [{"suppression_type": kind} for kind in ("bounces", "blocks", "spam_reports", "invalid_emails")]

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """Suppressions with the page's `category`."""
        category = parsed_body(response).get("category")
        return [{**row, "category": category} for row in super().parse_response(response)]
