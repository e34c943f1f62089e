"""`people` (`people.json`): one row per person changed since the last run, and one per person deleted since."""

from __future__ import annotations

import typing as t
from functools import cached_property

from tap_customerio.streams.export.base import ExportStream, export_schema
from tap_customerio.streams.export.sources import ActivityFeed, People
from tap_customerio.streams.export.values import Row, as_text, as_unix
from tap_customerio.streams.people import CustomersStream
from tap_customerio.timestamps import unix_to_iso

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from singer_sdk.helpers.types import Context

#: The activity type the feed records when a person is deleted (spec `type` enum).
PROFILE_DELETE = "profile_delete"


def person_identifiers(customer: Mapping[str, t.Any]) -> Mapping[str, t.Any]:
    """`{cio_id, id, email}` of a hydrated person (the bulk endpoint sends them flat, reference §6.2)."""
    return customer.get("identifiers") or (customer.get("customer") or {}).get("identifiers") or {}


def last_change(customer: Mapping[str, t.Any]) -> int | None:
    """The latest per-attribute update time of a person, i.e. when the profile last changed."""
    times = [as_unix(value) for value in (customer.get("timestamps") or {}).values()]
    return max((time for time in times if time is not None), default=None)


def person_row(customer: Mapping[str, t.Any], workspace_id: int) -> Row:
    """A `people` row from a hydrated person (`POST /v1/customers/attributes` item).

    `deleted` is false: the search only returns people that exist. `suppressed` is null: the App API
    does not say whether a person is suppressed.
    """
    identifiers = person_identifiers(customer)
    attributes = customer.get("attributes") or {}
    return {
        "workspace_id": workspace_id,
        "internal_customer_id": as_text(identifiers["cio_id"]),
        "customer_id": as_text(identifiers.get("id")) or None,
        "email": identifiers.get("email") or None,
        "deleted": False,
        "suppressed": None,
        "unsubscribed": customer.get("unsubscribed"),
        "created_at": unix_to_iso(as_unix(attributes.get("created_at"))),
        "updated_at": unix_to_iso(last_change(customer)),
    }


def deleted_person_row(activity: Mapping[str, t.Any], workspace_id: int) -> Row | None:
    """A `people` row from a `profile_delete` activity: the person's identifiers as the feed keeps them,
    `deleted` true at the activity's time; None when the activity names no `cio_id`."""
    identifiers = activity.get("customer_identifiers") or {}
    cio_id = as_text(identifiers.get("cio_id"))
    if activity.get("type") != PROFILE_DELETE or not cio_id:
        return None
    return {
        "workspace_id": workspace_id,
        "internal_customer_id": cio_id,
        "customer_id": as_text(identifiers.get("id") or activity.get("customer_id")) or None,
        "email": identifiers.get("email") or None,
        "deleted": True,
        "suppressed": None,
        "unsubscribed": None,
        "created_at": None,
        "updated_at": unix_to_iso(as_unix(activity.get("timestamp"))),
    }


class PeopleExport(ExportStream):
    """Reads every person through the `customers` stream's search + hydration."""

    path = CustomersStream.path  # the endpoint read (named by `--about`), through `people` below
    http_method = CustomersStream.http_method

    @cached_property
    def people(self) -> People:
        """The search + hydration this stream reads (building it sends no request, see `ExportStream`)."""
        return People(self)

    def probe_access(self) -> bool:
        """Readable when the customer search is."""
        return self.people.probe_access()

    def backfill_estimate(self) -> tuple[int, str] | None:
        """The search pages and hydration batches."""
        return self.people.backfill_estimate()


class PeopleStream(PeopleExport):
    """`people`: one row per person whose attributes changed after the bookmark (all on a first run), and on
    later runs one row per person deleted since (`deleted` true), from the feed's `profile_delete` activities.

    People deleted before the first sync are left out, as in Customer.io's export. Suppression cannot be told
    apart from deletion through the App API, so `suppressed` stays null (see docs/export.md).
    """

    name = "people"
    primary_keys = ("internal_customer_id",)
    replication_key = "updated_at"
    schema = export_schema("people")

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """People from the search + hydration of the `customers` stream."""
        after, workspace_id = self.changed_after(), self.workspace_id
        for customer in self.people.get_records(context):
            changed = last_change(customer)
            if after is None or (changed is not None and changed > after):
                yield person_row(customer, workspace_id)
        if after is not None:
            yield from self.deleted_since(after, workspace_id)

    def deleted_since(self, after: int, workspace_id: int) -> Iterator[Row]:
        """Rows of the people whose `profile_delete` activity is later than `after`."""
        for activity in ActivityFeed(self, after, PROFILE_DELETE).request_records(None):
            row = deleted_person_row(activity, workspace_id)
            if row is not None and (as_unix(activity.get("timestamp")) or 0) > after:
                yield row
