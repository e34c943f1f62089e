"""Link click series (`GET /v1/<entity>/{id}[/actions/{action_id}]/metrics/links`): the spec's `links` items,
`link` {`id`, `href`} and `metric.series` {`clicked`: [...]}, one row per entity, link, day and metric."""

from __future__ import annotations

from singer_sdk import typing as th


def link_metric_row(*parent: th.Property) -> dict:
    """Row schema keyed by (the entity's keys, `link_id`, `period`, `period_start`, `metric`)."""
    return th.PropertiesList(
        *parent,
        th.Property("link_id", th.IntegerType, required=True),
        th.Property("href", th.StringType),
        th.Property("period", th.StringType, required=True),
        th.Property("period_start", th.DateTimeType, required=True),
        th.Property("metric", th.StringType, required=True),
        th.Property("value", th.IntegerType),
    ).to_dict()


def entity(key: str) -> th.Property:
    """An integer entity id (campaign, broadcast, newsletter, transactional message)."""
    return th.Property(key, th.IntegerType, required=True)


#: Action ids are text like the actions' own `id` (strings live, reference §6.1).
ACTION = th.Property("action_id", th.StringType, required=True)

CAMPAIGN_LINK_METRIC = link_metric_row(entity("campaign_id"))
CAMPAIGN_ACTION_LINK_METRIC = link_metric_row(entity("campaign_id"), ACTION)
BROADCAST_LINK_METRIC = link_metric_row(entity("broadcast_id"))
BROADCAST_ACTION_LINK_METRIC = link_metric_row(entity("broadcast_id"), ACTION)
NEWSLETTER_LINK_METRIC = link_metric_row(entity("newsletter_id"))
NEWSLETTER_VARIANT_LINK_METRIC = link_metric_row(entity("newsletter_id"), entity("content_id"))
TRANSACTIONAL_LINK_METRIC = link_metric_row(entity("transactional_id"))
