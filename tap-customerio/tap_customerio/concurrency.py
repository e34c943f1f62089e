"""The worker threads that keep requests in flight while the main thread waits on latency.

singer-sdk syncs one stream and one request at a time; with 150 ms of latency that uses about two thirds
of a 10 req/s budget. Customer hydration and the first page of child streams are independent requests, so
they run here, paced by the same process-wide rate limiter as everything else.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_size = 0


def worker_pool(size: int) -> ThreadPoolExecutor:
    """The process-wide executor with `size` threads (re-created when a tap asks for another size)."""
    global _pool, _size  # noqa: PLW0603 (one pool per process, like the rate limiter)
    with _lock:
        if _pool is None or size != _size:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=max(1, size), thread_name_prefix="tap-customerio")
            _size = size
        return _pool
