"""Injected faults: what a flaky network and an overloaded API do to a client.

Kinds: `500`/`502`/`503` (error bodies; 502 is an HTML page as gateways send), `429` (with `Retry-After`),
`429_no_retry_after`, `drop` (the socket closes with no response), `truncate` (full headers and
`Content-Length`, body cut mid-JSON), `garble` (the whole body, with one byte of a string value in its second
half replaced by 0xFF, which is not UTF-8: a mangling proxy) and `slow` (the normal response after
`slow_seconds`).
Which requests fail is drawn from a seeded RNG, one draw per eligible request, so a run with the same request
sequence fails the same way; `inject_next()` queues exact faults for the next eligible requests.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable

API_PREFIX = "/v1"
#: What a flaky network and an overloaded API do: a retry gets through.
FAULT_KINDS = ("500", "502", "503", "429", "429_no_retry_after", "drop", "truncate", "garble", "slow")
#: A rejected request: no retry gets through. Only used when asked for by name.
REJECTION = "400"


def api_path(path: str) -> str:
    """`/messages` and `/v1/messages` both name the App API path `/v1/messages`."""
    return path if path == API_PREFIX or path.startswith(API_PREFIX + "/") else API_PREFIX + path


class FaultInjector:
    """Decides, per request, whether and how it fails. Disabled (rate 0, nothing queued) by default."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: deque[str] = deque()
        self.configure(rate=0.0)

    def configure(
        self,
        rate: float = 0.0,
        kinds: Iterable[str] = FAULT_KINDS,
        seed: int = 1,
        only_paths: Iterable[str] | None = None,
        slow_seconds: float = 1.0,
    ) -> None:
        """Fail about `rate` of the requests whose path starts with one of `only_paths` (all if None); paths
        may be given with or without the `/v1` prefix."""
        kinds = tuple(kinds)
        unknown = set(kinds) - {*FAULT_KINDS, REJECTION}
        if unknown or not kinds:
            raise ValueError(
                f"fault kinds must be a non-empty subset of {(*FAULT_KINDS, REJECTION)}, got {sorted(unknown)}"
            )
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {rate}")
        with self._lock:
            self.rate = rate
            self.kinds = kinds
            self.only_paths = tuple(api_path(p) for p in only_paths) if only_paths is not None else None
            self.slow_seconds = slow_seconds
            self._rng = random.Random(seed)

    def inject_next(self, *kinds: str) -> None:
        """Fail the next eligible requests with exactly these kinds, in order (before any random faults)."""
        unknown = set(kinds) - {*FAULT_KINDS, REJECTION}
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        with self._lock:
            self._queued.extend(kinds)

    def pick(self, path: str) -> str | None:
        """The fault for a request to `path`, or None to answer it normally."""
        if self.only_paths is not None and not path.startswith(self.only_paths):
            return None
        with self._lock:
            if self._queued:
                return self._queued.popleft()
            if self.rate and self._rng.random() < self.rate:
                return self._rng.choice(self.kinds)
        return None
