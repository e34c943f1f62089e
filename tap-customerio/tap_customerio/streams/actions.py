"""Behaviour shared by campaign and broadcast actions."""

from __future__ import annotations

import typing as t

from tap_customerio.client import CustomerIOStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: Sender ids the spec types as integers and Airbyte's manifest as strings: emitted as strings.
SENDER_ID_FIELDS = ("from_id", "reply_to_id")


class ActionStream(CustomerIOStream):
    """Actions of a campaign or broadcast: `from_id` / `reply_to_id` arrive as integers or strings."""

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Sender ids as text, whichever form the API sent."""
        for key in SENDER_ID_FIELDS:
            value = row.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                row[key] = str(value)
        return super().post_process(row, context)
