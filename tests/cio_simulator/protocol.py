"""Request parsing, error bodies and cursors shared by every endpoint.

Choices where the reference is silent (documented here once, and in the package README):
- `limit` above an endpoint's maximum is clamped to the maximum; `limit < 1` or not an integer is a 400.
- Cursors are opaque: base64 of `0:<offset>` like the live `MDo1` tokens, or numeric strings for activities
  (live `900000000000000014`). An unknown cursor is a 400.

Optional live pagination quirks (reference 1.2), off unless a simulator is built with `quirks=`:
- `empty_pages`: on messages and segment membership, each later page is preceded by an empty page that still
  carries a `next` token ("only an empty `next` ends a window"); its token is base64 of `1:<offset>`.
- `sticky_end`: on activities and sender identities, the last page carries a token that yields an empty page
  with the same token again, so only an empty-page or repeated-token guard ends the read.

Optional alternative shapes (the published OpenAPI document and other connectors show them):
- `spec_people`: `POST /v1/customers/attributes` items as the spec's example has them: wrapped in
  `customer`, without `identifiers` (`cio_id`/`id`/`email` only inside `attributes`).
- `string_sender_ids`: `from_id` / `reply_to_id` of campaign and broadcast actions are JSON strings
  (Airbyte's manifest types them so).
- `hidden_ignored`: sender identities ignore the `hidden` parameter (it is not in the spec), so every read
  lists every sender.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

ACTIVITY_CURSOR_BASE = 900_000_000_000_000_000
EMPTY_PAGES, STICKY_END = "empty_pages", "sticky_end"
SPEC_PEOPLE, STRING_SENDER_IDS, HIDDEN_IGNORED = "spec_people", "string_sender_ids", "hidden_ignored"
QUIRKS = (EMPTY_PAGES, STICKY_END, SPEC_PEOPLE, STRING_SENDER_IDS, HIDDEN_IGNORED)


class ApiError(Exception):
    """An error response. `shape="errors"` is the dominant `{"errors":[{detail,status}]}` body; `"meta"` is the
    `{"meta":{"error":...}}` body some endpoints use (reference section 3)."""

    def __init__(self, status: int, detail: str, shape: str = "errors") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.shape = shape

    def body(self) -> dict[str, Any]:
        if self.shape == "meta":
            return {"meta": {"error": self.detail}}
        return {"errors": [{"detail": self.detail, "status": str(self.status)}]}


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


@dataclass
class Request:
    """One parsed API request; `params` holds the path parameters matched by the route."""

    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    quirks: frozenset[str] = frozenset()

    def int_param(self, name: str) -> int:
        return int(self.params[name])

    def int_query(self, name: str, default: int | None = None) -> int | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ApiError(400, f"{name} must be an integer") from None

    def bool_query(self, name: str, default: bool | None = None) -> bool | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() not in ("true", "false", "1", "0"):
            raise ApiError(400, f"{name} must be true or false")
        return raw.lower() in ("true", "1")

    def limit(self, default: int, maximum: int) -> int:
        """The page size: clamped to `maximum` (the simulator's documented choice for over-limit requests)."""
        value = self.int_query("limit", default)
        assert value is not None
        if value < 1:
            raise ApiError(400, "limit must be a positive integer")
        return min(value, maximum)

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
        value = self.query.get(name) or default
        if value is not None and value not in allowed:
            raise ApiError(400, f"{name} must be one of {', '.join(allowed)}")
        return value


def encode_cursor(offset: int, detour: bool = False) -> str:
    return base64.b64encode(f"{int(detour)}:{offset}".encode()).decode()


def decode_cursor(token: str | None) -> tuple[int, bool]:
    """(offset, detour) of a `start` token; a detour token serves one empty page, then continues at offset."""
    if not token:
        return 0, False
    try:
        kind, _, offset = base64.b64decode(token, validate=True).decode().partition(":")
        if kind not in ("0", "1") or not offset.isdigit():
            raise ValueError(token)
        return int(offset), kind == "1"
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid start cursor") from None


def encode_numeric_cursor(offset: int, detour: bool = False) -> str:
    return str(ACTIVITY_CURSOR_BASE + offset)


def decode_numeric_cursor(token: str | None) -> tuple[int, bool]:
    if not token:
        return 0, False
    if not token.isdigit() or int(token) < ACTIVITY_CURSOR_BASE:
        raise ApiError(400, "invalid start cursor")
    return int(token) - ACTIVITY_CURSOR_BASE, False


def cursor_page(
    items: Sequence[Any], request: Request, page_size: int, *, numeric: bool = False, quirk: str | None = None
) -> tuple[list[Any], str]:
    """One page of `items` from the `start` cursor and its `next` (`""` once the last record was served).
    `quirk` is the live pagination quirk this endpoint shows when the simulator enables it."""
    encode, decode = (encode_numeric_cursor, decode_numeric_cursor) if numeric else (encode_cursor, decode_cursor)
    offset, detour = decode(request.query.get("start"))
    if detour:
        return [], encode(offset)
    enabled = quirk in request.quirks
    end = offset + page_size
    page = list(items[offset:end])
    if end < len(items):
        return page, encode(end, detour=enabled and quirk == EMPTY_PAGES)
    if enabled and quirk == STICKY_END:
        return page, encode(min(end, max(offset, len(items))))
    return page, ""
