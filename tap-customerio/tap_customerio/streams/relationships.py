"""Each person's relationships to objects: `GET /v1/customers/cio_{cio_id}/relationships` for every person the
customer search finds."""

from __future__ import annotations

import typing as t
from http import HTTPStatus
from urllib.parse import quote

from tap_customerio.client import CustomerIOStream, ParentGoneError
from tap_customerio.pagination import CursorPaginator
from tap_customerio.schemas import relationships as schemas
from tap_customerio.streams.people import MATCH_ALL, as_id_text

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context

RELATIONSHIPS = "/relationships"
#: Relationships per page (the spec gives no maximum; the object relationships endpoint serves 100).
RELATIONSHIPS_PAGE_SIZE = 100


class CustomerRelationshipsStream(CustomerIOStream):
    """One row per (person, related object). The person is named by `cio_` + cio_id in the path, the spec's
    way to address a person by cio_id (the endpoint has no `id_type`), so people without an `id` are kept.

    One request per person (and per 100 of their relationships), so the stream is not selected by default.
    The spec warns that pages may repeat entries: each object is kept once per person. Relationships carry no
    change time for the set (a removed one leaves no trace), so the stream is full table.
    """

    name = "customer_relationships"
    path = "/customers"
    http_method = "POST"
    records_key = "identifiers"
    paging = "cursor"
    page_size = 1000
    primary_keys = ("cio_id", "object_type_id", "cio_object_id")
    schema = schemas.CUSTOMER_RELATIONSHIP
    timestamp_fields = ("timestamps.*",)
    selected_by_default = False

    def prepare_request_payload(self, context: Context | None, next_page_token: t.Any) -> dict:
        """The match-all search filter."""
        return MATCH_ALL

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Each found person's relationships, a bounded number of people in flight."""
        depth = 2 * self.settings.max_concurrency
        found = (ident for ident in self.request_records(context) if ident.get("cio_id") not in (None, ""))
        for rows in self.scheduler.map_ahead(self.relationships, found, depth):
            yield from rows

    def validate_response(self, response: requests.Response) -> None:
        """A 404 for one person's relationships means the person was deleted since the search: skipped."""
        if response.status_code == HTTPStatus.NOT_FOUND and response.url.split("?")[0].endswith(RELATIONSHIPS):
            msg = f"HTTP 404 from {self._endpoint(response)}: the person no longer exists"
            raise ParentGoneError(msg)
        super().validate_response(response)

    def relationships(self, ident: dict) -> list[dict]:
        """Every relationship of one person, page by page; none when the person was deleted since the search."""
        cio_id = as_id_text(ident["cio_id"])
        path = f"/customers/{quote(f'cio_{cio_id}', safe='')}{RELATIONSHIPS}"
        paginator = CursorPaginator(path)
        rows: dict[tuple[str | None, str | None], dict] = {}
        try:
            while not paginator.finished:
                params: dict[str, t.Any] = {"limit": RELATIONSHIPS_PAGE_SIZE}
                if paginator.current_value:
                    params["start"] = paginator.current_value
                response = self.send_request("GET", path, params=params)
                relations = self.records_in(response, "cio_relationships")
                for relation in relations:
                    row = relationship_row(cio_id, relation)
                    rows.setdefault((row["object_type_id"], row["cio_object_id"]), row)
                if not relations and not paginator.continue_if_empty(response):
                    break
                paginator.advance(response)
        except ParentGoneError:
            return []
        return list(rows.values())


def relationship_row(cio_id: str | None, relation: dict) -> dict:
    """One flat row from a `cio_relationships` item."""
    identifiers = relation.get("identifiers") or {}
    return {
        "cio_id": cio_id,
        "object_type_id": as_id_text(relation.get("object_type_id")),
        "cio_object_id": as_id_text(identifiers.get("cio_object_id")),
        "object_id": as_id_text(identifiers.get("object_id")),
        "attributes": relation.get("attributes") or {},
        "timestamps": relation.get("timestamps") or {},
    }
