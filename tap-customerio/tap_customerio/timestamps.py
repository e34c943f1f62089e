"""Unix-second timestamps → ISO 8601 strings, at the paths each stream declares.

The App API sends every time as integer unix seconds (reference §1.3); the schemas declare them as
`date-time` so that targets type them as timestamps. Paths are compiled once per stream because this runs
for every record.

Path syntax: `created` (top-level key), `metrics.sent` (nested key), `timestamps.*` (every value of an
object), `devices[].last_used` (a key in every element of a list).
"""

from __future__ import annotations

import datetime
import typing as t

Converter = t.Callable[[t.Any], None]

_UTC = datetime.timezone.utc


def unix_to_iso(value: t.Any) -> t.Any:
    """Return `value` as an ISO 8601 UTC string if it is a unix time; leave anything else untouched."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, _UTC).isoformat()
    if isinstance(value, str) and value.isdigit():
        return datetime.datetime.fromtimestamp(int(value), _UTC).isoformat()
    return value


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


def _compile(steps: list[str]) -> Converter:
    step, rest = steps[0], steps[1:]
    if step == "*":
        if rest:
            inner = _compile(rest)

            def each_value(node: t.Any) -> None:
                if isinstance(node, dict):
                    for value in node.values():
                        inner(value)

            return each_value

        def convert_values(node: t.Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    node[key] = unix_to_iso(value)

        return convert_values
    if step.endswith("[]"):
        key = step[:-2]
        inner = _compile(rest)

        def each_item(node: t.Any) -> None:
            items = node.get(key) if isinstance(node, dict) else None
            if isinstance(items, list):
                for item in items:
                    inner(item)

        return each_item
    if rest:
        inner = _compile(rest)

        def descend(node: t.Any) -> None:
            if isinstance(node, dict):
                inner(node.get(step))

        return descend

    def convert_key(node: t.Any) -> None:
        if isinstance(node, dict) and node.get(step) is not None:
            node[step] = unix_to_iso(node[step])

    return convert_key


def compile_converter(paths: t.Sequence[str]) -> Converter:
    """Return one function converting, in place, every timestamp at `paths` of a record."""
    converters = [_compile(path.split(".")) for path in paths]

    def convert(record: t.Any) -> None:
        for converter in converters:
            converter(record)

    return convert
