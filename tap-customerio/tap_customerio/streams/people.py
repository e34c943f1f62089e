"""People: found through the search endpoint, hydrated with attributes and devices 100 at a time."""

from __future__ import annotations

import itertools
import typing as t
from http import HTTPStatus
from urllib.parse import quote

from tap_customerio.client import CustomerIOError, CustomerIOStream, ParentGoneError
from tap_customerio.schemas import people as schemas

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context


#: Match every person: everyone has a `cio_id`, including people without `id` or email.
MATCH_ALL = {"filter": {"and": [{"attribute": {"field": "cio_id", "operator": "exists"}}]}}
HYDRATE_BATCH = 100
T = t.TypeVar("T")
IDENTIFIER_KEYS = ("cio_id", "id", "email")
PREFERENCES = "/subscription_preferences"


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (`itertools.batched` needs Python 3.12)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class CustomersStream(CustomerIOStream):
    """`POST /v1/customers` (search, 1000 per page) → `POST /v1/customers/attributes?id_type=cio_id`.

    Hydration batches run on the scheduler's worker threads while the main thread fetches the next search page,
    so request latency does not leave the rate budget idle; records keep the search order. Hydrating by
    `cio_id` (not `id`) is what keeps people without an `id` or email. People have no change timestamp,
    so the stream is full table.
    """

    name = "customers"
    path = "/customers"
    http_method = "POST"
    records_key = "identifiers"
    paging = "cursor"
    page_size = 1000
    primary_keys: tuple[str, ...] = ("cio_id",)
    schema = schemas.CUSTOMER
    long_running = True
    timestamp_fields: tuple[str, ...] = ("timestamps.*", "devices[].last_used")

    def prepare_request_payload(self, context: Context | None, next_page_token: t.Any) -> dict:
        """The match-all search filter."""
        return MATCH_ALL

    def backfill_estimate(self) -> tuple[int, str] | None:
        """Search pages and hydration batches for the people `/v1/workspaces` counts."""
        people = self.tap.workspace_figure("people")
        if people is None:
            return None
        pages, batches = -(-people // self.page_size), -(-people // HYDRATE_BATCH)
        return pages + batches, f"{pages} search pages and {batches} hydration requests for {people} people"

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Hydrated people in search order, with a bounded number of batches in flight."""
        found = (ident for ident in self.request_records(context) if ident.get("cio_id") not in (None, ""))
        depth = 2 * self.settings.max_concurrency
        for people in self.scheduler.map_ahead(self.hydrate, batched(found, HYDRATE_BATCH), depth):
            yield from people

    def hydrate(self, found: list[dict]) -> list[dict]:
        """Attributes and devices of up to 100 people found by the search; people deleted since the search
        are omitted."""
        response = self.send_request(
            "POST",
            "/customers/attributes",
            params={"id_type": "cio_id"},
            json={"ids": [as_id_text(ident["cio_id"]) for ident in found]},
        )
        hits = SearchHits(found)
        return [self.person_record(item, hits) for item in self.records_in(response, "customers")]

    def person_record(self, item: dict, hits: SearchHits) -> dict:
        """One flat person row (live items are flat; the spec wraps them in `customer`)."""
        person = item.get("customer", item)
        identifiers = hits.complete(person_identifiers(person))
        if identifiers["cio_id"] is None:
            msg = (
                f"stream '{self.name}': a person from POST /v1/customers/attributes has no cio_id and matches "
                f"no search result by id {identifiers['id']!r} or email {identifiers['email']!r}"
            )
            raise CustomerIOError(msg)
        return {
            **identifiers,
            "identifiers": identifiers,
            "attributes": person.get("attributes") or {},
            "timestamps": person.get("timestamps") or {},
            "unsubscribed": person.get("unsubscribed"),
            "devices": person.get("devices") or [],
        }


def as_id_text(value: t.Any) -> str | None:
    """An identifier as text: the spec types them as strings, its examples show integers (`3000001`)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def person_identifiers(person: dict) -> dict[str, str | None]:
    """`{cio_id, id, email}` from a bulk-attributes item: its `identifiers` where present (live), else the
    identifier attributes (the spec's example carries `cio_id`/`id`/`email` only inside `attributes`);
    `id` last falls back to the item's own `id`."""
    own = person.get("identifiers") or {}
    attributes = person.get("attributes") or {}
    found = {key: as_id_text(own.get(key)) or as_id_text(attributes.get(key)) for key in IDENTIFIER_KEYS}
    found["id"] = found["id"] or as_id_text(person.get("id"))
    return found


class SearchHits:
    """The search results of one hydration batch, to complete a hydrated person's identifiers from."""

    def __init__(self, found: list[dict]) -> None:
        hits = [{key: as_id_text(ident.get(key)) for key in IDENTIFIER_KEYS} for ident in found]
        self._by = {key: {hit[key]: hit for hit in hits if hit[key]} for key in IDENTIFIER_KEYS}

    def complete(self, identifiers: dict[str, str | None]) -> dict[str, str | None]:
        """`identifiers` with what is missing taken from the search hit with the same cio_id, id or email."""
        hit = next(
            (
                self._by[key][identifiers[key]]
                for key in IDENTIFIER_KEYS
                if identifiers[key] and identifiers[key] in self._by[key]
            ),
            {},
        )
        return {key: identifiers[key] or hit.get(key) for key in IDENTIFIER_KEYS}


class SubscriptionPreferencesStream(CustomerIOStream):
    """`GET /v1/customers/{cio_id}/subscription_preferences` for every person the search finds: one request per
    person, so the stream is not selected by default. No timestamps: full table."""

    name = "subscription_preferences"
    path = "/customers"
    http_method = "POST"
    records_key = "identifiers"
    paging = "cursor"
    page_size = 1000
    primary_keys = ("cio_id",)
    schema = schemas.SUBSCRIPTION_PREFERENCES
    selected_by_default = False

    def prepare_request_payload(self, context: Context | None, next_page_token: t.Any) -> dict:
        """The match-all search filter."""
        return MATCH_ALL

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Each found person's preferences, a bounded number of requests in flight."""
        depth = 2 * self.settings.max_concurrency
        found = (ident for ident in self.request_records(context) if ident.get("cio_id") not in (None, ""))
        yield from filter(None, self.scheduler.map_ahead(self.preferences, found, depth))

    def validate_response(self, response: requests.Response) -> None:
        """A 404 for one person's preferences means the person was deleted since the search: skipped."""
        if response.status_code == HTTPStatus.NOT_FOUND and response.url.split("?")[0].endswith(PREFERENCES):
            msg = f"HTTP 404 from {self._endpoint(response)}: the person no longer exists"
            raise ParentGoneError(msg)
        super().validate_response(response)

    def preferences(self, ident: dict) -> dict | None:
        """One person's row; None when the person was deleted since the search (404)."""
        cio_id = as_id_text(ident["cio_id"])
        assert cio_id is not None  # the search keeps only people with a cio_id
        try:
            body = self.send("GET", f"/customers/{quote(cio_id, safe='')}{PREFERENCES}", params={"id_type": "cio_id"})
        except ParentGoneError:
            return None
        customer = body.get("customer") or {}
        identifiers = customer.get("identifiers") or {}
        return {
            "cio_id": cio_id,
            "id": as_id_text(identifiers.get("id", ident.get("id"))),
            "email": identifiers.get("email", ident.get("email")),
            "unsubscribed": customer.get("unsubscribed"),
            "topics": customer.get("topics") or [],
        }
