"""Streams that failed during a sync, and the summary the run ends with.

One stream's failure is that stream's: the tap logs it, goes on with the other streams and exits
non-zero at the end, listing every failed stream with its reason (Airbyte's "the following streams did not
sync successfully" behaviour). singer-sdk stops at the first exception, so this is the tap's own.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from singer_sdk.streams import RESTStream

    from tap_customerio.client import CustomerIOStream

#: Prefix of every summary line naming a failed stream (the header line does not carry it).
FAILED = "tap-customerio failed"

logger = logging.getLogger("tap-customerio")


class StreamsFailedError(Exception):
    """The sync finished, but some streams failed; the message is the multi-line summary."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclasses.dataclass(frozen=True)
class StreamFailure:
    """Why one stream did not sync completely."""

    stream: str
    reason: str


class StreamFailures:
    """The failed streams of one run, in the order they failed (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, StreamFailure] = {}

    def __bool__(self) -> bool:
        return bool(self._failures)

    def failed(self, stream: str) -> bool:
        """Whether `stream` failed earlier in this run."""
        return stream in self._failures

    def record(self, stream: RESTStream, reason: str, context: Mapping[str, t.Any] | None = None) -> None:
        """Remember `stream`'s failure and log it as one line naming stream, endpoint and reason."""
        endpoint = f"{stream.http_method} /v1{stream.path}" if stream.path else "no endpoint of its own"
        where = f" for {dict(context)}" if context else ""
        with self._lock:
            self._failures.setdefault(stream.name, StreamFailure(stream.name, reason))
        logger.error(
            "Stream '%s' (%s) failed%s, going on with the other streams: %s", stream.name, endpoint, where, reason
        )

    def summary(self, streams: Iterable[CustomerIOStream]) -> list[str]:
        """A header line, then one line per failed stream, including the selected children of a failed
        parent (their remaining parents were not read)."""
        lines = [f"{FAILED}: stream '{f.stream}': {f.reason}" for f in self._failures.values()]
        for stream in streams:
            parent = stream.parent_stream_type
            if (
                stream.selected
                and parent is not None
                and parent.name in self._failures
                and stream.name not in self._failures
            ):
                lines.append(
                    f"{FAILED}: stream '{stream.name}': not completely synced, its parent stream '{parent.name}' failed"
                )
        header = (
            f"The following streams did not sync successfully ({len(lines)}); the other streams synced "
            "and their state was emitted:"
        )
        return [header, *lines]
