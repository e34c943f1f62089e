"""Metrics time series (`{"metric": {"series": {<metric>: [int, ...]}}}`, oldest bucket first).

Values are a pure function of (seed, entity, bucket start, metric), so repeated reads agree; buckets that end
before the entity was created are zero. Days, weeks and months start at 00:00 in New York time for v1 (the
spec: "Days start at 00:00 EST") and in the v2 `tz` (default the same "EST"); `tz` must be a region name such
as `America/New_York` (the spec: "You must use the region format"), anything else is a 400. v2 without
`start`/`end` covers the 30 buckets up to now; v1 without `steps` returns the maximum number of steps for the
period.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .determinism import mix, salt
from .protocol import ApiError, Request
from .records import METRIC_SERIES_KEYS

HOUR, DAY = 3600, 86400
V2_RESOLUTIONS = {
    "hours": "hours",
    "hourly": "hours",
    "days": "days",
    "daily": "days",
    "weeks": "weeks",
    "weekly": "weeks",
    "months": "months",
    "monthly": "months",
}
V1_MAX_STEPS = {"hours": 24, "days": 45, "weeks": 12, "months": 120}
MAX_V2_BUCKETS = 5000
TEN_YEARS = 3653 * DAY
TRANSACTIONAL_KEYS = tuple(k for k in METRIC_SERIES_KEYS if not k[0].isdigit())
#: The API's "EST": the zone of v1 buckets and the v2 default.
EASTERN = ZoneInfo("America/New_York")


def region_zone(name: str) -> tzinfo:
    """The zone of a v2 `tz` in region format (`Area/Location`); 400 for anything else (`UTC`, `EST`, `+02:00`)."""
    try:
        if "/" not in name or name.startswith("Etc/"):
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, f"tz {name!r} is not a timezone in region format (e.g. America/New_York)") from None


def bucket_start(moment: int, period: str, zone: tzinfo = EASTERN) -> int:
    """The start of the `period` bucket containing `moment`: days begin at 00:00 in `zone`, weeks on Sunday."""
    if period == "hours":
        return moment - moment % HOUR
    day = datetime.fromtimestamp(moment, zone).date()
    if period == "weeks":
        day -= timedelta(days=(day.weekday() + 1) % 7)
    elif period == "months":
        day = day.replace(day=1)
    return _midnight(day, zone)


def shift(start: int, period: str, steps: int, zone: tzinfo = EASTERN) -> int:
    """The bucket start `steps` periods after (or before, if negative) the bucket starting at `start`."""
    if period == "hours":
        return start + steps * HOUR
    day = datetime.fromtimestamp(start, zone).date()
    if period != "months":
        return _midnight(day + timedelta(days=steps * (7 if period == "weeks" else 1)), zone)
    months = day.year * 12 + day.month - 1 + steps
    return _midnight(day.replace(year=months // 12, month=months % 12 + 1, day=1), zone)


def _midnight(day: date, zone: tzinfo) -> int:
    """Unix time of 00:00 on `day` (a `date`) in `zone` (a day is 23 or 25 hours long around DST changes)."""
    return int(datetime.combine(day, datetime.min.time(), zone).timestamp())


def series(
    seed: int, entity: str, created: int, buckets: list[int], period: str, keys: tuple[str, ...], zone: tzinfo = EASTERN
) -> dict[str, list[int]]:
    magnitudes = {
        "sent": 500,
        "delivered": 480,
        "attempted": 500,
        "created": 500,
        "opened": 200,
        "human_opened": 150,
        "clicked": 60,
        "human_clicked": 50,
        "2xx": 40,
    }
    result: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        top = magnitudes.get(key, 6)
        result[key] = [
            0 if shift(b, period, 1, zone) <= created else mix(seed, salt(entity), b, position) % (top + 1)
            for b in buckets
        ]
    return result


def metrics_response(
    request: Request,
    seed: int,
    entity: str,
    created: int,
    now: int,
    *,
    accepts_v2: bool,
    months_max: int = 120,
    keys: tuple[str, ...] = tuple(METRIC_SERIES_KEYS),
) -> dict:
    """Answer a metrics request: campaign/action metrics need `version` (1 or 2); the others are v1 only."""
    if accepts_v2:
        version = request.query.get("version")
        if version not in ("1", "2"):
            raise ApiError(400, "version is required and must be 1 or 2")
        if version == "2":
            zone = region_zone(request.query.get("tz") or "America/New_York")
            buckets, period = _v2_buckets(request, now, zone)
            return {"metric": {"series": series(seed, entity, created, buckets, period, keys, zone)}}
    buckets, period = _v1_buckets(request, now, months_max)
    return {"metric": {"series": series(seed, entity, created, buckets, period, keys)}}


def links_response(request: Request, seed: int, entity: str, created: int, now: int) -> dict:
    """Answer a link metrics request (v1 `period`/`steps` only): 1 to 3 links per entity, each with its
    `clicked` series; `unique=true` counts each person once, so its counts are at most the totals (here half)."""
    unique = request.choice("unique", ("true", "false"), "false") == "true"
    buckets, period = _v1_buckets(request, now, 121)
    links = []
    for link_id, href in entity_links(seed, entity):
        clicked = [0 if shift(b, period, 1) <= created else mix(seed, link_id, b) % 61 for b in buckets]
        links.append(
            {
                "link": {"id": link_id, "href": href},
                "metric": {"series": {"clicked": [value // 2 for value in clicked] if unique else clicked}},
            }
        )
    return {"links": links}


def entity_links(seed: int, entity: str) -> list[tuple[int, str]]:
    """`(id, href)` of the 1 to 3 links of an entity's messages (ids unique per entity)."""
    entity_hash = zlib.crc32(entity.encode())  # `salt` sees only a name's first 8 bytes: campaign1 == campaign2
    return [
        (1000 + n * 10000 + mix(seed, entity_hash, n) % 9000, f"https://example.com/{entity}/{n}")
        for n in range(1 + mix(seed, entity_hash, 99) % 3)
    ]


def _v1_buckets(request: Request, now: int, months_max: int) -> tuple[list[int], str]:
    period = request.choice("period", tuple(V1_MAX_STEPS), "days")
    assert period is not None
    maximum = months_max if period == "months" else V1_MAX_STEPS[period]
    steps = request.int_query("steps", maximum)
    assert steps is not None
    if steps < 2:
        raise ApiError(400, "cannot request fewer than 2 steps")
    steps = min(steps, maximum)
    last = bucket_start(now, period)
    return [shift(last, period, -back) for back in range(steps - 1, -1, -1)], period


def _v2_buckets(request: Request, now: int, zone: tzinfo) -> tuple[list[int], str]:
    resolution = request.choice("res", tuple(V2_RESOLUTIONS), "days")
    assert resolution is not None
    period = V2_RESOLUTIONS[resolution]
    end = request.int_query("end", now)
    assert end is not None
    start = request.int_query("start", shift(bucket_start(end, period, zone), period, -29, zone))
    assert start is not None
    if end < start:
        raise ApiError(400, "end must not be before start")
    end = min(end, start + TEN_YEARS)
    buckets = [bucket_start(start, period, zone)]
    while (following := shift(buckets[-1], period, 1, zone)) <= end:
        buckets.append(following)
        if len(buckets) > MAX_V2_BUCKETS:
            raise ApiError(400, f"too many {period} buckets between start and end (max {MAX_V2_BUCKETS})")
    return buckets, period
