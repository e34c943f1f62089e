"""One request budget for the whole process.

Customer.io draws every App API call of a workspace from a single 10 req/s bucket, so every stream and
every worker thread of this process must share one pacer: per-stream limiters would add up to a multiple
of the budget. singer-sdk has no request pacing, hence this small module.
"""

from __future__ import annotations

import threading
import time


#: Slots are spaced this much wider than 1/rate: the server counts arrivals in a sliding one-second window,
#: and a few milliseconds of scheduling jitter between two requests ten slots apart must not put eleven
#: arrivals into one window.
SPACING_MARGIN = 1.03


class RateLimiter:
    """Thread-safe pacer: hands out request start slots at most `rate` per second.

    Slots are spaced evenly rather than granted in bursts, because a burst straddling a window boundary
    would exceed the budget.
    """

    def __init__(self, rate: float) -> None:
        self._lock = threading.Lock()
        self._interval = SPACING_MARGIN / rate
        self._next_slot = 0.0

    def configure(self, rate: float) -> None:
        """Change the pace (a new tap instance in the same process may ask for another budget)."""
        if rate <= 0:
            msg = f"max_requests_per_second must be positive, got {rate}"
            raise ValueError(msg)
        with self._lock:
            self._interval = SPACING_MARGIN / rate

    def acquire(self) -> None:
        """Block until this caller may start one request."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def pause(self, seconds: float) -> None:
        """Hold every caller for `seconds` (a 429 applies to the whole workspace, not one stream)."""
        with self._lock:
            self._next_slot = max(self._next_slot, time.monotonic() + seconds)


_PROCESS_LIMITER = RateLimiter(10.0)


def process_limiter(rate: float) -> RateLimiter:
    """Return the process-wide limiter, paced to `rate` requests per second."""
    _PROCESS_LIMITER.configure(rate)
    return _PROCESS_LIMITER
