"""People: found through the search endpoint, hydrated with attributes and devices 100 at a time."""

from __future__ import annotations

import collections
import itertools
import typing as t

from tap_customerio.client import CustomerIOStream
from tap_customerio.schemas import people as schemas

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from concurrent.futures import Future

    from singer_sdk.helpers.types import Context

#: Match every person: everyone has a `cio_id`, including people without `id` or email.
MATCH_ALL = {"filter": {"and": [{"attribute": {"field": "cio_id", "operator": "exists"}}]}}
HYDRATE_BATCH = 100


def batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of `size` items (`itertools.batched` needs Python 3.12)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class CustomersStream(CustomerIOStream):
    """`POST /v1/customers` (search, 1000 per page) → `POST /v1/customers/attributes?id_type=cio_id`.

    Hydration batches run on `max_concurrency` threads while the main thread fetches the next search page,
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
    primary_keys = ("cio_id",)
    schema = schemas.CUSTOMER
    timestamp_fields = ("timestamps.*", "devices[].last_used")

    def prepare_request_payload(self, context: Context | None, next_page_token: t.Any) -> dict:
        """The match-all search filter."""
        return MATCH_ALL

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Hydrated people in search order, with a bounded number of batches in flight."""
        workers = int(self.config.get("max_concurrency", 4))
        in_flight: collections.deque[Future[list[dict]]] = collections.deque()
        found = (ident["cio_id"] for ident in self.request_records(context) if ident.get("cio_id"))
        for batch in batched(found, HYDRATE_BATCH):
            in_flight.append(self.workers.submit(self.hydrate, batch))
            while len(in_flight) > workers * 2:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()

    def hydrate(self, cio_ids: list[str]) -> list[dict]:
        """Attributes and devices of up to 100 people; people deleted since the search are omitted."""
        response = self.send_request("POST", "/customers/attributes", params={"id_type": "cio_id"},
                                     json={"ids": cio_ids})
        return [self.person_record(item) for item in self.records_in(response, "customers")]

    @staticmethod
    def person_record(item: dict) -> dict:
        """One flat person row (live items are flat; the spec wraps them in `customer`)."""
        person = item.get("customer", item)
        identifiers = person.get("identifiers") or {}
        return {
            "cio_id": identifiers.get("cio_id"),
            "id": identifiers.get("id", person.get("id")),
            "email": identifiers.get("email"),
            "identifiers": identifiers,
            "attributes": person.get("attributes") or {},
            "timestamps": person.get("timestamps") or {},
            "unsubscribed": person.get("unsubscribed"),
            "devices": person.get("devices") or [],
        }
