"""Daily metric series of campaigns, campaign actions, newsletters, newsletter variants, transactional messages,
broadcasts and broadcast actions, one row per entity, day and metric.

The endpoints answer `{"metric": {"series": {<metric>: [count, ...]}}}`, arrays ordered oldest → newest, one
bucket per day. The spec's days start at 00:00 "EST" (v1: "Days start at 00:00 EST"; v2: `tz` in region
format, default EST), so both streams read New York days, and each row's `period_start` is the instant its
day began there (00:00 America/New_York, 04:00 or 05:00 UTC).

Incremental by day: a day that is over does not change, so each entity's bookmark (`period_start`, one state
partition per entity) is the latest day read, which was still open (today) when it was read. The next sync
asks from that day on, so it reads again only the day that was open and the days since, and emits no row of
a day it emitted closed. New entities, and every entity in FULL_TABLE mode, get `metrics_days` days.
"""

from __future__ import annotations

import datetime
import typing as t
from functools import cached_property
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tap_customerio.client import CustomerIOStream
from tap_customerio.schemas import metrics as schemas
from tap_customerio.streams.broadcasts import BroadcastActionsStream, BroadcastsStream
from tap_customerio.streams.campaigns import CampaignActionsStream, CampaignsStream
from tap_customerio.streams.newsletters import NewslettersStream, NewsletterVariantsStream
from tap_customerio.streams.rejected import SkipsRejectedRequests
from tap_customerio.streams.transactional import TransactionalMessagesStream

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

    records_key = "metric"
    replication_key = "period_start"
    #: Rows are filtered by day in `get_records`, not by the lookback of client-side CDC.
    client_side_cdc = False
    timestamp_fields = ("period_start",)

    @property
    def days(self) -> int:
        """Number of daily buckets requested."""
        return max(2, self.settings.metrics_days)

    @cached_property
    def today(self) -> datetime.date:
        """The current New York day (fixed for the run so all entities share the same days)."""
        return datetime.datetime.now(EASTERN).date()

    def first_day(self, context: Context | None) -> datetime.date:
        """The oldest day to emit for the entity: its bookmark's day (open when it was read), at most
        `days` back; `days` back without a bookmark."""
        oldest = self.today - datetime.timedelta(days=self.days - 1)
        bookmark = self.saved_bookmark_unix(context) if self.incremental else None
        if bookmark is None:
            return oldest
        return min(self.today, max(oldest, datetime.datetime.fromtimestamp(bookmark, EASTERN).date()))

    def covered_days(self, response: requests.Response, buckets: int) -> list[datetime.date]:
        """The day each of the `buckets` buckets of `response` covers, oldest first."""
        raise NotImplementedError

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """One row per (day, metric) of the series."""
        metric = t.cast("dict[str, t.Any]", self.records_in(response, "metric") or {})  # an object, not a list
        series = metric.get("series") or {}
        return [
            {"period": "days", "period_start": day_start(day), "metric": metric, "value": value}
            for metric, values in series.items()
            for day, value in zip(self.covered_days(response, len(values or [])), values or [], strict=True)
        ]

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """The rows from `first_day` on (the API may answer with more days than asked for)."""
        since = day_start(self.first_day(context))
        return (row for row in super().get_records(context) if row["period_start"] >= since)


class CampaignMetricsStream(DailyMetricsStream):
    """`GET /v1/campaigns/{id}/metrics?version=2&res=days&start&end` (v2, as the API recommends)."""

    name = "campaign_metrics"
    parent_stream_type: type[CustomerIOStream] = CampaignsStream
    path = "/campaigns/{campaign_id}/metrics"
    primary_keys: tuple[str, ...] = ("campaign_id", "period", "period_start", "metric")
    schema = schemas.CAMPAIGN_METRIC

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Daily New York buckets from `first_day` through today."""
        return {
            "version": 2,
            "res": "days",
            "tz": METRICS_TIMEZONE,
            "start": day_start(self.first_day(context)),
            "end": day_start(self.today + datetime.timedelta(days=1)) - 1,
        }

    def covered_days(self, response: requests.Response, buckets: int) -> list[datetime.date]:
        """v2 buckets start at the request's `start`."""
        start = int(parse_qs(urlsplit(str(response.request.url)).query)["start"][0])
        first = datetime.datetime.fromtimestamp(start, EASTERN).date()
        return [first + datetime.timedelta(days=index) for index in range(buckets)]


class CampaignActionMetricsStream(CampaignMetricsStream):
    """`GET /v1/campaigns/{id}/actions/{action_id}/metrics?version=2&res=days&start&end`."""

    name = "campaign_action_metrics"
    parent_stream_type = CampaignActionsStream
    path = "/campaigns/{campaign_id}/actions/{action_id}/metrics"
    primary_keys = ("campaign_id", "action_id", "period", "period_start", "metric")
    schema = schemas.CAMPAIGN_ACTION_METRIC


class StepsMetricsStream(DailyMetricsStream):
    """Series of endpoints that only take the v1 `period=days&steps=N` (newsletters, broadcasts)."""

    @property
    def days(self) -> int:
        """v1 allows at most 45 daily steps."""
        return min(super().days, MAX_V1_DAILY_STEPS)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """`steps` daily buckets ending today, from `first_day` (v1 refuses fewer than 2 steps)."""
        steps = (self.today - self.first_day(context)).days + 1
        return {"period": "days", "steps": max(2, steps)}

    def covered_days(self, response: requests.Response, buckets: int) -> list[datetime.date]:
        """v1 buckets end with today (New York), whatever their number."""
        return [self.today - datetime.timedelta(days=buckets - 1 - index) for index in range(buckets)]


class NewsletterMetricsStream(StepsMetricsStream):
    """`GET /v1/newsletters/{id}/metrics?period=days&steps=N`."""

    name = "newsletter_metrics"
    parent_stream_type = NewslettersStream
    path = "/newsletters/{newsletter_id}/metrics"
    primary_keys = ("newsletter_id", "period", "period_start", "metric")
    schema = schemas.NEWSLETTER_METRIC


class NewsletterVariantMetricsStream(StepsMetricsStream):
    """`GET /v1/newsletters/{id}/contents/{content_id}/metrics?period=days&steps=N`: one variant (a language
    or an A/B test message) of a newsletter."""

    name = "newsletter_variant_metrics"
    parent_stream_type = NewsletterVariantsStream
    path = "/newsletters/{newsletter_id}/contents/{content_id}/metrics"
    primary_keys = ("newsletter_id", "content_id", "period", "period_start", "metric")
    schema = schemas.NEWSLETTER_VARIANT_METRIC


class TransactionalMetricsStream(StepsMetricsStream):
    """`GET /v1/transactional/{id}/metrics?period=days&steps=N`."""

    name = "transactional_metrics"
    parent_stream_type = TransactionalMessagesStream
    path = "/transactional/{transactional_id}/metrics"
    primary_keys = ("transactional_id", "period", "period_start", "metric")
    schema = schemas.TRANSACTIONAL_METRIC


class BroadcastMetricsStream(StepsMetricsStream):
    """`GET /v1/broadcasts/{id}/metrics?period=days&steps=N`."""

    name = "broadcast_metrics"
    parent_stream_type = BroadcastsStream
    path = "/broadcasts/{broadcast_id}/metrics"
    primary_keys = ("broadcast_id", "period", "period_start", "metric")
    schema = schemas.BROADCAST_METRIC


class BroadcastActionMetricsStream(StepsMetricsStream):
    """`GET /v1/broadcasts/{id}/actions/{action_id}/metrics?period=days&steps=N`."""

    name = "broadcast_action_metrics"
    parent_stream_type = BroadcastActionsStream
    path = "/broadcasts/{broadcast_id}/actions/{action_id}/metrics"
    primary_keys = ("broadcast_id", "action_id", "period", "period_start", "metric")
    schema = schemas.BROADCAST_ACTION_METRIC
