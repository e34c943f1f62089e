"""Every private (or final) singer-sdk member the tap relies on, in this one module.

singer-sdk 0.54 has no public way to do what the members below do; each hook's docstring says why the tap
needs it. Every other module of the tap uses singer-sdk's public API and the public names defined here:
`StreamHooks` (base of `CustomerIOStream`), `TapHooks` (base of `TapCustomerIO`) and the state functions.

`SDK_MEMBERS` names each private or final member with a fingerprint of its source in the pinned singer-sdk;
`tests/tap/test_sdk_hooks.py` fails, naming the hook, when the installed singer-sdk differs. So an SDK upgrade
is a one-file job: re-read the members named, adapt the hooks here, update their fingerprints.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib
import inspect
import re
import textwrap
import typing as t
from functools import cached_property

from singer_sdk import Tap
from singer_sdk import singerlib as singer
from singer_sdk.helpers import _state
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.streams import RESTStream

from tap_customerio.output import RecordBufferingWriter

if t.TYPE_CHECKING:
    from collections.abc import Generator

    import requests
    from singer_sdk.helpers.types import Context


class StreamHooks(RESTStream[t.Any]):
    """The stream side: overrides of singer-sdk's private or final members, each handing over to a public method."""

    def sync(self, context: Context | None = None) -> None:  # type: ignore[misc]  # final in singer-sdk, see below
        """Overrides `Stream.sync`, final in singer-sdk: it is the one call the SDK makes per stream (top-level
        streams from `Tap.sync_all`, children from their parent per parent record), so it is where one stream's
        failure can be kept from ending the others (`CustomerIOStream.run_sync`)."""
        self.run_sync(context)

    def run_sync(self, context: Context | None) -> None:
        """What `sync` does: singer-sdk's own sync, unless a subclass decides otherwise."""
        self.sdk_sync(context)

    def sdk_sync(self, context: Context | None) -> None:
        """singer-sdk's own `Stream.sync`."""
        super().sync(context)

    def sync_children(self, child_context: Context | None) -> None:
        """singer-sdk's private `Stream._sync_children`: sync the selected children for one parent record. The SDK
        calls it only for records `get_records` yields; the tap also calls it for parents it does not emit
        (unchanged since the bookmark), whose children may still have changed."""
        self._sync_children(child_context)

    def send_attempt(self, prepared_request: requests.PreparedRequest, context: Context | None) -> requests.Response:
        """singer-sdk's private `_HTTPStream._request`: one attempt (authenticate, send, log the request-duration
        metric, `validate_response`). Requests the tap sends outside the SDK's paginated flow (pages fetched
        ahead, hydration, probes) go through the same steps, under the same retrying `request_decorator`."""
        return self._request(prepared_request, context)

    def _generate_record_messages(self, record: dict) -> Generator[singer.RecordMessage, None, None]:
        """Overrides singer-sdk's private `Stream._generate_record_messages`: the SDK walks every nested value of
        every record looking for deselected properties (the largest remaining CPU cost on `messages`). Here the
        deselected top-level properties are looked up once per stream; only catalogs deselecting nested
        properties take the SDK's own path. `_stream_version` is the SDK's private ACTIVATE_VERSION version,
        which every RECORD message carries."""
        top, nested = self._deselected
        if nested:
            yield from super()._generate_record_messages(record)
            return
        for key in top.intersection(record):
            del record[key]
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=datetime.datetime.now(datetime.timezone.utc),
                )

    #: Only the highest replication value of the emitted records matters (records arrive unsorted and the
    #: progress markers become the bookmark only when a window or the stream completes): the state is updated
    #: once per page instead of once per record (see `_increment_stream_state`).
    bookmark_once_per_page: bool = False
    _held_bookmark: tuple[Context | None, t.Any] | None = None

    def _increment_stream_state(self, latest_record: dict, *, context: Context | None = None) -> None:
        """Overrides singer-sdk's private `Stream._increment_stream_state`, which finds the state dict and converts
        the old and the new value for every record (2.9 µs, a tenth of a `messages` record's cost). With
        `bookmark_once_per_page` the highest value is held here and handed to the SDK by `settle_bookmark` at the
        end of each page and before the progress markers are promoted. Only records already written reach this
        method, so what is held, and so any bookmark, is never ahead of the emitted records. Holding the maximum
        is what the SDK's `helpers._state.increment_state` does for an unsorted stream, record by record."""
        key = self.replication_key
        value = latest_record.get(key) if key and self.bookmark_once_per_page else None
        if value is None:  # the SDK's own path, including its warning about a null value
            super()._increment_stream_state(latest_record, context=context)
            return
        held = self._held_bookmark
        if held is not None and held[0] != context:
            self.settle_bookmark()
            held = None
        if held is None or value > held[1]:
            self._held_bookmark = (context, value)

    def settle_bookmark(self) -> None:
        """Hand the highest replication value held since the last call to singer-sdk's state (see above)."""
        held, self._held_bookmark = self._held_bookmark, None
        if held is not None:
            context, value = held
            super()._increment_stream_state({t.cast("str", self.replication_key): value}, context=context)

    def forget_held_bookmark(self) -> None:
        """Drop the value held for the state (the sync failed: its progress is discarded)."""
        self._held_bookmark = None

    def _finalize_state(self, state: dict | None = None) -> None:
        """Overrides singer-sdk's private `Stream._finalize_state` (promote the progress markers at the end of
        `_sync_records`): the held replication value is settled first."""
        self.settle_bookmark()
        super()._finalize_state(state)

    def finalize_state_progress_markers(self, state: dict | None = None) -> None:
        """singer-sdk's promotion of the progress markers, after settling the held replication value."""
        self.settle_bookmark()
        super().finalize_state_progress_markers(state)

    def _write_record_message(self, record: dict) -> None:
        """Overrides singer-sdk's private `Stream._write_record_message`, which writes each message
        `_generate_record_messages` builds and marks the state as not yet flushed. Without stream maps (the one
        map is singer-sdk's `SameRecordTransform`, not flattening) and without nested deselected properties,
        the record goes straight to the writer's `write_record` (see `output.py`): the same line, without a
        `RecordMessage` and a map transform per record."""
        if not self._writes_records_directly:
            super()._write_record_message(record)
            return
        top, _ = self._deselected
        if top:
            for key in top.intersection(record):
                del record[key]
        writer = t.cast("RecordBufferingWriter", self._tap.message_writer)
        writer.write_record(self.name, record, self._stream_version, datetime.datetime.now(datetime.timezone.utc))
        self.state_manager.is_flushed = False

    @cached_property
    def _writes_records_directly(self) -> bool:
        """Whether records can skip singer-sdk's messages (see `_write_record_message`)."""
        maps = self.stream_maps
        return (
            isinstance(self._tap.message_writer, RecordBufferingWriter)
            and not self._deselected[1]
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
        )

    @cached_property
    def _deselected(self) -> tuple[frozenset[str], bool]:
        """Top-level properties deselected in the catalog, and whether any nested one is."""
        top = frozenset(name for name in self.schema["properties"] if not self.mask[("properties", name)])
        nested = any(len(crumb) > 2 and not selected for crumb, selected in self.mask.items())
        return top, nested


class TapHooks(Tap):
    """The tap side: `sync_all`, final in singer-sdk, handing over to `sync_streams`."""

    def sync_all(self) -> None:  # type: ignore[misc]  # final in singer-sdk, see below
        """Overrides `Tap.sync_all`, final in singer-sdk, which syncs one stream after the other: the tap syncs
        them concurrently (`TapCustomerIO.sync_streams`)."""
        self.sync_streams()

    def sync_streams(self) -> None:
        """What `sync_all` does: singer-sdk's own sync of every stream, unless a subclass decides otherwise."""
        super().sync_all()

    def prepare_sync(self) -> None:
        """The steps of singer-sdk's `sync_all` before its loop over the streams: clear earlier runs' progress
        markers and settle the replication methods (private `Tap._reset_state_progress_markers` and
        `Tap._set_compatible_replication_methods`, with no public equivalent), then write the incoming state."""
        self._reset_state_progress_markers()
        self._set_compatible_replication_methods()
        if self.state:
            self.state_writer.write_state(self.state)


# --- progress markers -------------------------------------------------------------------------------------
# singer-sdk keeps an unsorted stream's highest replication value seen so far under a private state key (its
# `helpers._state.PROGRESS_MARKERS`) until `finalize_state_progress_markers` promotes it to the bookmark. The
# tap reads, drops and caps it where the SDK has no public call: a window of `messages` promotes only what it
# completed, a failed stream keeps its old bookmark, the export's `metrics` holds the bookmark below events
# not yet emitted.


def progress_marker(state: dict) -> t.Any:
    """The replication value the progress markers of `state` reached, or None."""
    return (state.get(_state.PROGRESS_MARKERS) or {}).get("replication_key_value")


def drop_progress_markers(state: dict) -> None:
    """Forget the progress markers of `state` (singer-sdk's private `helpers._state.reset_state_progress_markers`)."""
    _state.reset_state_progress_markers(state)


def hold_progress_marker(state: dict, replication_key: str, value: t.Any) -> None:
    """Set the progress marker of `state` to `value`, to be promoted to the bookmark when the stream completes."""
    markers = state.setdefault(_state.PROGRESS_MARKERS, {})
    markers.update(replication_key=replication_key, replication_key_value=value)


# --- what the pinned singer-sdk looks like -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SDKMember:
    """One private or final member of singer-sdk, the hook of this module relying on it, and the fingerprint
    of the member's source in the pinned singer-sdk (`module:Qualified.name`)."""

    path: str
    hook: str
    fingerprint: str

    def source(self) -> str:
        """The member's source in the installed singer-sdk: a function's or property's code; for an instance
        attribute, the lines of its class that use it; for a constant, its value; "" when it no longer exists."""
        module_name, _, qualname = self.path.partition(":")
        owner: t.Any = importlib.import_module(module_name)
        *outer, name = qualname.split(".")
        for part in outer:
            owner = getattr(owner, part)
        member = inspect.getattr_static(owner, name, None)
        if isinstance(member, property):
            member = member.fget
        if inspect.isfunction(member):
            return textwrap.dedent(inspect.getsource(member))
        if member is not None:
            return repr(member)
        if inspect.isclass(owner):
            pattern = re.compile(rf"\b{re.escape(name)}\b")
            return "\n".join(line.strip() for line in inspect.getsource(owner).splitlines() if pattern.search(line))
        return ""

    def current_fingerprint(self) -> str:
        """The fingerprint of the installed singer-sdk's member."""
        return fingerprint(self.source())


def fingerprint(source: str) -> str:
    """A short hash of `source` ("missing" when there is none)."""
    return hashlib.sha256(source.encode()).hexdigest()[:16] if source else "missing"


#: Every private or final singer-sdk member used above, with its fingerprint in singer-sdk 0.54.9.
SDK_MEMBERS = (
    SDKMember("singer_sdk.streams.core:Stream.sync", "StreamHooks.sync", "7441515638456148"),
    SDKMember("singer_sdk.streams.core:Stream._sync_children", "StreamHooks.sync_children", "7e8b3f2e39bc22dd"),
    SDKMember("singer_sdk.streams.rest:_HTTPStream._request", "StreamHooks.send_attempt", "92bf1b50b6e50dce"),
    SDKMember(
        "singer_sdk.streams.core:Stream._generate_record_messages",
        "StreamHooks._generate_record_messages",
        "bc10d4be8964fc26",
    ),
    SDKMember(
        "singer_sdk.streams.core:Stream._stream_version", "StreamHooks._generate_record_messages", "dfcb531c59fa83f6"
    ),
    SDKMember(
        "singer_sdk.streams.core:Stream._increment_stream_state",
        "StreamHooks._increment_stream_state",
        "41e8987b6ed002be",
    ),
    SDKMember("singer_sdk.helpers._state:increment_state", "StreamHooks._increment_stream_state", "a312fcce304394bc"),
    SDKMember(
        "singer_sdk.streams.core:Stream._write_record_message", "StreamHooks._write_record_message", "ee0baffc7a6568f1"
    ),
    SDKMember("singer_sdk.streams.core:Stream._tap", "StreamHooks._write_record_message", "969cc06c7c2df75f"),
    SDKMember("singer_sdk.streams.core:Stream._finalize_state", "StreamHooks._finalize_state", "7444049df11d9d61"),
    SDKMember("singer_sdk.tap_base:Tap.sync_all", "TapHooks.sync_all", "aaaa3fe9613757dc"),
    SDKMember("singer_sdk.tap_base:Tap._reset_state_progress_markers", "TapHooks.prepare_sync", "569bb394d67a1cfb"),
    SDKMember(
        "singer_sdk.tap_base:Tap._set_compatible_replication_methods", "TapHooks.prepare_sync", "a74c91176d08ff45"
    ),
    SDKMember("singer_sdk.helpers._state:PROGRESS_MARKERS", "progress_marker", "018333d51bb467b3"),
    SDKMember("singer_sdk.helpers._state:reset_state_progress_markers", "drop_progress_markers", "b38c35fbdd619a74"),
    SDKMember("singer_sdk.helpers._state:finalize_state_progress_markers", "hold_progress_marker", "bab6282c32282f40"),
)


def changed_members() -> list[SDKMember]:
    """The members whose source in the installed singer-sdk differs from the pinned one."""
    return [member for member in SDK_MEMBERS if member.current_fingerprint() != member.fingerprint]
