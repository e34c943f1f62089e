"""Paginators for the two paging styles of the App API (reference §1.2).

- Cursor: send `start=<token>`, read `next`; `""`, `null` or a missing `next` ends the list.
- Offset (ESP suppressions only): `limit` + `offset`, a short or null page ends the list.

singer-sdk's base paginator only detects a token repeated on the very next page; Customer.io cursors are
opaque, so a server bug could cycle through several tokens. The cursor paginator therefore refuses any
token it has already followed.
"""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.pagination import OffsetPaginator as SDKOffsetPaginator

from tap_customerio.responses import count, item_fields, top_level
from tap_customerio.timestamps import as_unix

if t.TYPE_CHECKING:
    import requests


class CursorLoopError(RuntimeError):
    """The API handed back a `next` token that was already followed."""


class CursorPaginator(BaseAPIPaginator[str | None]):
    """Follows `next` → `start`, refusing repeated tokens.

    `continue_on_empty_page`: some endpoints (messages, segment membership) may return an empty page
    that still carries a token and is not the last one; for the others an empty page ends the list
    even when a token is present, which guards against endless empty pages.
    """

    def __init__(self, endpoint: str, *, continue_on_empty_page: bool = False) -> None:
        super().__init__(None)
        self._endpoint = endpoint
        self._continue_on_empty_page = continue_on_empty_page
        self._followed: set[str] = set()

    def get_next(self, response: requests.Response) -> str | None:
        """Return the next token, or None at the end of the list."""
        token = top_level(response, "next") or None
        if token is None:
            return None
        if token in self._followed:
            msg = f"{self._endpoint}: the API returned cursor {token!r} twice; stopping to avoid a loop"
            raise CursorLoopError(msg)
        self._followed.add(token)
        return token

    def continue_if_empty(self, response: requests.Response) -> bool:
        """Keep paging past an empty page only where the endpoint is known to produce them."""
        return self._continue_on_empty_page and bool(top_level(response, "next"))


class OffsetPaginator(SDKOffsetPaginator):
    """`limit`/`offset` paging; a page shorter than `limit` (or a null list) is the last one."""

    def __init__(self, page_size: int, records_key: str) -> None:
        super().__init__(start_value=0, page_size=page_size)
        self._records_key = records_key

    def has_more(self, response: requests.Response) -> bool:
        """More pages exist only after a full page."""
        return count(response, self._records_key) >= self.page_size


class NewestFirstCursorPaginator(CursorPaginator):
    """Cursor paging over a newest-first list that stops after the first page reaching `stop_at`.

    Used by activities: everything older than the bookmark minus lookback was read by an earlier run.
    """

    def __init__(self, endpoint: str, *, records_key: str, time_key: str, stop_at: int | None) -> None:
        super().__init__(endpoint)
        self._records_key = records_key
        self._time_key = time_key
        self._stop_at = stop_at

    def has_more(self, response: requests.Response) -> bool:
        """No more pages once a record at or before `stop_at` has been seen.

        The page's records were already emitted; they are read here as the API sent them.
        """
        if self._stop_at is None:
            return True
        times = item_fields(response, self._records_key, self._time_key)
        return all((as_unix(time) or 0) > self._stop_at for time in times)
