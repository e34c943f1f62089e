"""Daily metric series of campaigns and newsletters, one row per entity, day and metric.

The endpoints answer `{"metric": {"series": {<metric>: [count, ...]}}}`, arrays ordered oldest → newest,
one bucket per day ending today (UTC). Both requests below are shaped so that bucket `i` starts at
`first_day + i days`, which gives every row a stable key. Series are snapshots without change time, so the
streams are full table.
"""

from __future__ import annotations

import time
import typing as t
from functools import cached_property

from tap_customerio.client import CustomerIOStream
from tap_customerio.schemas import metrics as schemas
from tap_customerio.streams.campaigns import CampaignsStream
from tap_customerio.streams.newsletters import NewslettersStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context

DAY = 86400
#: Newsletter metrics use the v1 `steps` parameter, which allows at most 45 daily steps.
MAX_V1_DAILY_STEPS = 45


class DailyMetricsStream(CustomerIOStream):
    """Flattens a daily series into rows; subclasses name the entity and the query parameters."""

    entity_key: str = ""
    records_key = "metric"
    state_partitioning_keys = ()
    timestamp_fields = ("period_start",)

    @property
    def days(self) -> int:
        """Number of daily buckets requested."""
        return max(2, int(self.config.get("metrics_days", 30)))

    @cached_property
    def first_day(self) -> int:
        """Unix start of the oldest bucket (fixed for the run so all entities share the same days)."""
        today = int(time.time()) // DAY * DAY
        return today - (self.days - 1) * DAY

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """One row per (day, metric) of the series."""
        series = (self.records_in(response, "metric") or {}).get("series") or {}
        return [
            {"period": "days", "period_start": self.first_day + index * DAY, "metric": metric, "value": value}
            for metric, values in series.items()
            for index, value in enumerate(values or [])
        ]


class CampaignMetricsStream(DailyMetricsStream):
    """`GET /v1/campaigns/{id}/metrics?version=2&res=days&start&end` (v2, as the API recommends)."""

    name = "campaign_metrics"
    parent_stream_type = CampaignsStream
    path = "/campaigns/{campaign_id}/metrics"
    entity_key = "campaign_id"
    primary_keys = ("campaign_id", "period", "period_start", "metric")
    schema = schemas.CAMPAIGN_METRIC

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Daily buckets in UTC from `first_day` through today."""
        return {
            "version": 2,
            "res": "days",
            "tz": "UTC",
            "start": self.first_day,
            "end": self.first_day + self.days * DAY - 1,
        }


class NewsletterMetricsStream(DailyMetricsStream):
    """`GET /v1/newsletters/{id}/metrics?period=days&steps=N` (only v1 exists for newsletters)."""

    name = "newsletter_metrics"
    parent_stream_type = NewslettersStream
    path = "/newsletters/{newsletter_id}/metrics"
    entity_key = "newsletter_id"
    primary_keys = ("newsletter_id", "period", "period_start", "metric")
    schema = schemas.NEWSLETTER_METRIC

    @property
    def days(self) -> int:
        """v1 allows at most 45 daily steps."""
        return min(super().days, MAX_V1_DAILY_STEPS)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """`steps` daily buckets ending today."""
        return {"period": "days", "steps": self.days}
