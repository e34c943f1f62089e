"""The state and catalog the tap is given, checked before the first request.

singer-sdk reads both with `json.loads` and indexes into them, so a file that is not JSON, a state that
is a list or a catalog entry without `tap_stream_id` end in a traceback, and a bookmark that is not a
date-time fails only when its stream starts, after other streams were synced. Each problem here is one
line naming the file (or input), the stream and the field.
"""

from __future__ import annotations

import io
import json
import time
import typing as t

from tap_customerio.timestamps import iso_to_unix

if t.TYPE_CHECKING:
    from collections.abc import Callable


#: How far in the future a bookmark may be (clocks of two machines differ) before it counts as corrupt.
CLOCK_MARGIN_SECONDS = 86400


class InputError(ValueError):
    """The state or catalog cannot be used; the message names where and what."""


def json_type(value: t.Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    names = {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def checked_file(handle: t.IO[str] | None, kind: str, check: Callable[[t.Any, str], None]) -> t.IO[str] | None:
    """The contents of the `kind` ("state", "catalog") input file, after `check` accepted them, as a new
    handle for singer-sdk to read."""
    if handle is None:
        return None
    label = f"{kind} file '{getattr(handle, 'name', '<stdin>')}'"
    text = handle.read()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{label} is not JSON: {exc}"
        raise InputError(msg) from None
    check(value, label)
    return io.StringIO(text)


def check_state(state: t.Any, label: str = "state") -> None:
    """A Singer state: an object whose `bookmarks` hold one object per stream, every bookmark value an
    ISO 8601 date-time (every replication key of this tap is a time)."""
    if not isinstance(state, dict):
        msg = f"{label} must be a JSON object, not a {json_type(state)}"
        raise InputError(msg)
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        msg = f"{label}: 'bookmarks' must be an object, not a {json_type(bookmarks)}"
        raise InputError(msg)
    for stream, bookmark in bookmarks.items():
        if not isinstance(bookmark, dict):
            msg = f"{label}: stream '{stream}': the bookmark must be an object, not a {json_type(bookmark)}"
            raise InputError(msg)
        partitions = bookmark.get("partitions", [])
        if not isinstance(partitions, list) or not all(isinstance(p, dict) for p in partitions):
            msg = f"{label}: stream '{stream}': 'partitions' must be a list of objects"
            raise InputError(msg)
        for part in (bookmark, *partitions):
            _check_bookmark_value(part.get("replication_key_value"), f"{label}: stream '{stream}'")


def _check_bookmark_value(value: t.Any, where: str) -> None:
    """An ISO 8601 date-time, not after now: the tap caps every bookmark at its sync's start, so a later one
    is corrupt (and would hide every record until then). A day of margin covers clocks that differ."""
    if value is None:
        return
    try:
        when = iso_to_unix(value)
    except (TypeError, ValueError, OverflowError):
        msg = f"{where}: field 'replication_key_value' is not an ISO 8601 date-time: {value!r}"
        raise InputError(msg) from None
    if when > time.time() + CLOCK_MARGIN_SECONDS:
        msg = f"{where}: field 'replication_key_value' is in the future: {value!r}"
        raise InputError(msg)


def check_catalog(catalog: t.Any, label: str = "catalog") -> None:
    """A Singer catalog: `streams`, each with a `tap_stream_id`, a `schema` object and `metadata` entries
    made of a `breadcrumb` list and a `metadata` object."""
    if not isinstance(catalog, dict) or not isinstance(catalog.get("streams"), list):
        msg = f"{label} must be a JSON object with a 'streams' list"
        raise InputError(msg)
    for index, entry in enumerate(catalog["streams"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("tap_stream_id"), str):
            msg = f"{label}: streams[{index}] must be an object with a 'tap_stream_id' string"
            raise InputError(msg)
        where = f"{label}: stream '{entry['tap_stream_id']}'"
        if not isinstance(entry.get("schema"), dict):
            msg = f"{where}: field 'schema' must be an object, not a {json_type(entry.get('schema'))}"
            raise InputError(msg)
        metadata = entry.get("metadata", [])
        if not isinstance(metadata, (list, tuple)) or not all(
            isinstance(item, dict)
            and isinstance(item.get("breadcrumb"), (list, tuple))
            and isinstance(item.get("metadata"), dict)
            for item in metadata
        ):
            msg = f"{where}: field 'metadata' must be a list of {{'breadcrumb': [...], 'metadata': {{...}}}}"
            raise InputError(msg)
        if not isinstance(entry.get("key_properties", []), (list, tuple)):
            msg = f"{where}: field 'key_properties' must be a list"
            raise InputError(msg)
