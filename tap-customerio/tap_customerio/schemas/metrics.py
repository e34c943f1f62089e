"""Metric time series flattened to one row per entity, period and metric (reference §2.3)."""

from __future__ import annotations

from singer_sdk import typing as th


def metric_row(*entity_keys: str) -> dict:
    """Row schema keyed by (the integer `entity_keys`, `period`, `period_start`, `metric`)."""
    return th.PropertiesList(
        *(th.Property(key, th.IntegerType, required=True) for key in entity_keys),
        th.Property("period", th.StringType, required=True),
        th.Property("period_start", th.DateTimeType, required=True),
        th.Property("metric", th.StringType, required=True),
        th.Property("value", th.IntegerType),
    ).to_dict()


CAMPAIGN_METRIC = metric_row("campaign_id")
NEWSLETTER_METRIC = metric_row("newsletter_id")
NEWSLETTER_VARIANT_METRIC = metric_row("newsletter_id", "content_id")
TRANSACTIONAL_METRIC = metric_row("transactional_id")


def action_metric_row(parent_key: str) -> dict:
    """Row schema of an action's series, keyed by (`parent_key`, `action_id`, `period`, `period_start`,
    `metric`); `action_id` is text like the actions' own `id` (strings live, reference §6.1)."""
    return th.PropertiesList(
        th.Property(parent_key, th.IntegerType, required=True),
        th.Property("action_id", th.StringType, required=True),
        th.Property("period", th.StringType, required=True),
        th.Property("period_start", th.DateTimeType, required=True),
        th.Property("metric", th.StringType, required=True),
        th.Property("value", th.IntegerType),
    ).to_dict()


CAMPAIGN_ACTION_METRIC = action_metric_row("campaign_id")
BROADCAST_METRIC = metric_row("broadcast_id")
BROADCAST_ACTION_METRIC = action_metric_row("broadcast_id")
