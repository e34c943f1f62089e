"""Parsing a response body once, so that validation, pagination and record extraction share it.

The body is decoded inside `validate_response` (where a truncated or invalid body can still be retried);
the paginator and `parse_response` then read the cached result instead of decoding again.
"""

from __future__ import annotations

import typing as t

import msgspec

if t.TYPE_CHECKING:
    import requests

_CACHE_ATTR = "_cio_body"


class InvalidBodyError(ValueError):
    """The response body is not a JSON object (truncated, empty or not JSON)."""


def parsed_body(response: requests.Response) -> dict[str, t.Any]:
    """Return the JSON object in `response`, decoding it on first use.

    msgspec is used instead of `response.json()` because decoding is the tap's largest CPU cost on
    `messages` (1000 records per page) and floats do not occur in App API list responses.
    """
    cached = getattr(response, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    try:
        body = msgspec.json.decode(response.content) if response.content else {}
    except msgspec.DecodeError as exc:
        msg = f"invalid JSON body ({len(response.content)} bytes): {exc}"
        raise InvalidBodyError(msg) from exc
    if not isinstance(body, dict):
        msg = f"expected a JSON object, got {type(body).__name__}"
        raise InvalidBodyError(msg)
    setattr(response, _CACHE_ATTR, body)
    return body
