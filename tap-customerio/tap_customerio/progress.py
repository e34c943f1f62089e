"""One progress line per stream every few seconds: records so far, rate, and where the reading is.

singer-sdk's own `record_count` METRIC lines are meant for machines (one JSON point per minute per
partition, without the page or window being read); the project's `singer-logging.yaml` keeps them off the console,
and these lines are what a person watching a sync reads.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
import typing as t
from urllib.parse import parse_qs, urlsplit

#: Seconds between two progress lines of one stream.
PROGRESS_INTERVAL_SECONDS = 5.0
#: Query parameters worth naming in a progress line: the `messages` window and the resource's parent.
WINDOW_PARAMS = ("start_ts", "end_ts")


def describe_request(url: str) -> str:
    """Where a request reads, for a person: the path, and the `start_ts`/`end_ts` window as UTC dates."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    where = parts.path
    if all(name in query for name in WINDOW_PARAMS):
        start, end = (_utc_date(query[name][0]) for name in WINDOW_PARAMS)
        where += f", window {start} to {end}"
    return where


def _utc_date(unix: str) -> str:
    try:
        return datetime.datetime.fromtimestamp(int(unix), tz=datetime.timezone.utc).strftime("%Y-%m-%d")
    except ValueError:
        return unix


class Progress:
    """Counts one stream's records and pages and logs a line at most every `interval` seconds."""

    def __init__(
        self,
        stream: str,
        logger: logging.Logger,
        *,
        interval: float = PROGRESS_INTERVAL_SECONDS,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` is injectable so tests can step time instead of sleeping."""
        self.stream = stream
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self.records = 0
        self.pages = 0
        self.where = ""
        self.started = clock()
        self._last_line = self.started
        self._lock = threading.Lock()

    def page(self, url: str) -> None:
        """A page was received from `url`."""
        with self._lock:
            self.pages += 1
            self.where = describe_request(url)

    def record(self) -> None:
        """One record was read; log a line if the interval has passed. Runs for every record, so only a line
        takes the lock: a stream's records are counted by the thread holding the scheduler's turn."""
        self.records += 1
        now = self.clock()
        if now - self._last_line < self.interval:
            return
        with self._lock:
            self._last_line = now
            rate = self.records / max(now - self.started, 1e-9)
            line = f"{self.stream}: {self.records:,} records so far ({rate:,.0f}/s)"
            if self.pages:
                line += f", page {self.pages:,} of {self.where}"
        self.logger.info("%s", line)
