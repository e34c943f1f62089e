"""Daily link click series of campaigns, campaign actions, broadcasts, broadcast actions, newsletters, newsletter
variants and transactional messages: one row per entity, link, day and metric.

The endpoints answer `{"links": [{"link": {"id", "href"}, "metric": {"series": {"clicked": [count, ...]}}}]}`
with v1 `period`/`steps` only (at most 45 daily steps, days starting at 00:00 "EST"), so they read New York
days ending today like the other v1 series (`StepsMetricsStream`). Totals, not `unique` counts. Incremental
per entity like the other series: a later sync reads again from the day that was still open.
"""

from __future__ import annotations

import typing as t

from tap_customerio.schemas import link_metrics as schemas
from tap_customerio.streams.broadcasts import BroadcastActionsStream, BroadcastsStream
from tap_customerio.streams.campaigns import CampaignActionsStream, CampaignsStream
from tap_customerio.streams.metrics import StepsMetricsStream, day_start
from tap_customerio.streams.newsletters import NewslettersStream, NewsletterVariantsStream
from tap_customerio.streams.transactional import TransactionalMessagesStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests


class LinkMetricsStream(StepsMetricsStream):
    """Flattens each link's series into rows; subclasses name the entity (parent stream, path, keys)."""

    records_key = "links"

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """One row per (link, day, metric)."""
        rows = []
        for item in self.records_in(response, "links"):
            link = item.get("link") or {}
            series = (item.get("metric") or {}).get("series") or {}
            for metric, values in series.items():
                for day, value in zip(self.covered_days(response, len(values or [])), values or [], strict=True):
                    rows.append(
                        {
                            "link_id": link.get("id"),
                            "href": link.get("href"),
                            "period": "days",
                            "period_start": day_start(day),
                            "metric": metric,
                            "value": value,
                        }
                    )
        return rows


class CampaignLinkMetricsStream(LinkMetricsStream):
    """`GET /v1/campaigns/{id}/metrics/links?period=days&steps=N`."""

    name = "campaign_link_metrics"
    parent_stream_type = CampaignsStream
    path = "/campaigns/{campaign_id}/metrics/links"
    primary_keys = ("campaign_id", "link_id", "period", "period_start", "metric")
    schema = schemas.CAMPAIGN_LINK_METRIC


class CampaignActionLinkMetricsStream(LinkMetricsStream):
    """`GET /v1/campaigns/{id}/actions/{action_id}/metrics/links?period=days&steps=N`."""

    name = "campaign_action_link_metrics"
    parent_stream_type = CampaignActionsStream
    path = "/campaigns/{campaign_id}/actions/{action_id}/metrics/links"
    primary_keys = ("campaign_id", "action_id", "link_id", "period", "period_start", "metric")
    schema = schemas.CAMPAIGN_ACTION_LINK_METRIC


class BroadcastLinkMetricsStream(LinkMetricsStream):
    """`GET /v1/broadcasts/{id}/metrics/links?period=days&steps=N`."""

    name = "broadcast_link_metrics"
    parent_stream_type = BroadcastsStream
    path = "/broadcasts/{broadcast_id}/metrics/links"
    primary_keys = ("broadcast_id", "link_id", "period", "period_start", "metric")
    schema = schemas.BROADCAST_LINK_METRIC


class BroadcastActionLinkMetricsStream(LinkMetricsStream):
    """`GET /v1/broadcasts/{id}/actions/{action_id}/metrics/links?period=days&steps=N`."""

    name = "broadcast_action_link_metrics"
    parent_stream_type = BroadcastActionsStream
    path = "/broadcasts/{broadcast_id}/actions/{action_id}/metrics/links"
    primary_keys = ("broadcast_id", "action_id", "link_id", "period", "period_start", "metric")
    schema = schemas.BROADCAST_ACTION_LINK_METRIC


class NewsletterLinkMetricsStream(LinkMetricsStream):
    """`GET /v1/newsletters/{id}/metrics/links?period=days&steps=N`."""

    name = "newsletter_link_metrics"
    parent_stream_type = NewslettersStream
    path = "/newsletters/{newsletter_id}/metrics/links"
    primary_keys = ("newsletter_id", "link_id", "period", "period_start", "metric")
    schema = schemas.NEWSLETTER_LINK_METRIC


class NewsletterVariantLinkMetricsStream(LinkMetricsStream):
    """`GET /v1/newsletters/{id}/contents/{content_id}/metrics/links?period=days&steps=N`: one variant (a
    language or an A/B test message) of a newsletter."""

    name = "newsletter_variant_link_metrics"
    parent_stream_type = NewsletterVariantsStream
    path = "/newsletters/{newsletter_id}/contents/{content_id}/metrics/links"
    primary_keys = ("newsletter_id", "content_id", "link_id", "period", "period_start", "metric")
    schema = schemas.NEWSLETTER_VARIANT_LINK_METRIC


class TransactionalLinkMetricsStream(LinkMetricsStream):
    """`GET /v1/transactional/{id}/metrics/links?period=days&steps=N`."""

    name = "transactional_link_metrics"
    parent_stream_type = TransactionalMessagesStream
    path = "/transactional/{transactional_id}/metrics/links"
    primary_keys = ("transactional_id", "link_id", "period", "period_start", "metric")
    schema = schemas.TRANSACTIONAL_LINK_METRIC


LINK_METRICS_STREAM_TYPES = (
    CampaignLinkMetricsStream,
    CampaignActionLinkMetricsStream,
    BroadcastLinkMetricsStream,
    BroadcastActionLinkMetricsStream,
    NewsletterLinkMetricsStream,
    NewsletterVariantLinkMetricsStream,
    TransactionalLinkMetricsStream,
)
