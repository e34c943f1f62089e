"""Requests the API may reject with a 400 for one part of a stream, which then skips that part.

The public sources disagree on some parameters (ESP suppression types beyond the spec's two, the v2 metrics
`tz`); a 400 for one of them must cost that part of the stream, not the stream or the sync.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus

from tap_customerio.client import CustomerIOError, CustomerIOStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context


class BadRequestError(CustomerIOError):
    """HTTP 400: the API rejected a parameter of this request."""


class SkipsRejectedRequests(CustomerIOStream):
    """A stream whose partitions (contexts) are skipped with a warning when the API answers 400."""

    def validate_response(self, response: requests.Response) -> None:
        """A 400 becomes a `BadRequestError`, so that it can be told apart from the other failures."""
        if response.status_code == HTTPStatus.BAD_REQUEST:
            msg = f"{self._endpoint(response)} returned HTTP 400: {self._error_detail(response)}"
            raise BadRequestError(msg)
        super().validate_response(response)

    def request_records(self, context: Context | None) -> Iterable[dict]:
        """The records of `context`; after a 400, none (more) for it and one warning."""
        try:
            yield from super().request_records(context)
        except BadRequestError as exc:
            self.logger.warning("Stream '%s' skips %s: %s", self.name, dict(context or {}), exc)
