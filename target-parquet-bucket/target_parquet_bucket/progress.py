"""One progress line per stream every few seconds while the target receives it: records so far and rate.

The target otherwise says nothing between its start and its first upload, which for a long sync is the
whole run; singer-sdk's `record_count` METRIC points go to a file (the project's `singer-logging.yaml`).
The line per uploaded file is the bucket's (`bucket.py`).
"""

from __future__ import annotations

import logging
import time
import typing as t

#: Seconds between two progress lines of one stream.
PROGRESS_INTERVAL_SECONDS = 5.0

logger = logging.getLogger(__name__)


class StreamProgress:
    """Counts one stream's records and logs a line at most every `interval` seconds.

    Called for every run of records on the target's hot path, so it only adds and compares; records are counted as
    they arrive (before decoding), so a stream whose records wait in a batch still shows progress.
    """

    def __init__(
        self,
        stream: str,
        *,
        interval: float | None = None,
        clock: t.Callable[[], float] = time.monotonic,
        log: logging.Logger = logger,
    ) -> None:
        """`interval` defaults to `PROGRESS_INTERVAL_SECONDS`; `clock` is injectable so tests can step time
        instead of sleeping."""
        self.stream = stream
        self.interval = PROGRESS_INTERVAL_SECONDS if interval is None else interval
        self.clock = clock
        self.log = log
        self.records = 0
        self.started = clock()
        self._next_line = self.started + self.interval

    def add(self, records: int = 1) -> None:
        """`records` more were received; log a line if the interval has passed since the last one."""
        self.records += records
        now = self.clock()
        if now < self._next_line:
            return
        self._next_line = now + self.interval
        rate = self.records / max(now - self.started, 1e-9)
        self.log.info("%s: %s records so far (%s/s)", self.stream, f"{self.records:,}", f"{rate:,.0f}")


_streams: dict[str, StreamProgress] = {}


def stream_progress(stream: str) -> StreamProgress:
    """The process's progress of `stream`: one per stream name, so that a new sink after a SCHEMA change
    (singer-sdk makes one per schema) goes on counting where the previous one stopped."""
    progress = _streams.get(stream)
    if progress is None:
        progress = _streams[stream] = StreamProgress(stream)
    return progress
