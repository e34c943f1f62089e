"""`attributes` (`attributes.json`): every person's current attributes first, then one row per changed one."""

from __future__ import annotations

import typing as t

from tap_customerio.streams.export.base import export_schema
from tap_customerio.streams.export.people import PeopleExport, person_identifiers
from tap_customerio.streams.export.values import Row, as_text, as_unix
from tap_customerio.timestamps import unix_to_iso

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from singer_sdk.helpers.types import Context


def first_seen(customer: Mapping[str, t.Any]) -> int | None:
    """When a person was created: the `created_at` attribute, else the earliest attribute timestamp."""
    created = as_unix((customer.get("attributes") or {}).get("created_at"))
    if created is not None:
        return created
    times = [as_unix(value) for value in (customer.get("timestamps") or {}).values()]
    return min((time for time in times if time is not None), default=None)


def attribute_rows(customer: Mapping[str, t.Any], workspace_id: int, after: int | None = None) -> Iterator[Row]:
    """`attributes` rows of one person: every current attribute when `after` is None (the initial sync)
    or the person was created after `after`, else one row per attribute whose `timestamps` entry is later
    than `after` (a changeset).

    An attribute changed twice between syncs yields one row with its current value, as in the seed's
    12:00/12:05/12:10/12:15 example; an attribute without a timestamp can only appear in an initial sync
    or with a new person.
    """
    cio_id = as_text(person_identifiers(customer)["cio_id"])
    timestamps = customer.get("timestamps") or {}
    if after is not None and (first_seen(customer) or 0) > after:
        after = None
    for name, value in sorted((customer.get("attributes") or {}).items()):
        changed = as_unix(timestamps.get(name))
        if after is not None and (changed is None or changed <= after):
            continue
        yield {
            "workspace_id": workspace_id,
            "internal_customer_id": cio_id,
            "attribute_name": name,
            "attribute_value": as_text(value),
            "timestamp": unix_to_iso(changed),
        }


class AttributesStream(PeopleExport):
    """`attributes`: every person's current attributes first, then one row per changed attribute."""

    name = "attributes"
    primary_keys = ("internal_customer_id", "attribute_name")
    replication_key = "timestamp"
    schema = export_schema("attributes")

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Attribute rows of every person from the `customers` stream's search + hydration."""
        after, workspace_id = self.changed_after(), self.workspace_id
        for customer in self.people.get_records(context):
            yield from attribute_rows(customer, workspace_id, after)
