"""One request budget for the whole process.

Customer.io draws every App API call of a workspace from a single 10 req/s bucket, so every stream and
every worker thread of this process must share one pacer: per-stream limiters would add up to a multiple
of the budget. singer-sdk has no request pacing, hence this small module; the one instance lives in the
scheduler (`concurrency.py`).
"""

from __future__ import annotations

import collections
import threading
import time

#: Slots are spaced this much wider than 1/rate, and any `rate` consecutive requests span at least this many
#: seconds: the server counts arrivals in a sliding one-second window, so a little scheduling jitter must
#: not put rate + 1 arrivals into one window (3%: up to 30 ms of delay between a slot and the arrival, as seen
#: with concurrent streams on a loaded 2-core machine; 2% left 429s).
SPACING_MARGIN = 1.03


class RateLimiter:
    """Thread-safe pacer: at most `rate` request starts per second.

    Two rules, both needed: slots are spaced evenly (a burst straddling a window boundary would exceed
    the budget), and the `rate`-th previous *actual* start must be more than a second ago, because a
    thread that wakes late (GIL, scheduler) starts later than its slot while the next one starts on time.
    """

    def __init__(self, rate: float) -> None:
        self._lock = threading.Lock()
        self._interval = SPACING_MARGIN / rate
        self._next_slot = 0.0
        self._started: collections.deque[float] = collections.deque(maxlen=max(1, int(rate)))

    def configure(self, rate: float) -> None:
        """Change the pace (a new tap instance in the same process may ask for another budget)."""
        if rate <= 0:
            msg = f"max_requests_per_second must be positive, got {rate}"
            raise ValueError(msg)
        with self._lock:
            self._interval = SPACING_MARGIN / rate
            if self._started.maxlen != max(1, int(rate)):
                self._started = collections.deque(self._started, maxlen=max(1, int(rate)))

    def acquire(self) -> None:
        """Block until this caller may start one request."""
        with self._lock:
            slot = max(time.monotonic(), self._next_slot)
            if len(self._started) == self._started.maxlen:
                slot = max(slot, self._started[0] + SPACING_MARGIN)
            self._next_slot = slot + self._interval
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        with self._lock:
            self._started.append(time.monotonic())

    def pause(self, seconds: float) -> None:
        """Hold every caller for `seconds` (a 429 applies to the whole workspace, not one stream)."""
        with self._lock:
            self._next_slot = max(self._next_slot, time.monotonic() + seconds)
