"""People search (`POST /v1/customers`): the filter language (`and`/`or`/`not`/`segment`/`attribute` with
`eq`/`exists`) evaluated over live people, with the matches of recent filters cached per data generation."""

from __future__ import annotations

import json
import weakref
from bisect import bisect_left
from collections import OrderedDict
from typing import Any

from .dataset import Dataset
from .protocol import ApiError, not_found


def matching_people(data: Dataset, filter_: Any) -> list[int]:
    """Indexes of the live people a filter matches, in search order."""
    return _CACHES.setdefault(data, SearchCache()).get(data, filter_)


class SearchCache:
    """Matches of recent search filters (by filter and data generation), so paging a 220k-person match-all
    search does not re-evaluate the filter for every page."""

    def __init__(self, size: int = 8) -> None:
        self._entries: OrderedDict[tuple[str, int, int], list[int]] = OrderedDict()
        self._size = size

    def get(self, data: Dataset, filter_: Any) -> list[int]:
        key = (json.dumps(filter_, sort_keys=True), data.generation, data.people_count)
        if key not in self._entries:
            self._entries[key] = [i for i in data.live_people_positions() if _matches(data, filter_, i, {})]
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        self._entries.move_to_end(key)
        return self._entries[key]


_CACHES: weakref.WeakKeyDictionary[Dataset, SearchCache] = weakref.WeakKeyDictionary()
IDENTIFIER_FIELDS = ("cio_id", "id", "email")


def _matches(data: Dataset, node: Any, index: int, person: dict[str, Any]) -> bool:
    """Evaluate a search filter (`and`/`or`/`not`/`segment`/`attribute` with `eq`/`exists`) for one person."""
    if not isinstance(node, dict) or len(node) != 1:
        raise ApiError(400, "each filter node must have exactly one of and, or, not, segment, attribute")
    ((kind, value),) = node.items()
    if kind in ("and", "or"):
        if not isinstance(value, list) or not value:
            raise ApiError(400, f"{kind} must be a non-empty list")
        results = (_matches(data, child, index, person) for child in value)
        return all(results) if kind == "and" else any(results)
    if kind == "not":
        return not _matches(data, value, index, person)
    if kind == "segment":
        if not isinstance(value, dict) or not isinstance(value.get("id"), int):
            raise ApiError(400, "segment filter needs an integer id")
        if data.lookup("segments", value["id"]) is None:
            raise not_found(f"segment {value['id']}")
        members = data.segment_member_positions(value["id"])
        position = bisect_left(members, index)
        return position < len(members) and members[position] == index
    if kind == "attribute":
        return _attribute_matches(data, value, index, person)
    raise ApiError(400, f"unknown filter {kind}")


def _attribute_matches(data: Dataset, condition: Any, index: int, person: dict[str, Any]) -> bool:
    if not isinstance(condition, dict) or "field" not in condition:
        raise ApiError(400, "attribute filter needs a field")
    operator, name = condition.get("operator"), condition["field"]
    if operator not in ("eq", "exists"):
        raise ApiError(400, "attribute operator must be eq or exists")
    if name == "cio_id" and operator == "exists":
        return True  # every person has a cio_id; this is the match-all filter clients page through
    if name in IDENTIFIER_FIELDS:
        actual = data.identifiers(index)[name]
    else:
        if "attributes" not in person:
            person.update(data.person(index))
        actual = person["attributes"].get(name)
    return actual is not None if operator == "exists" else actual == str(condition.get("value"))
