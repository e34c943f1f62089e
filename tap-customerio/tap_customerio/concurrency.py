"""The one scheduler of the tap's requests: the request budget, the worker threads, and whose turn it is.

singer-sdk syncs one stream after another and one request at a time; at 150 ms of latency one chain of
requests uses about two thirds of a 10 req/s budget. So top-level streams run concurrently, each on a thread
of its own, and streams ask the scheduler to fetch pages ahead on its worker threads (first pages of children
and of their children, customer hydration, message windows). Every request start is paced by the one
process-wide budget.

Order a target can trust comes from the *turn*: a stream thread holds it whenever it runs the SDK's code
(records, state, messages) and gives it up only while it waits on the network or on a page fetched ahead; a
worker holds it while it builds requests from a stream's state (`in_turn`).
So Singer messages are never written by two threads at once, no stream's state changes while another
stream's STATE message is serialised, and each stream's own sequence (records, then its STATE) is exactly
the one singer-sdk produces when syncing it alone. Only waiting overlaps; Python work was serial anyway.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import sys
import threading
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from http import HTTPStatus

from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from tap_customerio.rate_limit import RateLimiter, RequestStart

if t.TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable, Iterator

    import requests

#: A thread whose request slot has come waits for the GIL at most about this long (Python's default is 5 ms,
#: and every ms a request waits after its slot bunches it with the next one at the server).
GIL_SWITCH_SECONDS = 0.001

T = t.TypeVar("T")
U = t.TypeVar("U")


class SyncStoppedError(BaseException):
    """The sync was asked to stop (SIGTERM); a BaseException so no stream's own failure handling catches it."""


class Scheduler:
    """The process-wide budget, worker pool, pages fetched ahead and the turn (thread-safe)."""

    def __init__(self, rate: float = 10.0) -> None:
        self.limiter = RateLimiter(rate)
        self._lock = threading.Lock()
        self._turn = threading.Lock()
        self._holding = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._workers = 0
        self._stopping = threading.Event()
        self._ahead: dict[Hashable, Future[t.Any]] = {}
        #: Taps of this process inside `run_concurrently` (tests, or a program running two taps, share it).
        self._runs = 0

    def configure(self, rate: float, workers: int) -> None:
        """Pace to `rate` requests per second with at least `workers` worker threads (once per tap).

        The pool only grows: a second tap in the process may share it while the first still uses it.
        """
        self.limiter.configure(rate)
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        with self._lock:
            if self._pool is None or workers > self._workers:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                self._workers = max(1, workers)
                self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="tap-customerio")

    # --- the budget ------------------------------------------------------------------------------

    def acquire(self) -> None:
        """Block until one request may start."""
        self.limiter.acquire()

    def slot(self) -> contextlib.AbstractContextManager[RequestStart]:
        """Wait until one request may start, then let the body write it (see `RateLimiter.slot`)."""
        return self.limiter.slot()

    def pause(self, seconds: float) -> None:
        """Hold every request for `seconds` (a 429 applies to the whole workspace)."""
        self.limiter.pause(seconds)

    # --- the turn --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Run the SDK's code of one stream: no other stream thread runs until this one waits."""
        self._turn.acquire()
        self._holding.value = True
        try:
            self._unless_stopping()
            yield
        finally:
            self._holding.value = False
            self._turn.release()

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Let the other streams run while this thread waits (a no-op on threads without the turn)."""
        if not getattr(self._holding, "value", False):
            yield
            return
        self._holding.value = False
        self._turn.release()
        try:
            yield
        finally:
            self._turn.acquire()
            self._holding.value = True
        self._unless_stopping()

    def in_turn(self, work: Callable[[], None]) -> None:
        """Run `work` holding the turn, from a worker thread (the turn is not reentrant) about to touch stream
        state, e.g. to build requests from bookmarks; not at all once the sync is stopping."""
        try:
            with self.turn():
                work()
        except SyncStoppedError:
            return

    def stop(self) -> None:
        """Let no stream thread run SDK code again (safe to call from a signal handler): each ends the next
        time it would take the turn, so the message being written is finished and none follows it."""
        self._stopping.set()

    def _unless_stopping(self) -> None:
        if self._stopping.is_set():
            raise SyncStoppedError

    def result(self, future: Future[T]) -> T:
        """The result of work submitted to the workers, waited for without holding the turn."""
        with self.waiting():
            return future.result()

    # --- the workers -----------------------------------------------------------------------------

    def submit(self, work: Callable[..., T], *args: t.Any) -> Future[T]:
        """Run `work(*args)` on a worker thread (it must not touch stream state or write messages)."""
        with self._lock:
            if self._pool is None:
                msg = "Scheduler.configure must be called before work is submitted"
                raise RuntimeError(msg)
            return self._pool.submit(work, *args)

    def fetch_ahead(self, key: Hashable, fetch: Callable[[], T]) -> Future[T]:
        """Start `fetch` on a worker, to be claimed later under `key` (a stream and the page it names); returns
        the pending fetch.

        A page already pending under `key` is not fetched again: a second fetch would replace the first,
        whose response nobody would claim (the export's `content` reads the same children as their streams)."""
        with self._lock:
            if key in self._ahead:
                return self._ahead[key]
            future: Future[T] = Future()
            self._ahead[key] = future
        self.submit(run_into, fetch, future)
        return future

    def claim(self, key: Hashable) -> Future[t.Any] | None:
        """The fetch started under `key`, once (the caller then owns its result), or None."""
        with self._lock:
            return self._ahead.pop(key, None)

    def map_ahead(self, work: Callable[[T], U], items: Iterable[T], depth: int) -> Iterator[U]:
        """`work(item)` for each item, in order, computed on the workers up to `depth` items ahead."""
        running: collections.deque[Future[U]] = collections.deque()
        for item in items:
            running.append(self.submit(work, item))
            if len(running) > depth:
                yield self.result(running.popleft())
        while running:
            yield self.result(running.popleft())

    # --- the streams -----------------------------------------------------------------------------

    def run_concurrently(self, jobs: Iterable[Callable[[], None]], parallel: int) -> None:
        """Run `jobs` on up to `parallel` threads of their own, each job holding the turn except while it
        waits; returns when every job has ended, raising the first exception a job let out (a stream's
        own failures are caught in the stream, so only run-ending ones such as a rejected key get here)."""
        self._stopping.clear()
        with self._lock:
            self._runs += 1
        pending = list(jobs)
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    if not pending or errors:
                        return
                    job = pending.pop(0)
                try:
                    with self.turn():
                        job()
                except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread below)
                    with lock:
                        errors.append(exc)

        threads = [
            threading.Thread(target=worker, name=f"tap-customerio-stream-{n}", daemon=True)
            for n in range(max(1, min(parallel, len(pending))))
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                # Joined in short waits: a SIGTERM the kernel hands to another thread runs its handler (which
                # stops the streams) only once this, the main thread, is back in Python code; an endless join
                # never is.
                while thread.is_alive():
                    thread.join(timeout=0.1)
        finally:
            self._end_run(wait=not self._stopping.is_set())
        if errors:
            raise errors[0]

    def _end_run(self, *, wait: bool) -> None:
        """One run of streams ended. Once every run of the process has, pages fetched ahead that no stream
        claimed (children of a parent that failed, windows after a stream's failure) are not needed: what has
        not started is cancelled, and what is on the wire is waited for (`wait`; not when stopping on SIGTERM),
        so no request or log line follows the run's last messages. While another tap of the process still
        runs, its workers and pages stay."""
        with self._lock:
            self._runs -= 1
            if self._runs:
                return
            pool, self._pool = self._pool, None
            unclaimed = list(self._ahead.values())
            self._ahead.clear()
        for future in unclaimed:
            future.cancel()
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)


class PacedAdapter(HTTPAdapter):
    """requests' transport, taking a slot of the budget right before each request goes on the wire.

    The slot is taken inside the connection once it is connected, and the request counts as started once it
    is written (`paced_pools`): every delay between the limiter's clock and the server's arrival (opening a
    connection, a busy GIL, a loaded machine) would bunch arrivals together and cost a 429. Requests through a proxy
    use the proxy's connections, so they take their slot here, before the adapter sends them.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler  # before the base class builds the pool manager
        super().__init__()

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        """requests' pool manager, with connections that take their slot once connected."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = paced_pools(self._scheduler)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: t.Any = None,
        verify: bool | str = True,
        cert: t.Any = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        """Send; a request through a proxy first waits for its slot. A 429 widens the spacing of requests."""
        if select_proxy(request.url or "", proxies or {}):
            self._scheduler.acquire()
        response = super().send(request, stream, timeout, verify, cert, proxies)
        if response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            self._scheduler.limiter.widen()
        return response


#: At DEBUG, one line per request once it is written, with the `time.monotonic()` the budget counts it at: set
#: beside a server's arrival times, this shows whether a 429 came from the tap's pacing or from the way there
#: (the bench's tap rows do so, enabling this logger alone).
started_log = logging.getLogger("tap_customerio.requests")


def paced_pools(scheduler: Scheduler) -> dict[str, type[HTTPConnectionPool]]:
    """urllib3 connection pools (by scheme) whose connections wait for a slot of `scheduler`'s budget right
    before writing a request, after connecting (HTTPS pools connect before `request`, plain HTTP in it).
    urllib3's public extension points: a pool's `ConnectionCls`, a pool manager's `pool_classes_by_scheme`."""

    class PacedHTTPConnection(HTTPConnection):
        def request(self, method: str, url: str, *args: t.Any, **kwargs: t.Any) -> None:
            if self.is_closed:
                self.connect()
            with scheduler.slot() as start:
                super().request(method, url, *args, **kwargs)
            if started_log.isEnabledFor(logging.DEBUG):
                started_log.debug("started %.6f %s %s", start.time, method, url)

    class PacedHTTPSConnection(PacedHTTPConnection, HTTPSConnection):
        """The same pacing; `super().request` resolves to `HTTPSConnection`'s."""

    class PacedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = PacedHTTPConnection

    class PacedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = PacedHTTPSConnection

    return {"http": PacedHTTPConnectionPool, "https": PacedHTTPSConnectionPool}


def run_into(work: Callable[[], T], future: Future[T]) -> None:
    """Run `work`, handing its result or exception to `future`; not at all once `future` is cancelled."""
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(work())
    except BaseException as exc:  # noqa: BLE001 (the claimer re-raises it)
        future.set_exception(exc)


def lookahead(items: Iterable[T], start: Callable[[T], None], depth: int) -> Iterator[T]:
    """Pass `items` through, having called `start(item)` (e.g. fetch its first page ahead) for up to
    `depth` items beyond the one handed out."""
    ahead: collections.deque[T] = collections.deque()
    for item in items:
        start(item)
        ahead.append(item)
        if len(ahead) > depth:
            yield ahead.popleft()
    yield from ahead


_PROCESS_SCHEDULER = Scheduler()


def process_scheduler() -> Scheduler:
    """The scheduler every tap instance of this process shares (Customer.io has one budget per workspace)."""
    return _PROCESS_SCHEDULER
