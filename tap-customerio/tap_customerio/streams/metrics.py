"""Daily metric series of campaigns, campaign actions, newsletters, broadcasts and broadcast actions, one row
per entity, day and metric.

The endpoints answer `{"metric": {"series": {<metric>: [count, ...]}}}`, arrays ordered oldest → newest, one
bucket per day. The spec's days start at 00:00 "EST" (v1: "Days start at 00:00 EST"; v2: `tz` in region
format, default EST), so both streams read New York days, and each row's `period_start` is the instant its
day began there (00:00 America/New_York, 04:00 or 05:00 UTC). Series are snapshots without change time, so
the streams are full table.
"""

from __future__ import annotations

import datetime
import typing as t
from functools import cached_property
from zoneinfo import ZoneInfo

from tap_customerio.schemas import metrics as schemas
from tap_customerio.streams.broadcasts import BroadcastActionsStream, BroadcastsStream
from tap_customerio.streams.campaigns import CampaignActionsStream, CampaignsStream
from tap_customerio.streams.newsletters import NewslettersStream
from tap_customerio.streams.rejected import SkipsRejectedRequests

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context

    from tap_customerio.client import CustomerIOStream

#: The API's "EST", as the region name its v2 `tz` parameter asks for.
METRICS_TIMEZONE = "America/New_York"
EASTERN = ZoneInfo(METRICS_TIMEZONE)
#: Newsletter metrics use the v1 `steps` parameter, which allows at most 45 daily steps.
MAX_V1_DAILY_STEPS = 45


def day_start(day: datetime.date) -> int:
    """Unix time of 00:00 New York time on `day` (days are 23 or 25 hours long around DST changes)."""
    return int(datetime.datetime.combine(day, datetime.time(), EASTERN).timestamp())


class DailyMetricsStream(SkipsRejectedRequests):
    """Flattens a daily series into rows; subclasses name the entity, the query and which days a series covers.

    A 400 (e.g. a parameter the API does not accept) skips that entity's metrics with a warning.
    """

    entity_key: str = ""
    records_key = "metric"
    state_partitioning_keys = ()
    timestamp_fields = ("period_start",)

    @property
    def days(self) -> int:
        """Number of daily buckets requested."""
        return max(2, int(self.config.get("metrics_days", 30)))

    @cached_property
    def today(self) -> datetime.date:
        """The current New York day (fixed for the run so all entities share the same days)."""
        return datetime.datetime.now(EASTERN).date()

    def covered_days(self, buckets: int) -> list[datetime.date]:
        """The day each of `buckets` buckets covers, oldest first."""
        raise NotImplementedError

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """One row per (day, metric) of the series."""
        series = (self.records_in(response, "metric") or {}).get("series") or {}
        return [
            {"period": "days", "period_start": day_start(day), "metric": metric, "value": value}
            for metric, values in series.items()
            for day, value in zip(self.covered_days(len(values or [])), values or [], strict=True)
        ]


class CampaignMetricsStream(DailyMetricsStream):
    """`GET /v1/campaigns/{id}/metrics?version=2&res=days&start&end` (v2, as the API recommends)."""

    name = "campaign_metrics"
    parent_stream_type: type[CustomerIOStream] = CampaignsStream
    path = "/campaigns/{campaign_id}/metrics"
    entity_key = "campaign_id"
    primary_keys: tuple[str, ...] = ("campaign_id", "period", "period_start", "metric")
    schema = schemas.CAMPAIGN_METRIC

    @property
    def first_day(self) -> datetime.date:
        """The oldest day requested."""
        return self.today - datetime.timedelta(days=self.days - 1)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Daily New York buckets from `first_day` through today."""
        return {
            "version": 2,
            "res": "days",
            "tz": METRICS_TIMEZONE,
            "start": day_start(self.first_day),
            "end": day_start(self.today + datetime.timedelta(days=1)) - 1,
        }

    def covered_days(self, buckets: int) -> list[datetime.date]:
        """v2 buckets start at `start`."""
        return [self.first_day + datetime.timedelta(days=index) for index in range(buckets)]


class CampaignActionMetricsStream(CampaignMetricsStream):
    """`GET /v1/campaigns/{id}/actions/{action_id}/metrics?version=2&res=days&start&end`."""

    name = "campaign_action_metrics"
    parent_stream_type = CampaignActionsStream
    path = "/campaigns/{campaign_id}/actions/{action_id}/metrics"
    entity_key = "action_id"
    primary_keys = ("campaign_id", "action_id", "period", "period_start", "metric")
    schema = schemas.CAMPAIGN_ACTION_METRIC


class StepsMetricsStream(DailyMetricsStream):
    """Series of endpoints that only take the v1 `period=days&steps=N` (newsletters, broadcasts)."""

    @property
    def days(self) -> int:
        """v1 allows at most 45 daily steps."""
        return min(super().days, MAX_V1_DAILY_STEPS)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """`steps` daily buckets ending today."""
        return {"period": "days", "steps": self.days}

    def covered_days(self, buckets: int) -> list[datetime.date]:
        """v1 buckets end with today (New York), whatever their number."""
        return [self.today - datetime.timedelta(days=buckets - 1 - index) for index in range(buckets)]


class NewsletterMetricsStream(StepsMetricsStream):
    """`GET /v1/newsletters/{id}/metrics?period=days&steps=N`."""

    name = "newsletter_metrics"
    parent_stream_type = NewslettersStream
    path = "/newsletters/{newsletter_id}/metrics"
    entity_key = "newsletter_id"
    primary_keys = ("newsletter_id", "period", "period_start", "metric")
    schema = schemas.NEWSLETTER_METRIC


class BroadcastMetricsStream(StepsMetricsStream):
    """`GET /v1/broadcasts/{id}/metrics?period=days&steps=N`."""

    name = "broadcast_metrics"
    parent_stream_type = BroadcastsStream
    path = "/broadcasts/{broadcast_id}/metrics"
    entity_key = "broadcast_id"
    primary_keys = ("broadcast_id", "period", "period_start", "metric")
    schema = schemas.BROADCAST_METRIC


class BroadcastActionMetricsStream(StepsMetricsStream):
    """`GET /v1/broadcasts/{id}/actions/{action_id}/metrics?period=days&steps=N`."""

    name = "broadcast_action_metrics"
    parent_stream_type = BroadcastActionsStream
    path = "/broadcasts/{broadcast_id}/actions/{action_id}/metrics"
    entity_key = "action_id"
    primary_keys = ("broadcast_id", "action_id", "period", "period_start", "metric")
    schema = schemas.BROADCAST_ACTION_METRIC
