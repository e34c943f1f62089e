"""The App API v1 surface: one handler per endpoint of the reference's quick map (section 2), plus the
single-record reads a client may use. Handlers return the response body for a 200 or raise `ApiError`.

Documented choices where the reference is silent: newsletters and sender identities default to 10 per page
(max 100), `sort` defaults to `asc`; sender identities without `hidden` list the visible ones; messages use a
180-day "6 months" (strictest reading); activity `type` filters and message filters other than the window
are answered by scanning, so they are slow at large scales (no client in this project relies on them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from . import metrics, search
from .dataset import DAY, SUPPRESSION_TYPES, Dataset
from .determinism import Record
from .protocol import (
    EMPTY_PAGES,
    HIDDEN_IGNORED,
    SPEC_PEOPLE,
    STICKY_END,
    STRING_SENDER_IDS,
    ApiError,
    Request,
    cursor_page,
    decode_cursor,
    not_found,
)

SIX_MONTHS = 180 * DAY
TWELVE_MONTHS = 365 * DAY
ACTIONS_PER_PAGE = 10
Handler = Callable[[Request, Dataset], Any]
#: A handler with its own signature, so `route` keeps extra keyword parameters (`parent`, `cap`) visible to callers.
AnyHandler = TypeVar("AnyHandler", bound=Handler)
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[AnyHandler], AnyHandler]:
    """Register a handler; `{name}` in the pattern matches one numeric path segment, `{name:s}` any segment."""
    regex = re.sub(r"\{(\w+):s\}", r"(?P<\1>[^/]+)", pattern)
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[0-9]+)", regex)

    def register(handler: AnyHandler) -> AnyHandler:
        ROUTES.append((method, re.compile(f"^/v1{regex}/?$"), handler))
        return handler

    return register


def dispatch(request: Request, data: Dataset) -> Any:
    """Find the route for a request and run it; unknown paths and methods are 404 like the live API."""
    for method, regex, handler in ROUTES:
        match = regex.match(request.path)
        if match and method == request.method:
            request.params = match.groupdict()
            return handler(request, data)
    raise not_found(f"{request.method} {request.path}")


def lookup(data: Dataset, resource: str, record_id: int, what: str) -> Record:
    record = data.lookup(resource, record_id)
    if record is None:
        raise not_found(f"{what} {record_id}")
    return record


def find(items: Sequence[Record], key: str, value: Any, what: str) -> Record:
    for item in items:
        if item[key] == value:
            return item
    raise not_found(f"{what} {value}")


def with_sender_ids_as_text(request: Request, actions: list[Record]) -> list[Record]:
    """Actions with `from_id` / `reply_to_id` as JSON strings under the `string_sender_ids` quirk."""
    if STRING_SENDER_IDS not in request.quirks:
        return actions
    return [
        {**action, **{key: str(action[key]) for key in ("from_id", "reply_to_id") if action.get(key) is not None}}
        for action in actions
    ]


def spec_person(person: Record) -> Record:
    """A bulk-attributes item in the spec's example form: wrapped in `customer`, identifiers only in
    `attributes` (the simulator's people carry `cio_id`, and `id`/`email` when set, there)."""
    return {"customer": {key: value for key, value in person.items() if key != "identifiers"}}


def or_null(items: list[Any]) -> list[Any] | None:
    """Live quirk (reference 6.9): empty collections come back as `null` on these endpoints."""
    return items or None


# -- campaigns ------------------------------------------------------------------------------------------------


@route("GET", "/campaigns")
def list_campaigns(request: Request, data: Dataset) -> Any:
    return {"campaigns": data.campaigns}


@route("GET", "/campaigns/{campaign_id}")
def get_campaign(request: Request, data: Dataset) -> Any:
    return {"campaign": lookup(data, "campaigns", request.int_param("campaign_id"), "campaign")}


def campaign_actions(request: Request, data: Dataset) -> list[Record]:
    campaign_id = request.int_param("campaign_id")
    if campaign_id not in data.campaign_actions:
        raise not_found(f"campaign {campaign_id}")
    return data.campaign_actions[campaign_id]


@route("GET", "/campaigns/{campaign_id}/actions")
def list_campaign_actions(request: Request, data: Dataset) -> Any:
    page, token = cursor_page(campaign_actions(request, data), request, ACTIONS_PER_PAGE)
    return {"actions": with_sender_ids_as_text(request, page), "next": token}


@route("GET", "/campaigns/{campaign_id}/actions/{action_id}")
def get_campaign_action(request: Request, data: Dataset) -> Any:
    return {"action": find(campaign_actions(request, data), "id", request.params["action_id"], "action")}


@route("GET", "/campaigns/{campaign_id}/metrics")
def campaign_metrics(request: Request, data: Dataset) -> Any:
    campaign = get_campaign(request, data)["campaign"]
    return metrics.metrics_response(
        request, data.seed, f"campaign{campaign['id']}", campaign["created"], data.now, accepts_v2=True
    )


@route("GET", "/campaigns/{campaign_id}/actions/{action_id}/metrics")
def campaign_action_metrics(request: Request, data: Dataset) -> Any:
    action = get_campaign_action(request, data)["action"]
    return metrics.metrics_response(
        request, data.seed, f"action{action['id']}", action["created"], data.now, accepts_v2=True
    )


@route("GET", "/campaigns/{campaign_id}/metrics/links")
def campaign_link_metrics(request: Request, data: Dataset) -> Any:
    campaign = get_campaign(request, data)["campaign"]
    return metrics.links_response(request, data.seed, f"campaign{campaign['id']}", campaign["created"], data.now)


@route("GET", "/campaigns/{campaign_id}/actions/{action_id}/metrics/links")
def campaign_action_link_metrics(request: Request, data: Dataset) -> Any:
    action = get_campaign_action(request, data)["action"]
    return metrics.links_response(request, data.seed, f"action{action['id']}", action["created"], data.now)


@route("GET", "/campaigns/{campaign_id}/messages")
def campaign_messages(request: Request, data: Dataset) -> Any:
    campaign = get_campaign(request, data)["campaign"]
    return list_messages(request, data, parent=("campaign_id", campaign["id"]), cap=TWELVE_MONTHS)


# -- broadcasts -----------------------------------------------------------------------------------------------


@route("GET", "/broadcasts")
def list_broadcasts(request: Request, data: Dataset) -> Any:
    return {"broadcasts": data.broadcasts}


@route("GET", "/broadcasts/{broadcast_id}")
def get_broadcast(request: Request, data: Dataset) -> Any:
    return {"broadcast": lookup(data, "broadcasts", request.int_param("broadcast_id"), "broadcast")}


@route("GET", "/broadcasts/{broadcast_id}/actions")
def list_broadcast_actions(request: Request, data: Dataset) -> Any:
    """Paginated with `next` like the live API (reference 2.5), although the spec documents no cursor."""
    get_broadcast(request, data)
    page, token = cursor_page(data.broadcast_actions[request.int_param("broadcast_id")], request, ACTIONS_PER_PAGE)
    return {"actions": with_sender_ids_as_text(request, page), "next": token}


@route("GET", "/broadcasts/{broadcast_id}/triggers")
def list_broadcast_triggers(request: Request, data: Dataset) -> Any:
    get_broadcast(request, data)
    return {"triggers": data.broadcast_triggers[request.int_param("broadcast_id")]}


@route("GET", "/broadcasts/{broadcast_id}/metrics")
def broadcast_metrics(request: Request, data: Dataset) -> Any:
    broadcast = get_broadcast(request, data)["broadcast"]
    return metrics.metrics_response(
        request,
        data.seed,
        f"broadcast{broadcast['id']}",
        broadcast["created"],
        data.now,
        accepts_v2=False,
        months_max=121,
    )


@route("GET", "/broadcasts/{broadcast_id}/actions/{action_id}/metrics")
def broadcast_action_metrics(request: Request, data: Dataset) -> Any:
    get_broadcast(request, data)
    action = find(
        data.broadcast_actions[request.int_param("broadcast_id")], "id", request.params["action_id"], "action"
    )
    return metrics.metrics_response(
        request,
        data.seed,
        f"broadcast_action{action['id']}",
        action["created"],
        data.now,
        accepts_v2=False,
        months_max=121,
    )


@route("GET", "/broadcasts/{broadcast_id}/metrics/links")
def broadcast_link_metrics(request: Request, data: Dataset) -> Any:
    broadcast = get_broadcast(request, data)["broadcast"]
    return metrics.links_response(request, data.seed, f"broadcast{broadcast['id']}", broadcast["created"], data.now)


@route("GET", "/broadcasts/{broadcast_id}/actions/{action_id}/metrics/links")
def broadcast_action_link_metrics(request: Request, data: Dataset) -> Any:
    get_broadcast(request, data)
    action = find(
        data.broadcast_actions[request.int_param("broadcast_id")], "id", request.params["action_id"], "action"
    )
    return metrics.links_response(request, data.seed, f"broadcast_action{action['id']}", action["created"], data.now)


@route("GET", "/broadcasts/{broadcast_id}/messages")
def broadcast_messages(request: Request, data: Dataset) -> Any:
    broadcast = get_broadcast(request, data)["broadcast"]
    return list_messages(request, data, parent=("broadcast_id", broadcast["id"]))


# -- newsletters ----------------------------------------------------------------------------------------------


@route("GET", "/newsletters")
def list_newsletters(request: Request, data: Dataset) -> Any:
    limit = request.limit(default=10, maximum=100)
    ordered = data.newsletters if request.choice("sort", ("asc", "desc"), "asc") == "asc" else data.newsletters[::-1]
    page, token = cursor_page(ordered, request, limit)
    return {"newsletters": page, "next": token}


@route("GET", "/newsletters/{newsletter_id}")
def get_newsletter(request: Request, data: Dataset) -> Any:
    return {"newsletter": lookup(data, "newsletters", request.int_param("newsletter_id"), "newsletter")}


@route("GET", "/newsletters/{newsletter_id}/contents")
def list_newsletter_contents(request: Request, data: Dataset) -> Any:
    get_newsletter(request, data)
    return {"contents": data.newsletter_contents[request.int_param("newsletter_id")]}


@route("GET", "/newsletters/{newsletter_id}/contents/{content_id}")
def get_newsletter_content(request: Request, data: Dataset) -> Any:
    contents = list_newsletter_contents(request, data)["contents"]
    return {"content": find(contents, "id", request.int_param("content_id"), "content")}


@route("GET", "/newsletters/{newsletter_id}/test_groups")
def list_newsletter_test_groups(request: Request, data: Dataset) -> Any:
    get_newsletter(request, data)
    return {"test_groups": data.newsletter_test_groups[request.int_param("newsletter_id")]}


@route("GET", "/newsletters/{newsletter_id}/metrics")
def newsletter_metrics(request: Request, data: Dataset) -> Any:
    newsletter = get_newsletter(request, data)["newsletter"]
    return metrics.metrics_response(
        request,
        data.seed,
        f"newsletter{newsletter['id']}",
        newsletter["created"],
        data.now,
        accepts_v2=False,
        months_max=121,
    )


@route("GET", "/newsletters/{newsletter_id}/metrics/links")
def newsletter_link_metrics(request: Request, data: Dataset) -> Any:
    newsletter = get_newsletter(request, data)["newsletter"]
    return metrics.links_response(request, data.seed, f"newsletter{newsletter['id']}", newsletter["created"], data.now)


@route("GET", "/newsletters/{newsletter_id}/contents/{content_id}/metrics")
def newsletter_variant_metrics(request: Request, data: Dataset) -> Any:
    newsletter = get_newsletter(request, data)["newsletter"]
    content = get_newsletter_content(request, data)["content"]
    return metrics.metrics_response(
        request,
        data.seed,
        f"variant{content['id']}",
        newsletter["created"],
        data.now,
        accepts_v2=False,
        months_max=121,
    )


@route("GET", "/newsletters/{newsletter_id}/contents/{content_id}/metrics/links")
def newsletter_variant_link_metrics(request: Request, data: Dataset) -> Any:
    newsletter = get_newsletter(request, data)["newsletter"]
    content = get_newsletter_content(request, data)["content"]
    return metrics.links_response(request, data.seed, f"variant{content['id']}", newsletter["created"], data.now)


@route("GET", "/newsletters/{newsletter_id}/messages")
def newsletter_messages(request: Request, data: Dataset) -> Any:
    newsletter = get_newsletter(request, data)["newsletter"]
    return list_messages(request, data, parent=("newsletter_id", newsletter["id"]))


# -- messages -------------------------------------------------------------------------------------------------


def message_window(request: Request, now: int, cap: int) -> tuple[int, int]:
    """The reference's window rules, verbatim: at most `cap` (6 months) ending at `end_ts` (default now);
    without `start_ts` the full `cap` before `end_ts`. Both bounds are inclusive."""
    start_ts, end_ts = request.int_query("start_ts"), request.int_query("end_ts")
    end = now if end_ts is None else end_ts
    start = end - cap if start_ts is None else max(start_ts, end - cap)
    if start > end:
        raise ApiError(400, "start_ts must not be after end_ts")
    return start, end


MESSAGE_FILTERS = ("type", "metric", "campaign_id", "newsletter_id", "action_id", "broadcast_id")


@route("GET", "/messages")
def list_messages(request: Request, data: Dataset, parent: tuple[str, int] | None = None, cap: int = SIX_MONTHS) -> Any:
    """Deliveries newest first within the window; `next` is `""` after the last page, `messages` null if none."""
    limit = request.limit(default=50, maximum=1000)
    start, end = message_window(request, data.now, cap)
    newest_first: Sequence[int] = data.message_positions(start, end)[::-1]
    request.bool_query("drafts", False)  # validated; the simulated workspace has no drafted deliveries
    wanted = {name: request.query[name] for name in MESSAGE_FILTERS if request.query.get(name)}
    if parent:
        wanted[parent[0]] = str(parent[1])
    if wanted:
        offset, _ = decode_cursor(request.query.get("start"))
        newest_first = _scan_messages(data, newest_first, wanted, offset + limit + 1)
    positions, token = cursor_page(newest_first, request, limit, quirk=EMPTY_PAGES)
    return {"messages": or_null([data.message(i) for i in positions]), "next": token}


def _scan_messages(data: Dataset, positions: Sequence[int], wanted: dict[str, str], needed: int) -> list[int]:
    """Positions of the first `needed` messages matching every filter (enough to know if more remain)."""
    found = []
    for position in positions:
        message = data.message(position)
        if all(
            value in message["metrics"] if name == "metric" else str(message.get(name)) == value
            for name, value in wanted.items()
        ):
            found.append(position)
            if len(found) >= needed:
                break
    return found


@route("GET", "/messages/{message_id:s}")
def get_message(request: Request, data: Dataset) -> Any:
    position = data.message_position(request.params["message_id"])
    if position is None:
        raise not_found(f"message {request.params['message_id']}")
    return {"message": data.message(position)}


# -- customers ------------------------------------------------------------------------------------------------


@route("POST", "/customers")
def search_customers(request: Request, data: Dataset) -> Any:
    """People search: `identifiers` (use these), legacy `ids` (`""` for people without an id), `next`."""
    if not isinstance(request.body, dict) or "filter" not in request.body:
        raise ApiError(400, "request body must be a JSON object with a filter")
    limit = request.limit(default=50, maximum=1000)
    matches = search.matching_people(data, request.body["filter"])
    page, token = cursor_page(matches, request, limit)
    identifiers = [data.identifiers(i) for i in page]
    return {"identifiers": or_null(identifiers), "ids": or_null([p["id"] or "" for p in identifiers]), "next": token}


@route("GET", "/customers")
def customers_by_email(request: Request, data: Dataset) -> Any:
    email = request.query.get("email")
    if not email:
        raise ApiError(400, "email is required")
    index = data.person_index(email, "email")
    return {"results": [] if index is None else [data.identifiers(index)]}


ID_TYPES = ("id", "email", "cio_id")


@route("POST", "/customers/attributes")
def bulk_customer_attributes(request: Request, data: Dataset) -> Any:
    """Up to 100 people by id; unknown ids are omitted; items are flat (live), not wrapped in `customer`."""
    id_type = request.choice("id_type", ID_TYPES, "id")
    ids = request.body.get("ids") if isinstance(request.body, dict) else None
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, "ids must be a non-empty list")
    if len(ids) > 100:
        raise ApiError(400, "you can request at most 100 ids at a time")
    indexes = (data.person_index(str(value), id_type or "id") for value in ids)
    people = [data.person(i) for i in indexes if i is not None]
    return {"customers": [spec_person(p) for p in people] if SPEC_PEOPLE in request.quirks else people}


@route("GET", "/customers/{customer_id:s}/attributes")
def customer_attributes(request: Request, data: Dataset) -> Any:
    index = data.person_index(request.params["customer_id"], request.choice("id_type", ID_TYPES, "id") or "id")
    if index is None:
        raise not_found(f"customer {request.params['customer_id']}")
    return {"customer": data.person(index)}


@route("GET", "/customers/{customer_id:s}/subscription_preferences")
def customer_subscription_preferences(request: Request, data: Dataset) -> Any:
    index = data.person_index(request.params["customer_id"], request.choice("id_type", ID_TYPES, "id") or "id")
    if index is None:
        raise not_found(f"customer {request.params['customer_id']}")
    return {"customer": data.subscription_preferences(index)}


@route("GET", "/customers/{customer_id:s}/relationships")
def customer_relationships(request: Request, data: Dataset) -> Any:
    """The objects a person is related to, cursor paged (`limit` default 10, max 100, like the object side).
    The spec gives this endpoint no `id_type`: a `cio_` prefix names the person by cio_id, else the id."""
    customer_id = request.params["customer_id"]
    index = data.person_index(customer_id, "cio_id" if customer_id.startswith("cio_") else "id")
    if index is None:
        raise not_found(f"customer {customer_id}")
    page, token = cursor_page(data.person_relationships(index), request, request.limit(default=10, maximum=100))
    return {"cio_relationships": page, "next": token}


# -- segments -------------------------------------------------------------------------------------------------


@route("GET", "/segments")
def list_segments(request: Request, data: Dataset) -> Any:
    return {"segments": data.segments}


@route("GET", "/segments/{segment_id}")
def get_segment(request: Request, data: Dataset) -> Any:
    return {"segment": lookup(data, "segments", request.int_param("segment_id"), "segment")}


@route("GET", "/segments/{segment_id}/membership")
def segment_membership(request: Request, data: Dataset) -> Any:
    segment = get_segment(request, data)["segment"]
    limit = request.limit(default=1000, maximum=30000)
    page, token = cursor_page(data.segment_member_positions(segment["id"]), request, limit, quirk=EMPTY_PAGES)
    identifiers = [data.identifiers(i) for i in page]
    return {
        "identifiers": or_null(identifiers),
        "ids": or_null([p["id"] or "" for p in identifiers]),
        "next": token,
        "segment_id": segment["id"],
    }


@route("GET", "/segments/{segment_id}/customer_count")
def segment_customer_count(request: Request, data: Dataset) -> Any:
    segment = get_segment(request, data)["segment"]
    return {"count": len(data.segment_member_positions(segment["id"]))}


@route("GET", "/segments/{segment_id}/used_by")
def segment_used_by(request: Request, data: Dataset) -> Any:
    segment_id = get_segment(request, data)["segment"]["id"]
    newsletters = [n for n in data.newsletters if segment_id in n["recipient_segment_ids"]]
    return {
        "used_by": {
            "segment_id": segment_id,
            "campaigns": [
                c["id"]
                for c in data.campaigns
                if segment_id in c.get("trigger_segment_ids", []) + c["filter_segment_ids"]
            ],
            "sent_newsletters": [n["id"] for n in newsletters if n["sent_at"] is not None],
            "draft_newsletters": [n["id"] for n in newsletters if n["sent_at"] is None],
        }
    }


# -- activities -----------------------------------------------------------------------------------------------


@route("GET", "/activities")
def list_activities(request: Request, data: Dataset) -> Any:
    """Newest first; `deleted=true` adds deleted people's activities; numeric-string cursors."""
    limit = request.limit(default=10, maximum=100)
    newest_first = data.activity_positions(bool(request.bool_query("deleted", False)))[::-1]
    kind = request.query.get("type")
    if kind:
        newest_first = [i for i in newest_first if data.activity(i)["type"] == kind]
    positions, token = cursor_page(newest_first, request, limit, numeric=True, quirk=STICKY_END)
    return {"activities": [data.activity(i) for i in positions], "next": token}


# -- workspace configuration ------------------------------------------------------------------------------------


@route("GET", "/sender_identities")
def list_sender_identities(request: Request, data: Dataset) -> Any:
    hidden = bool(request.bool_query("hidden", False))
    limit = request.limit(default=10, maximum=100)
    chosen = [s for s in data.sender_identities if HIDDEN_IGNORED in request.quirks or s["hidden"] == hidden]
    if request.choice("sort", ("asc", "desc"), "asc") == "desc":
        chosen.reverse()
    page, token = cursor_page(chosen, request, limit, quirk=STICKY_END)
    return {"sender_identities": page, "next": token}


@route("GET", "/sender_identities/{sender_id}")
def get_sender_identity(request: Request, data: Dataset) -> Any:
    return {"sender_identity": lookup(data, "sender_identities", request.int_param("sender_id"), "sender identity")}


@route("GET", "/exports")
def list_exports(request: Request, data: Dataset) -> Any:
    return {"exports": data.exports}


@route("GET", "/exports/{export_id}")
def get_export(request: Request, data: Dataset) -> Any:
    return {"export": lookup(data, "exports", request.int_param("export_id"), "export")}


@route("GET", "/reporting_webhooks")
def list_reporting_webhooks(request: Request, data: Dataset) -> Any:
    return {"reporting_webhooks": data.reporting_webhooks}


@route("GET", "/snippets")
def list_snippets(request: Request, data: Dataset) -> Any:
    return {"snippets": data.snippets}


@route("GET", "/info/ip_addresses")
def list_ip_addresses(request: Request, data: Dataset) -> Any:
    return {"ip_addresses": data.ip_addresses}


@route("GET", "/collections")
def list_collections(request: Request, data: Dataset) -> Any:
    return {"collections": data.collections}


@route("GET", "/subscription_topics")
def list_subscription_topics(request: Request, data: Dataset) -> Any:
    return {"topics": data.subscription_topics}


@route("GET", "/workspaces")
def list_workspaces(request: Request, data: Dataset) -> Any:
    return {"workspaces": data.workspaces}


@route("GET", "/collections/{collection_id}/content")
def collection_content(request: Request, data: Dataset) -> Any:
    """The collection's data: a JSON object (the spec's shape) holding up to 20 of its rows."""
    collection = lookup(data, "collections", request.int_param("collection_id"), "collection")
    rows = [
        {column: f"{column}-{collection['id']}-{row}" for column in collection["schema"]}
        for row in range(min(collection["rows"], 20))
    ]
    return {"name": collection["name"], "revision": collection["updated_at"], "items": rows}


def object_of(request: Request, data: Dataset) -> Record:
    """The object a `/objects/{object_type_id}/{object_id}/...` path names (`id_type` object_id or cio_object_id)."""
    id_type = request.choice("id_type", ("object_id", "cio_object_id"), "object_id")
    assert id_type is not None, "choice returns the default when id_type is absent"
    items = data.objects.get(request.params["object_type_id"])
    if items is None:
        raise not_found(f"object type {request.params['object_type_id']}")
    return find(items, id_type, request.params["object_id"], "object")


@route("POST", "/objects")
def search_objects(request: Request, data: Dataset) -> Any:
    """Objects of one type; the filter must be present but every object matches it (the simulator does not
    evaluate object filters)."""
    body = request.body if isinstance(request.body, dict) else {}
    if "filter" not in body or not isinstance(body.get("object_type_id"), str):
        raise ApiError(400, "request body must be a JSON object with a string object_type_id and a filter")
    items = data.objects.get(body["object_type_id"], [])
    page, token = cursor_page(items, request, request.limit(default=50, maximum=1000))
    return {
        "identifiers": or_null([{"object_id": o["object_id"], "cio_object_id": o["cio_object_id"]} for o in page]),
        "ids": or_null([o["object_id"] for o in page]),
        "next": token,
    }


@route("GET", "/objects/{object_type_id:s}/{object_id:s}/attributes")
def object_attributes(request: Request, data: Dataset) -> Any:
    item = object_of(request, data)
    return {
        "object": {
            "attributes": item["attributes"],
            "timestamps": item["timestamps"],
            "identifiers": {"object_id": item["object_id"], "cio_object_id": item["cio_object_id"]},
            "object_type_id": request.params["object_type_id"],
        }
    }


@route("GET", "/objects/{object_type_id:s}/{object_id:s}/relationships")
def object_relationships(request: Request, data: Dataset) -> Any:
    item = object_of(request, data)
    page, token = cursor_page(item["people"], request, request.limit(default=10, maximum=100))
    return {
        "cio_relationships": [
            {
                "identifiers": data.identifiers(i),
                "object_type_id": request.params["object_type_id"],
                "object_type_disabled": False,
            }
            for i in page
        ],
        "next": token,
    }


@route("GET", "/object_types")
def list_object_types(request: Request, data: Dataset) -> Any:
    return {"types": data.object_types}


@route("GET", "/esp/suppression/{suppression_type:s}")
def list_suppressions(request: Request, data: Dataset) -> Any:
    """Offset paging (`limit` default 100, max 1000); past the end the list is `null` without `category`.
    The live `domain` parameter is accepted; every suppression belongs to the one simulated domain."""
    kind = request.params["suppression_type"]
    if kind not in SUPPRESSION_TYPES:
        raise ApiError(400, f"suppression_type must be one of {', '.join(SUPPRESSION_TYPES)}")
    limit = request.limit(default=100, maximum=1000)
    offset = request.int_query("offset", 0)
    assert offset is not None
    if offset < 0:
        raise ApiError(400, "offset must not be negative")
    page = data.suppressions[kind][offset : offset + limit]
    if not page:
        return {"suppressions": None}
    return {"category": SUPPRESSION_TYPES[kind], "suppressions": page}


# -- transactional --------------------------------------------------------------------------------------------


@route("GET", "/transactional")
def list_transactional(request: Request, data: Dataset) -> Any:
    return {"messages": data.transactional}


def transactional_message(request: Request, data: Dataset) -> Record:
    return lookup(data, "transactional", request.int_param("transactional_id"), "transactional message")


@route("GET", "/transactional/{transactional_id}")
def get_transactional(request: Request, data: Dataset) -> Any:
    return {"message": transactional_message(request, data)}


@route("GET", "/transactional/{transactional_id}/contents")
def list_transactional_contents(request: Request, data: Dataset) -> Any:
    return {"contents": data.transactional_contents[transactional_message(request, data)["id"]]}


@route("GET", "/transactional/{transactional_id}/messages")
def transactional_deliveries(request: Request, data: Dataset) -> Any:
    transactional_id = transactional_message(request, data)["id"]
    return list_messages(request, data, parent=("transactional_message_id", transactional_id))


@route("GET", "/transactional/{transactional_id}/metrics/links")
def transactional_link_metrics(request: Request, data: Dataset) -> Any:
    message = transactional_message(request, data)
    return metrics.links_response(request, data.seed, f"transactional{message['id']}", message["created_at"], data.now)


@route("GET", "/transactional/{transactional_id}/metrics")
def transactional_metrics(request: Request, data: Dataset) -> Any:
    message = transactional_message(request, data)
    return metrics.metrics_response(
        request,
        data.seed,
        f"transactional{message['id']}",
        message["created_at"],
        data.now,
        accepts_v2=False,
        months_max=121,
        keys=metrics.TRANSACTIONAL_KEYS,
    )
