"""Unix-second timestamps → ISO 8601 strings, at the paths each stream declares.

The App API sends every time as integer unix seconds (reference §1.3); the schemas declare them as
`date-time` so that targets type them as timestamps. Paths are compiled once per stream because this runs
for every record.

Path syntax: `created` (top-level key), `metrics.sent` (nested key), `timestamps.*` (every value of an
object), `devices[].last_used` (a key in every element of a list).
"""

from __future__ import annotations

import datetime
import functools
import typing as t

Converter = t.Callable[[t.Any], None]

_UTC = datetime.timezone.utc


#: Latest unix second an ISO 8601 date-time can hold (9999-12-31T23:59:59Z). A larger value is usually a
#: time in milliseconds or microseconds, which would otherwise end in Python's "year 31690708 is out of range".
MAX_UNIX_SECONDS = 253402300799
#: Earliest unix second an ISO 8601 date-time can hold (0001-01-01T00:00:00Z).
MIN_UNIX_SECONDS = -62135596800


class InvalidTimestampError(ValueError):
    """A field declared as a unix time holds something else."""

    def __init__(self, field: str, value: t.Any, why: str = "is not a unix timestamp") -> None:
        super().__init__(f"field '{field}' {why}: {value!r}")
        self.field = field


#: "THH:MM:" for each minute of a day, and "SS+00:00" for each second of a minute (see `_whole_seconds_iso`).
_MINUTES = tuple(f"T{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60))
_SECONDS = tuple(f"{second:02d}+00:00" for second in range(60))
_EPOCH = datetime.date(1970, 1, 1)


@functools.cache
def _day_iso(day: int) -> str:
    """The date (YYYY-MM-DD) `day` days after 1970-01-01; cached, one entry per distinct day a run sees."""
    return (_EPOCH + datetime.timedelta(days=day)).isoformat()


def _whole_seconds_iso(value: int) -> str:
    """What `datetime.fromtimestamp(value, UTC).isoformat()` returns for an int in range, five times faster:
    the date from a cache of days, the time from tables. Deliveries carry several timestamps each, so this
    runs a few times per record of `messages`."""
    day, second_of_day = divmod(value, 86400)
    minute, second = divmod(second_of_day, 60)
    return _day_iso(day) + _MINUTES[minute] + _SECONDS[second]


def unix_to_iso(value: t.Any, field: str = "value") -> str | None:
    """`value` (unix seconds, as a number or a string of digits) as an ISO 8601 UTC string."""
    if type(value) is int and MIN_UNIX_SECONDS <= value <= MAX_UNIX_SECONDS:
        return _whole_seconds_iso(value)
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:  # NaN
        raise InvalidTimestampError(field, value)
    if not MIN_UNIX_SECONDS <= value <= MAX_UNIX_SECONDS:
        raise InvalidTimestampError(field, value, "is not a unix time in seconds (milliseconds?)")
    return datetime.datetime.fromtimestamp(value, _UTC).isoformat()


def iso_to_unix(value: str) -> int:
    """Parse an ISO 8601 bookmark back into unix seconds (naive values are UTC)."""
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_UTC)
    return int(parsed.timestamp())


def as_unix(value: t.Any) -> int | None:
    """Unix seconds from either form a record's time can have (before or after conversion)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    return iso_to_unix(value)


def _compile(tree: dict[str, t.Any]) -> Converter:
    """One converter for a trie of path steps (leaves are None), so that sibling keys such as the
    16 `metrics.*` timestamps of a delivery are handled in one pass over their parent object."""
    leaves = frozenset(step for step, sub in tree.items() if sub is None and step != "*" and not step.endswith("[]"))
    every_value = "*" in tree and tree["*"] is None
    inner: list[tuple[str, Converter]] = []
    for step, sub in tree.items():
        if sub is None:
            continue
        child = _compile(sub)
        inner.append((step, child))

    def convert(node: t.Any) -> None:
        if not isinstance(node, dict):
            return
        if every_value:
            for key, value in node.items():
                node[key] = unix_to_iso(value, key)
        elif leaves:
            for key in leaves.intersection(node):
                value = node[key]
                if type(value) is int and MIN_UNIX_SECONDS <= value <= MAX_UNIX_SECONDS:  # `unix_to_iso`, inlined
                    node[key] = _whole_seconds_iso(value)
                else:
                    node[key] = unix_to_iso(value, key)
        for step, child in inner:
            if step == "*":
                for value in node.values():
                    child(value)
            elif step.endswith("[]"):
                items = node.get(step[:-2])
                if isinstance(items, list):
                    for item in items:
                        child(item)
            else:
                child(node.get(step))

    return convert


def compile_converter(paths: t.Sequence[str]) -> Converter:
    """Return one function converting, in place, every timestamp at `paths` of a record."""
    tree: dict[str, t.Any] = {}
    for path in paths:
        *parents, leaf = path.split(".")
        node = tree
        for step in parents:
            node = node.setdefault(step, {})
        node[leaf] = None
    return _compile(tree)
