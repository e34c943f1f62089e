"""Objects of every object type and the people related to them (what ingestr reads).

`POST /v1/objects` finds the objects of one type (the spec allows duplicates across pages, so each is kept
once); each object's attributes come from `GET /v1/objects/{type}/{id}/attributes`, one request per object.
The attribute `timestamps` give the time an object last changed (`updated_at`), the replication key.
"""

from __future__ import annotations

import typing as t
from urllib.parse import quote

from tap_customerio.client import CustomerIOStream, ParentGoneError
from tap_customerio.schemas import objects as schemas
from tap_customerio.streams.workspace import ObjectTypesStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context


def match_all(object_type_id: str) -> dict:
    """Search body matching every object of a type: `object_id` exists (as the people search's `cio_id`)."""
    condition = {"field": "object_id", "operator": "exists", "type_id": object_type_id}
    return {"object_type_id": object_type_id, "filter": {"and": [{"object_attribute": condition}]}}


class ObjectsStream(CustomerIOStream):
    """`POST /v1/objects` per object type, each object hydrated with its attributes."""

    name = "objects"
    parent_stream_type = ObjectTypesStream
    path = "/objects"
    http_method = "POST"
    records_key = "identifiers"
    paging = "cursor"
    page_size = 100
    primary_keys = ("object_type_id", "cio_object_id")
    replication_key = "updated_at"
    state_partitioning_keys = ()
    schema = schemas.OBJECT
    timestamp_fields = ("timestamps.*", "updated_at")

    def prepare_request_payload(self, context: Context | None, next_page_token: t.Any) -> dict:
        """The match-all filter for the context's object type."""
        return match_all(str((context or {})["object_type_id"]))

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Objects changed after the bookmark (minus lookback); relationships of the others are still read
        (their first pages fetched ahead, as for every parent)."""
        threshold = self.cdc_threshold(context)
        for record in self.with_children_prefetched(self.hydrated(context), context):
            if threshold is None or record["updated_at"] is None or record["updated_at"] > threshold:
                yield record
            elif self.child_streams:
                for child_context in self.generate_child_contexts(record, context):
                    self.sync_children(child_context)

    def records_ahead(self, response: requests.Response) -> Iterable[dict]:
        """None: the search finds objects without the fields of the rows their relationships are read for
        (`hydrate`), so the relationships are fetched ahead from the hydrated rows."""
        return ()

    def hydrated(self, context: Context | None) -> Iterator[dict]:
        """Each found object once, with its attributes, a bounded number of requests in flight. A type whose id
        is not an integer cannot be addressed (the spec types the path's `object_type_id` as an integer; ids
        are "integers passed as strings"): its objects are skipped with a warning."""
        object_type_id = str((context or {})["object_type_id"])
        if not object_type_id.isdigit():
            self.logger.warning("Stream '%s' skips object type %r: its id is not an integer", self.name, object_type_id)
            return
        depth = 2 * self.settings.max_concurrency
        rows = self.scheduler.map_ahead(
            lambda found: self.hydrate(object_type_id, found), self.first_sightings(context), depth
        )
        yield from filter(None, rows)

    def first_sightings(self, context: Context | None) -> Iterator[dict]:
        """Each object the search finds, once (a search page may repeat an object of the previous one)."""
        seen: set[str] = set()
        for found in self.request_records(context):
            cio_object_id = found.get("cio_object_id")
            if cio_object_id and cio_object_id not in seen:
                seen.add(cio_object_id)
                yield found

    def hydrate(self, object_type_id: str, found: dict) -> dict | None:
        """One object row; None when the object was deleted since the search (404)."""
        path = f"/objects/{quote(object_type_id, safe='')}/{quote(found['cio_object_id'], safe='')}/attributes"
        try:
            body = self.send("GET", path, params={"id_type": "cio_object_id"})
        except ParentGoneError:
            return None
        item = body.get("object") or {}
        timestamps = item.get("timestamps") or {}
        times = [value for value in timestamps.values() if type(value) is int]
        return {
            "object_type_id": object_type_id,
            "cio_object_id": found["cio_object_id"],
            "object_id": found.get("object_id"),
            "attributes": item.get("attributes") or {},
            "timestamps": timestamps,
            "updated_at": max(times, default=None),
        }

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        """Relationships are read per object."""
        return {"object_type_id": record["object_type_id"], "cio_object_id": record["cio_object_id"]}


class ObjectRelationshipsStream(CustomerIOStream):
    """`GET /v1/objects/{type}/{cio_object_id}/relationships?id_type=cio_object_id`: the people related to
    an object, one row each; no timestamps, so full table."""

    name = "object_relationships"
    parent_stream_type = ObjectsStream
    path = "/objects/{object_type_id}/{cio_object_id}/relationships"
    records_key = "cio_relationships"
    paging = "cursor"
    page_size = 100
    primary_keys = ("object_type_id", "cio_object_id", "cio_id")
    state_partitioning_keys = ()
    schema = schemas.OBJECT_RELATIONSHIP

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """The object is named by its `cio_object_id`."""
        return {**super().get_url_params(context, next_page_token), "id_type": "cio_object_id"}

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """Flatten each related person's identifiers. The spec's example nests some relations in an inner
        list, so inner lists are read as relations too."""
        relations: list[dict] = []
        for item in super().parse_response(response):
            relations.extend(item if isinstance(item, list) else [item])
        return [
            {key: (relation.get("identifiers") or {}).get(key) for key in ("cio_id", "id", "email")}
            for relation in relations
            if isinstance(relation, dict)
        ]
