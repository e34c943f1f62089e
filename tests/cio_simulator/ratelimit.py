"""The App API request budget: a sliding one-second window per API key (reference section 3).

Requests over the budget are answered 429 and do not count against it. Whether a 429 carries `Retry-After`
is unconfirmed live (sources conflict), so it is a policy: `"always"`, `"never"`, or `"alternate"` (every
other 429 has it, the default) so clients are exercised both ways.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

RETRY_AFTER_POLICIES = ("alternate", "always", "never")


class SlidingWindowLimiter:
    """At most `per_second` admitted requests per key in any one-second window; `per_second=0` is unlimited."""

    def __init__(self, per_second: float, retry_after: str = "alternate") -> None:
        if retry_after not in RETRY_AFTER_POLICIES:
            raise ValueError(f"retry_after must be one of {RETRY_AFTER_POLICIES}, not {retry_after!r}")
        self.per_second = per_second
        self.retry_after = retry_after
        self._windows: dict[str, deque[float]] = {}
        self._rejections = 0
        self._lock = threading.Lock()

    def admit(self, key: str) -> tuple[bool, int | None]:
        """(admitted, Retry-After seconds or None): count the request if it fits the window, else reject it."""
        if not self.per_second:
            return True, None
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) < self.per_second:
                window.append(now)
                return True, None
            self._rejections += 1
            with_header = self.retry_after == "always" or (
                self.retry_after == "alternate" and self._rejections % 2 == 1
            )
            return False, max(1, math.ceil(window[0] + 1.0 - now)) if with_header else None
