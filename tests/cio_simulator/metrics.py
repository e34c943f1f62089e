"""Metrics time series (`{"metric": {"series": {<metric>: [int, ...]}}}`, oldest bucket first).

Values are a pure function of (seed, entity, bucket start, metric), so repeated reads agree; buckets that end
before the entity was created are zero. Buckets are aligned in UTC (the `tz` parameter is accepted and
ignored). v2 without `start`/`end` covers the 30 buckets up to now; v1 without `steps` returns the maximum
number of steps for the period.
"""

from __future__ import annotations

from datetime import datetime, timezone

from .determinism import mix, salt
from .protocol import ApiError, Request
from .records import METRIC_SERIES_KEYS

HOUR, DAY = 3600, 86400
V2_RESOLUTIONS = {"hours": "hours", "hourly": "hours", "days": "days", "daily": "days", "weeks": "weeks",
                  "weekly": "weeks", "months": "months", "monthly": "months"}
V1_MAX_STEPS = {"hours": 24, "days": 45, "weeks": 12, "months": 120}
MAX_V2_BUCKETS = 5000
TEN_YEARS = 3653 * DAY
TRANSACTIONAL_KEYS = tuple(k for k in METRIC_SERIES_KEYS if not k[0].isdigit())


def bucket_start(moment: int, period: str) -> int:
    """The UTC start of the `period` bucket containing `moment`."""
    if period == "hours":
        return moment - moment % HOUR
    if period == "days":
        return moment - moment % DAY
    if period == "weeks":
        day = moment - moment % DAY
        return day - datetime.fromtimestamp(day, timezone.utc).weekday() * DAY
    when = datetime.fromtimestamp(moment, timezone.utc)
    return int(datetime(when.year, when.month, 1, tzinfo=timezone.utc).timestamp())


def shift(start: int, period: str, steps: int) -> int:
    """The bucket start `steps` periods after (or before, if negative) the bucket starting at `start`."""
    if period != "months":
        return start + steps * {"hours": HOUR, "days": DAY, "weeks": 7 * DAY}[period]
    when = datetime.fromtimestamp(start, timezone.utc)
    months = when.year * 12 + when.month - 1 + steps
    return int(datetime(months // 12, months % 12 + 1, 1, tzinfo=timezone.utc).timestamp())


def series(seed: int, entity: str, created: int, buckets: list[int], period: str,
           keys: tuple[str, ...]) -> dict[str, list[int]]:
    magnitudes = {"sent": 500, "delivered": 480, "attempted": 500, "created": 500, "opened": 200,
                  "human_opened": 150, "clicked": 60, "human_clicked": 50, "2xx": 40}
    result: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        top = magnitudes.get(key, 6)
        result[key] = [0 if shift(b, period, 1) <= created else mix(seed, salt(entity), b, position) % (top + 1)
                       for b in buckets]
    return result


def metrics_response(request: Request, seed: int, entity: str, created: int, now: int, *,
                     accepts_v2: bool, months_max: int = 120,
                     keys: tuple[str, ...] = tuple(METRIC_SERIES_KEYS)) -> dict:
    """Answer a metrics request: campaign/action metrics need `version` (1 or 2); the others are v1 only."""
    if accepts_v2:
        version = request.query.get("version")
        if version not in ("1", "2"):
            raise ApiError(400, "version is required and must be 1 or 2")
        if version == "2":
            buckets, period = _v2_buckets(request, now)
            return {"metric": {"series": series(seed, entity, created, buckets, period, keys)}}
    period = request.choice("period", tuple(V1_MAX_STEPS), "days")
    assert period is not None
    maximum = months_max if period == "months" else V1_MAX_STEPS[period]
    steps = request.int_query("steps", maximum)
    assert steps is not None
    if steps < 2:
        raise ApiError(400, "cannot request fewer than 2 steps")
    steps = min(steps, maximum)
    last = bucket_start(now, period)
    buckets = [shift(last, period, -back) for back in range(steps - 1, -1, -1)]
    return {"metric": {"series": series(seed, entity, created, buckets, period, keys)}}


def _v2_buckets(request: Request, now: int) -> tuple[list[int], str]:
    resolution = request.choice("res", tuple(V2_RESOLUTIONS), "days")
    assert resolution is not None
    period = V2_RESOLUTIONS[resolution]
    end = request.int_query("end", now)
    assert end is not None
    start = request.int_query("start", shift(bucket_start(end, period), period, -29))
    assert start is not None
    if end < start:
        raise ApiError(400, "end must not be before start")
    end = min(end, start + TEN_YEARS)
    buckets = [bucket_start(start, period)]
    while (following := shift(buckets[-1], period, 1)) <= end:
        buckets.append(following)
        if len(buckets) > MAX_V2_BUCKETS:
            raise ApiError(400, f"too many {period} buckets between start and end (max {MAX_V2_BUCKETS})")
    return buckets, period
