"""Value conversions shared by the export row builders: App API values (unix-second integers, ids sometimes
as strings) to the export's INTEGER, STRING and delivery-type values."""

from __future__ import annotations

import json
import typing as t

#: Delivery types as the export names them; the App API calls SMS `twilio` and in-app `in_app`.
DELIVERY_TYPES = {"twilio": "sms", "in_app": "in-app"}

Row = dict[str, t.Any]


def as_int(value: t.Any) -> t.Any:
    """An id as an integer: the API sends some integer ids as JSON strings (reference §6.1). Anything else
    is passed on unchanged, for the stream's schema check to reject with the record's key."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def as_text(value: t.Any) -> str | None:
    """A value as the export's STRING: strings unchanged, other JSON values as JSON text, null as null."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def as_unix(value: t.Any) -> int | None:
    """A unix time from an integer or a digit string (attribute values are strings); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def delivery_type(api_type: str | None) -> str | None:
    """The export's delivery type for an App API message/content `type`."""
    return DELIVERY_TYPES.get(api_type, api_type) if api_type else None
