"""TapCustomerIO: settings, discovery (leaving out streams the key may not read) and the CLI entry point."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.singerlib import Catalog

from tap_customerio.pagination import CursorLoopError
from tap_customerio.streams import (
    activities,
    broadcasts,
    campaigns,
    messages,
    metrics,
    newsletters,
    people,
    segments,
    transactional,
    workspace,
)
from tap_customerio.streams.export import EXPORT_STREAM_TYPES

if t.TYPE_CHECKING:
    from tap_customerio.client import CustomerIOStream

STREAM_TYPES: tuple[type[CustomerIOStream], ...] = (
    activities.ActivitiesStream,
    broadcasts.BroadcastsStream,
    broadcasts.BroadcastActionsStream,
    broadcasts.BroadcastTriggersStream,
    campaigns.CampaignsStream,
    campaigns.CampaignActionsStream,
    metrics.CampaignMetricsStream,
    messages.MessagesStream,
    newsletters.NewslettersStream,
    newsletters.NewsletterVariantsStream,
    newsletters.NewsletterTestGroupsStream,
    metrics.NewsletterMetricsStream,
    people.CustomersStream,
    segments.SegmentsStream,
    segments.SegmentMembershipsStream,
    transactional.TransactionalMessagesStream,
    transactional.TransactionalContentsStream,
    workspace.ExportsStream,
    workspace.SenderIdentitiesStream,
    workspace.ReportingWebhooksStream,
    workspace.SnippetsStream,
    workspace.IpAddressesStream,
    workspace.CollectionsStream,
    workspace.TopicsStream,
    workspace.WorkspacesStream,
    workspace.ObjectTypesStream,
    workspace.EspSuppressionStream,
    *EXPORT_STREAM_TYPES,
)

#: Failures reported as one line with exit code 1 instead of a traceback.
USER_FACING_ERRORS = (FatalAPIError, RetriableAPIError, CursorLoopError, OSError)


class TapCustomerIO(Tap):
    """Singer tap for the Customer.io App API."""

    name = "tap-customerio"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "app_api_key",
            th.StringType,
            required=True,
            secret=True,
            description="Customer.io App API key (bearer token), from Settings > API Credentials > App API Keys.",
        ),
        th.Property(
            "region",
            th.StringType,
            default="us",
            allowed_values=["us", "eu"],
            description="Data center of the workspace: `us` (api.customer.io) or `eu` (api-eu.customer.io).",
        ),
        th.Property(
            "api_url",
            th.StringType,
            description="Base URL overriding `region`, e.g. a proxy or simulator (`http://127.0.0.1:8080/v1`).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description=(
                "Earliest time read by the event streams (`messages`, `activities`) on their first run. "
                "Without it `messages` starts 180 days back. Entity streams always emit every entity once."
            ),
        ),
        th.Property(
            "lookback_window_minutes",
            th.IntegerType,
            default=60,
            description=(
                "Client-side CDC re-emits records changed up to this many minutes before the bookmark, "
                "because list endpoints are not ordered by change time."
            ),
        ),
        th.Property(
            "messages_window_days",
            th.IntegerType,
            default=30,
            description="Width of each `start_ts`/`end_ts` window read from `/v1/messages` (the API caps a read at 6 months).",
        ),
        th.Property(
            "messages_lookback_days",
            th.IntegerType,
            default=30,
            description="Days before the `messages` bookmark that are read again, to pick up metrics recorded after delivery.",
        ),
        th.Property(
            "activities_lookback_minutes",
            th.IntegerType,
            default=60,
            description="Minutes before the `activities` bookmark at which paging (newest first) stops.",
        ),
        th.Property(
            "include_deleted_people",
            th.BooleanType,
            default=False,
            description="Also read activities of deleted people (`deleted=true`).",
        ),
        th.Property(
            "metrics_days",
            th.IntegerType,
            default=30,
            description="Days of daily metrics read per campaign and newsletter (newsletter metrics allow at most 45).",
        ),
        th.Property(
            "max_requests_per_second",
            th.NumberType,
            default=10,
            description="Request budget shared by every stream and thread of the process (the App API allows 10/s).",
        ),
        th.Property(
            "max_concurrency",
            th.IntegerType,
            default=4,
            description="Worker threads for customer hydration, so request latency does not leave the budget idle.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=8,
            description="Retries per request after 429, 5xx, timeouts, dropped connections or unreadable bodies.",
        ),
        th.Property(
            "request_timeout",
            th.IntegerType,
            default=60,
            description="Seconds to wait for a response before retrying the request.",
        ),
        th.Property(
            "user_agent",
            th.StringType,
            default="tap-customerio",
            description="User-Agent header sent with every request.",
        ),
        th.Property(
            "workspace_id",
            th.IntegerType,
            description="Customer.io workspace id (optional); used to name exported files like Customer.io's own export.",
        ),
    ).to_dict()

    def discover_streams(self) -> list[CustomerIOStream]:
        """Every stream of the App API."""
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    @property
    def catalog_dict(self) -> dict:
        """The discovered catalog without the streams the key gets 403 for (and their children)."""
        forbidden = {
            stream.name
            for stream in self.streams.values()
            if stream.parent_stream_type is None and not stream.probe_access()
        }
        for stream in self.streams.values():
            parent = stream.parent_stream_type
            if parent is not None and parent.name in forbidden:
                forbidden.add(stream.name)
        catalog = Catalog(
            (stream.tap_stream_id, stream._singer_catalog_entry)  # noqa: SLF001 (the SDK's own catalog entries)
            for stream in self.streams.values()
            if stream.name not in forbidden
        )
        return catalog.to_dict()

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """Run a sync; API failures end the process with one line on stderr and exit code 1."""
        try:
            super().invoke(*args, **kwargs)
        except USER_FACING_ERRORS as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            cls.logger.error("tap-customerio failed: %s", message)  # noqa: TRY400 (one line, no traceback)
            sys.exit(1)

