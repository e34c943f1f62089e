"""Reading a response body, shared by validation, pagination and record extraction.

`validate_response` checks the body (where a truncated or invalid body can still be retried) by reading its
top-level object with the values left undecoded (`envelope`); the paginator then decodes only the value it
needs (`top_level`), and `parse_response` decodes a page's records one at a time as they are reached
(`items`). Decoding the whole page first (1000 `messages` records, 1.7 MiB of Python objects, more than a
core's L2 cache) made every later step of a record read it back from farther away than the CPU's cache: on
`messages`, decoding, converting and writing a record cost a fifth less when each record is decoded just before
it is used (docs/benchmarks.md). Anything else reads the whole body, decoded once (`parsed_body`).
"""

from __future__ import annotations

import functools
import typing as t

import msgspec

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    import requests

_CACHE_ATTR = "_cio_body"
_ENVELOPE_ATTR = "_cio_envelope"
_ENVELOPE = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ITEMS = msgspec.json.Decoder(list[msgspec.Raw] | None)
_VALUE = msgspec.json.Decoder()


class InvalidBodyError(ValueError):
    """The response body is not a JSON object (truncated, empty or not JSON)."""


def envelope(response: requests.Response) -> dict[str, msgspec.Raw]:
    """The body's top-level object with its values undecoded (checked as JSON and UTF-8), read on first use."""
    cached = getattr(response, _ENVELOPE_ATTR, None)
    if cached is not None:
        return cached
    content = response.content
    try:
        content.decode()  # msgspec checks UTF-8 only in the values it decodes, and these are decoded later
        body = _ENVELOPE.decode(content) if content else {}
    except msgspec.ValidationError:
        msg = f"expected a JSON object, got {type(_VALUE.decode(content)).__name__}"
        raise InvalidBodyError(msg) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        msg = f"invalid JSON body ({len(content)} bytes): {exc}"
        raise InvalidBodyError(msg) from exc
    setattr(response, _ENVELOPE_ATTR, body)
    return body


def top_level(response: requests.Response, key: str) -> t.Any:
    """The value under `key` in the body's top-level object, decoded (None when absent)."""
    raw = envelope(response).get(key)
    return None if raw is None else _VALUE.decode(raw)


def items(response: requests.Response, key: str) -> Iterator[t.Any]:
    """The items of the list under `key` (present: see `envelope`), each decoded when it is reached; `null`
    has none. A value that is not a list is taken whole, as `parsed_body(response)[key] or []` would be."""
    raw = envelope(response)[key]
    try:
        return map(_VALUE.decode, _ITEMS.decode(raw) or ())
    except msgspec.ValidationError:
        return iter(_VALUE.decode(raw) or [])


def count(response: requests.Response, key: str) -> int:
    """How many items the list under `key` holds (0 when absent or `null`), without decoding them: the offset
    paginator only needs to know whether a page was full."""
    raw = envelope(response).get(key)
    if raw is None:
        return 0
    try:
        return len(_ITEMS.decode(raw) or ())
    except msgspec.ValidationError:
        return len(_VALUE.decode(raw) or [])


def item_fields(response: requests.Response, key: str, field: str) -> Iterator[t.Any]:
    """The value of `field` in each item of the list under `key` (present), decoding nothing else of the
    item: the newest-first paginator reads one timestamp of records `items` has already decoded for
    `parse_response`. None for an item without the field, or that is not an object."""
    decoder = _field_decoder(field)
    raw_items = _ITEMS.decode(envelope(response)[key]) or ()
    for raw in raw_items:
        try:
            yield decoder.decode(raw).value
        except msgspec.ValidationError:
            yield None


@functools.cache
def _field_decoder(field: str) -> msgspec.json.Decoder[t.Any]:
    """Decodes a JSON object's `field` only; msgspec skips the other members without building them."""
    one_field = msgspec.defstruct("OneField", [("value", t.Any, None)], rename={"value": field})
    return msgspec.json.Decoder(one_field)


def parsed_body(response: requests.Response) -> dict[str, t.Any]:
    """Return the JSON object in `response`, decoding it whole on first use.

    msgspec is used instead of `response.json()` because decoding is the tap's largest CPU cost on
    `messages` (1000 records per page) and floats do not occur in App API list responses.
    """
    cached = getattr(response, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    envelope(response)  # the same checks and errors
    body = _VALUE.decode(response.content) if response.content else {}
    setattr(response, _CACHE_ATTR, body)
    return body
