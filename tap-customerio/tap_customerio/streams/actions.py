"""Behaviour shared by campaign and broadcast actions."""

from __future__ import annotations

import typing as t

from tap_customerio.client import CustomerIOStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: Ids the spec types as integers that arrive as strings elsewhere: the action `id` live (reference §6.1),
#: `from_id` / `reply_to_id` in Airbyte's manifest. Emitted as strings, whichever form the API sent.
TEXT_ID_FIELDS = ("id", "from_id", "reply_to_id")


def integers_as_text(row: dict, fields: tuple[str, ...]) -> None:
    """Replace integer values of `fields` in `row` by their decimal text."""
    for key in fields:
        value = row.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            row[key] = str(value)


class ActionStream(CustomerIOStream):
    """Actions of a campaign or broadcast: ids arrive as integers (spec) or strings (live, Airbyte)."""

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Ids as text."""
        integers_as_text(row, TEXT_ID_FIELDS)
        return super().post_process(row, context)
