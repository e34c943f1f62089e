"""Request parsing, error bodies and cursors shared by every endpoint.

Choices where the reference is silent (documented here once, and in the package README):
- `limit` above an endpoint's maximum is clamped to the maximum; `limit < 1` or not an integer is a 400.
- Cursors are opaque: base64 of `0:<offset>` like the live `MDo1` tokens, or numeric strings for activities
  (live `900000000000000014`). An unknown cursor is a 400.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

ACTIVITY_CURSOR_BASE = 900_000_000_000_000_000


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


def encode_cursor(offset: int) -> str:
    return base64.b64encode(f"0:{offset}".encode()).decode()


def decode_cursor(token: str | None) -> int:
    if not token:
        return 0
    try:
        prefix, _, offset = base64.b64decode(token, validate=True).decode().partition(":")
        if prefix != "0" or not offset.isdigit():
            raise ValueError(token)
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid start cursor") from None


def encode_numeric_cursor(offset: int) -> str:
    return str(ACTIVITY_CURSOR_BASE + offset)


def decode_numeric_cursor(token: str | None) -> int:
    if not token:
        return 0
    if not token.isdigit() or int(token) < ACTIVITY_CURSOR_BASE:
        raise ApiError(400, "invalid start cursor")
    return int(token) - ACTIVITY_CURSOR_BASE


def next_token(offset: int, page_size: int, total: int, encode: Any = encode_cursor) -> str:
    """`next` for a page starting at `offset`: a token while records remain, `""` once the last one is served."""
    end = offset + page_size
    return encode(end) if end < total else ""
