"""One request budget for the whole process.

Customer.io draws every App API call of a workspace from a single 10 req/s bucket, so every stream and
every worker thread of this process must share one pacer: per-stream limiters would add up to a multiple
of the budget. singer-sdk has no request pacing, hence this small module; the one instance lives in the
scheduler (`concurrency.py`).
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: Any `rate` consecutive requests span at least this many seconds at first: the server counts arrivals in a
#: sliding one-second window, so the delay between a request counted as written here and its arrival there
#: must not put rate + 1 arrivals into one window. The request counts once written (`slot`), so what is left
#: is the network and the server; 2% covers 20 ms of it (3% was needed when the count began before the
#: connection was opened and the request written). The margin caps the pace at rate / SPACING_MARGIN.
SPACING_MARGIN = 1.02
#: Each 429 widens the margin by this much, up to `MAX_SPACING_MARGIN`: the jitter is larger than assumed (a
#: loaded machine), or other clients draw from the workspace's budget too. Every `NARROW_AFTER` requests
#: without a 429 narrow it again by one step, down to `SPACING_MARGIN`: a stall of a moment (100 ms on a busy
#: machine, which no margin covers) must not slow the rest of a long run.
MARGIN_STEP = 0.01
MAX_SPACING_MARGIN = 1.10
NARROW_AFTER = 200
#: Two slots are at least this fraction of the interval (`margin / rate`) apart, so a request that
#: was asked for late (its stream was still parsing a page) can be followed closely by the next one: the
#: slots keep to their even schedule instead of all moving back with the late one, whose time would be lost
#: for good although the window still had room. The schedule gives at most one interval of such credit, so
#: requests never come in bursts.
MIN_SPACING = 0.5


class RequestStart:
    """One request's start: its slot while it waits, then the time it actually started (`time.monotonic()`)."""

    __slots__ = ("started", "time")

    def __init__(self, slot: float) -> None:
        self.time = slot
        self.started = False


class RateLimiter:
    """Thread-safe pacer: at most `rate` request starts in any `margin` seconds (`SPACING_MARGIN` at first).

    Slots follow an even schedule (`margin / rate` apart), and the `rate`-th previous request must have
    started `margin` seconds before. A request asked for late takes the first free moment and
    the next ones keep to the schedule (at least `MIN_SPACING` of an interval apart), so the late one costs
    only its own delay. A thread that wakes for its slot checks the *actual* starts (threads wake late, for
    the GIL or the OS) and waits on if needed.
    """

    def __init__(self, rate: float) -> None:
        self._lock = threading.Lock()
        self._rate = rate
        self._margin = SPACING_MARGIN
        self._calm = 0  # requests started since the last 429 or narrowing
        self._interval = SPACING_MARGIN / rate
        self._next_slot = 0.0
        self._last_slot = 0.0
        #: The last `rate` requests in the order their slots were given, started or still waiting.
        self._planned: collections.deque[RequestStart] = collections.deque(maxlen=max(1, int(rate)))
        #: The last `rate` actual start times, in time order.
        self._started: collections.deque[float] = collections.deque(maxlen=max(1, int(rate)))

    def configure(self, rate: float) -> None:
        """Change the pace (a new tap instance in the same process may ask for another budget), starting
        again from the narrowest margin."""
        if rate <= 0:
            msg = f"max_requests_per_second must be positive, got {rate}"
            raise ValueError(msg)
        size = max(1, int(rate))
        with self._lock:
            self._rate = rate
            self._set_margin(SPACING_MARGIN)
            if self._started.maxlen != size:
                self._planned = collections.deque(self._planned, maxlen=size)
                self._started = collections.deque(self._started, maxlen=size)

    def acquire(self) -> None:
        """Block until this caller may start one request, which starts now."""
        with self.slot():
            pass

    @contextlib.contextmanager
    def slot(self) -> Iterator[RequestStart]:
        """Wait for a slot, then run the body (writing one request): the request counts as started when the
        body ends, so a delay while writing it (the GIL, the OS) cannot bunch it with the next ones. The
        `RequestStart` holds that time once the body has ended."""
        with self._lock:
            opener = self._planned[0] if len(self._planned) == self._planned.maxlen else None
            now = time.monotonic()
            slot = max(now, self._next_slot, self._last_slot + MIN_SPACING * self._interval, self._room_after(opener))
            self._next_slot = max(self._next_slot, slot - self._interval) + self._interval
            self._last_slot = slot
            mine = RequestStart(slot)
            self._planned.append(mine)
        try:  # counted as started even if waiting is interrupted: requests after it wait for it to start
            self._wait_until(slot, opener)
            yield mine
        finally:
            with self._lock:
                mine.time, mine.started = time.monotonic(), True
                self._started.append(mine.time)
                self._calm += 1
                if self._calm >= NARROW_AFTER and self._margin > SPACING_MARGIN:
                    self._set_margin(max(SPACING_MARGIN, self._margin - MARGIN_STEP))

    def _wait_until(self, slot: float, opener: RequestStart | None) -> None:
        """Sleep until `slot`, and on while the window has no room after the actual starts."""
        while True:
            delay = slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with self._lock:
                now = time.monotonic()
                slot = max(self._room_after(opener), self._started[0] + self._margin if self._window_full() else now)
                if now >= slot:
                    return

    def _window_full(self) -> bool:
        return len(self._started) == self._started.maxlen

    def _room_after(self, opener: RequestStart | None) -> float:
        """When a request may start after `opener` (the one `rate` places before it) started. One still
        waiting starts no earlier than now."""
        if opener is None:
            return 0.0
        return (opener.time if opener.started else max(opener.time, time.monotonic())) + self._margin

    @property
    def margin(self) -> float:
        """Seconds that any `rate` consecutive requests span at least, now."""
        return self._margin

    def widen(self) -> None:
        """Space requests wider after a 429 (see `MARGIN_STEP`; narrowed again after `NARROW_AFTER` requests)."""
        with self._lock:
            self._set_margin(min(MAX_SPACING_MARGIN, self._margin + MARGIN_STEP))

    def _set_margin(self, margin: float) -> None:
        self._margin = margin
        self._interval = margin / self._rate
        self._calm = 0

    def pause(self, seconds: float) -> None:
        """Hold every caller for `seconds` (a 429 applies to the whole workspace, not one stream)."""
        with self._lock:
            self._next_slot = max(self._next_slot, time.monotonic() + seconds)
