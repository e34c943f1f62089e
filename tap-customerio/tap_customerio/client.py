"""Base stream for every Customer.io App API resource.

A concrete stream is data: `path`, `records_key` (the envelope holding the records), `primary_keys`,
`replication_key`, `schema`, `paging` and `page_size`, `timestamp_fields`. Everything else lives here once:
auth and base URL by region, the process-wide rate limiter, retries and error mapping, client-side CDC with
a lookback window, skipping children of deleted parents, null-list handling and timestamp conversion.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import math
import random
import threading
import typing as t
from functools import cached_property
from http import HTTPStatus

import requests
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from singer_sdk.streams.rest import PageContext

from tap_customerio.concurrency import PacedAdapter, Scheduler, lookahead, process_scheduler
from tap_customerio.conformance import Conformer
from tap_customerio.deadline import DeadlineExceededError, within_deadline
from tap_customerio.pagination import CursorPaginator, OffsetPaginator
from tap_customerio.progress import Progress
from tap_customerio.redaction import redact
from tap_customerio.responses import InvalidBodyError, envelope, items, parsed_body
from tap_customerio.sdk_hooks import StreamHooks, drop_progress_markers
from tap_customerio.timestamps import InvalidTimestampError, compile_converter, iso_to_unix

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from concurrent.futures import Future

    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

    from tap_customerio.settings import Settings
    from tap_customerio.tap import TapCustomerIO

API_URLS = {"us": "https://api.customer.io/v1", "eu": "https://api-eu.customer.io/v1"}

#: Longest wait between two attempts when the server gives no `Retry-After`.
BACKOFF_CAP_SECONDS = 60.0


class CustomerIOError(FatalAPIError):
    """A failure reported to the user as one line (the CLI prints it without a traceback)."""


class KeyRejectedError(CustomerIOError):
    """401: the key is wrong for every stream, so the whole run stops (no stream could succeed)."""


class RetryAfterTooLongError(CustomerIOError):
    """429 with a `Retry-After` longer than `max_retry_after_seconds`: waiting would look like a hang."""


class StreamForbiddenError(CustomerIOError):
    """403: the key's scope or the workspace's plan does not cover this endpoint."""


class ParentGoneError(CustomerIOError):
    """404 on a child endpoint: the parent was deleted between listing it and reading its children."""


def retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date), or None when absent/invalid."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, prefixed with its type unless the tap raised it with a
    message written for the user (a bare `KeyError: 'id'` needs its type to make sense)."""
    text = str(exc).splitlines()[0] if str(exc).strip() else ""
    ours = type(exc).__module__.startswith("tap_customerio") or isinstance(exc, (FatalAPIError, RetriableAPIError))
    if ours and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class CustomerIOStream(StreamHooks):
    """One App API list endpoint; subclasses declare the data, this class holds the behaviour."""

    #: Endpoint below the base URL; `{key}` placeholders are filled from the context.
    path: str = ""
    #: Top-level key of the response holding the records; a `null` value is an empty page.
    records_key: str = ""
    #: "none" (one response), "cursor" (`start`/`next`) or "offset" (`limit`/`offset`).
    paging: t.Literal["none", "cursor", "offset"] = "none"
    #: Largest `limit` the endpoint allows; None when it takes no `limit`.
    page_size: int | None = None
    #: Endpoints that may return an empty page with a token that is not the last one.
    continue_on_empty_page: bool = False
    #: Paths of unix-second fields emitted as ISO 8601 (see `timestamps.py`).
    timestamp_fields: tuple[str, ...] = ()
    #: Key under which a parent passes its `id` to child streams (e.g. "campaign_id").
    child_context_key: str | None = None
    #: `start_date` bounds event streams (messages, activities); entity streams emit all entities once.
    start_date_applies: bool = False
    #: The server cannot filter by time, so INCREMENTAL filters records against the bookmark here.
    client_side_cdc: bool = True
    #: Reads many pages on a first sync (cursor chains, windows): started first, so that the run does not end
    #: with one long chain alone using a part of the budget.
    long_running: bool = False
    #: Every stream class sets its `name` (the SDK declares it per instance), so a class's name can be read.
    name: str
    #: A parent is a stream of this tap.
    parent_stream_type: type[CustomerIOStream] | None
    #: Every stream class sets its `primary_keys` (the SDK declares a property), so a class's keys can be read.
    primary_keys: t.Sequence[str]

    is_sorted = False
    #: Records are decoded API JSON (only JSON-native types) whose timestamps `post_process` already
    #: converted, so singer-sdk's type conformance has nothing to fix; it walked every value of every
    #: record and was the largest CPU cost on `messages`. `post_process` drops undeclared properties instead.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapCustomerIO, **kwargs: t.Any) -> None:
        """Keeps `tap`, which singer-sdk stores only privately: streams read the run's settings, failures and
        sibling streams from it."""
        self.tap = tap
        super().__init__(tap, **kwargs)

    # --- configuration -------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The run's settings (see `settings.py`)."""
        return self.tap.settings

    @property
    def url_base(self) -> str:
        """`api_url` if set (simulator, proxy), else the region's host."""
        return (self.settings.api_url or API_URLS[self.settings.region]).rstrip("/")

    @cached_property
    def authenticator(self) -> BearerTokenAuthenticator:
        """Bearer auth with the App API key (the key only ever travels in this header)."""
        return BearerTokenAuthenticator(token=self.settings.app_api_key)

    @property
    def http_headers(self) -> dict[str, str]:
        """JSON in, JSON out."""
        return {"Accept": "application/json"}

    @property
    def timeout(self) -> int:
        """Seconds a whole request may take before it counts as timed out (and is retried); each socket
        read gets this long and the body must be complete within it too (see `deadline.py`)."""
        return self.settings.request_timeout

    @property
    def scheduler(self) -> Scheduler:
        """The process-wide scheduler: request budget, worker threads, pages fetched ahead (configured once
        per run by the tap)."""
        return process_scheduler()

    _sessions = threading.local()

    @property
    def requests_session(self) -> requests.Session:
        """One session per thread (streams and the scheduler's workers send requests), whose requests are
        paced by the scheduler's budget and whose response bodies are read against the request's total
        deadline."""
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = requests.Session()
            session.stream = True
            session.hooks["response"].append(within_deadline)
            paced = PacedAdapter(self.scheduler)
            session.mount("http://", paced)
            session.mount("https://", paced)
            self._sessions.session = session
        return session

    # --- requests ------------------------------------------------------------------------------

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """`limit` at the endpoint's maximum and the page token."""
        params: dict[str, t.Any] = {}
        if self.page_size:
            params["limit"] = self.page_size
        if self.paging == "cursor" and next_page_token:
            params["start"] = next_page_token
        elif self.paging == "offset":
            params["offset"] = next_page_token or 0
        return params

    def get_new_paginator(self) -> BaseAPIPaginator | None:
        """The paginator matching `paging`."""
        if self.paging == "cursor":
            return CursorPaginator(self.path, continue_on_empty_page=self.continue_on_empty_page)
        if self.paging == "offset":
            return OffsetPaginator(self.page_size or 100, self.records_key)
        return None

    def backfill_estimate(self) -> tuple[int, str] | None:
        """Requests this stream's sync will make, and how that was counted, when known before it starts."""
        return None

    def _ahead_key(self, prepared: requests.PreparedRequest) -> tuple[str, str | None, bytes | str | None]:
        """What names a page fetched ahead: this stream, the URL and the body."""
        return (self.name, prepared.url, t.cast("bytes | str | None", prepared.body))  # built from JSON or params

    def first_page_request(self, context: Context | None, *, limit: int | None = None) -> requests.PreparedRequest:
        """The request for the first page of `context`, exactly as the paginated flow would send it."""
        request = self.get_http_request(page=PageContext(stream_context=context, next_page_token=None))
        if limit is not None:
            request.params["limit"] = limit
        return self.build_prepared_request(
            method=request.method,
            url=request.url,
            params=request.encode_params(),
            headers=request.headers,
            json=request.data,
        )

    def prefetch_first_page(self, context: Context | None, *, with_children: bool = False) -> None:
        """Ask the scheduler to fetch the first page for `context` ahead, on a worker thread; `with_children`:
        once it is there, the first pages of its records' children too (see `first_page_ahead`).

        `request_decorator` claims the response when the paginated flow sends the same request, so the SDK's sync
        keeps its order and state handling while latency overlaps.
        """
        self.first_page_ahead(context, with_children=with_children)

    def first_page_ahead(self, context: Context | None, *, with_children: bool = False) -> Future[requests.Response]:
        """The first page for `context` fetched ahead (started now unless already pending), left for the
        paginated flow to claim.

        `with_children` (asked by this stream's parent for its own sync, not by a reader of this list alone such
        as the export's `content`): the selected children's first pages of the page's first records are fetched
        ahead as soon as the page is there, before the page can be claimed, so this stream's sync finds them
        pending instead of fetching them again. Without it, a stream nested two levels deep (newsletter variant
        metrics) would ask for its pages only when its parent's sync reached them, one parent at a time.
        """
        prepared = self.first_page_request(context)
        fetch = self.retrying(self.send_attempt)

        def fetch_page() -> requests.Response:
            response = fetch(prepared, context)
            if with_children:
                self.prefetch_children_of_page(response, context)
            return response

        return self.scheduler.fetch_ahead(self._ahead_key(prepared), fetch_page)

    def prefetch_children_of_page(self, response: requests.Response, context: Context | None) -> None:
        """On a worker: the selected children's first pages for the first records of `response` (as many as
        `with_children_prefetched` fetches ahead when this stream's sync starts on the page). Their requests are
        built in the turn, since building one reads (and may create) the child's state for its context."""
        if not self.child_streams:
            return

        def start() -> None:
            children = self.prefetched_children()
            records = list(self.records_ahead(response))[: self.prefetch_depth + 1] if children else []
            for record in records:
                for child_context in self.generate_child_contexts(record, context):
                    for child in children:
                        child.prefetch_first_page(child_context, with_children=True)

        self.scheduler.in_turn(start)

    def records_ahead(self, response: requests.Response) -> Iterable[dict]:
        """The records of a first page fetched ahead whose children can be fetched ahead too, read without
        touching the stream's state (`parse_response` counts pages and settles bookmarks)."""
        return self.records_in(response, self.records_key)

    def send(self, method: str, path: str, *, params: dict | None = None, json: t.Any = None) -> dict:
        """The JSON body of one request outside the paginated flow, with the same pacing and retries."""
        return parsed_body(self.send_request(method, path, params=params, json=json))

    def send_request(
        self, method: str, path: str, *, params: dict | None = None, json: t.Any = None
    ) -> requests.Response:
        """One validated response outside the paginated flow (hydration, lookups)."""
        prepared = self.build_prepared_request(
            method=method,
            url=f"{self.url_base}{path}",
            params=params or {},
            headers=self.http_headers,
            json=json,
        )
        return self.request_decorator(self.send_attempt)(prepared, None)

    # --- errors and retries ----------------------------------------------------------------------

    def _endpoint(self, response: requests.Response) -> str:
        return f"{response.request.method} {requests.utils.urlparse(response.url).path}"

    def validate_response(self, response: requests.Response) -> None:
        """Map statuses to retry / skip / fail, and decode the body so truncated JSON is retried too."""
        status = response.status_code
        endpoint = self._endpoint(response)
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            wait = retry_after_seconds(response)
            cap = self.settings.max_retry_after_seconds
            if wait is not None and wait > cap:
                msg = (
                    f"{endpoint} returned HTTP 429 asking to wait {response.headers['Retry-After'][:40]!r} "
                    f"(Retry-After), more than max_retry_after_seconds={cap}; not waiting"
                )
                raise RetryAfterTooLongError(msg)
            if wait is not None:
                self.scheduler.pause(wait)
            hint = f"; Retry-After {wait:.0f} s, every request waits" if wait is not None else ""
            msg = f"{endpoint} returned HTTP 429 (rate limited{hint})"
            raise RetriableAPIError(msg, response)
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            msg = f"{endpoint} returned HTTP {status}"
            raise RetriableAPIError(msg, response)
        if status == HTTPStatus.UNAUTHORIZED:
            region = self.settings.region
            msg = f"API key invalid or belongs to the other region (region={region}): HTTP 401 from {endpoint}"
            raise KeyRejectedError(msg)
        if status == HTTPStatus.FORBIDDEN:
            msg = f"HTTP 403 from {endpoint}: the API key has no access to stream '{self.name}'"
            raise StreamForbiddenError(msg)
        if status == HTTPStatus.NOT_FOUND and self.parent_stream_type is not None:
            msg = f"HTTP 404 from {endpoint}: parent of '{self.name}' no longer exists"
            raise ParentGoneError(msg)
        if status >= HTTPStatus.BAD_REQUEST:
            detail = redact(self._error_detail(response), self.settings.app_api_key)
            msg = f"{endpoint} returned HTTP {status}: {detail}"
            raise CustomerIOError(msg)
        try:
            envelope(response)
        except InvalidBodyError as exc:
            msg = f"{endpoint} returned an unreadable body: {exc}"
            raise RetriableAPIError(msg, response) from exc

    @staticmethod
    def _error_detail(response: requests.Response) -> str:
        """The API's own error text from either documented error shape (reference §3)."""
        try:
            body = parsed_body(response)
        except InvalidBodyError:
            return response.reason or "no detail"
        errors = body.get("errors") or (body.get("meta") or {}).get("errors") or []
        details = [str(e.get("detail", e)) if isinstance(e, dict) else str(e) for e in errors]
        meta_error = (body.get("meta") or {}).get("error")
        return "; ".join(details) or (str(meta_error) if meta_error else response.reason or "no detail")

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """`retrying(func)`, answered by the page fetched ahead for the same request if the scheduler holds one.

        singer-sdk's paginated flow sends every page through this decorator, so a page fetched ahead on a worker
        (see `prefetch_first_page`) is claimed here, waited for without holding the turn.
        """
        retrying = self.retrying(func)

        def call(prepared: requests.PreparedRequest, context: Context | None) -> requests.Response:
            ahead = self.scheduler.claim(self._ahead_key(prepared))
            if ahead is not None:
                return self.scheduler.result(ahead)
            return retrying(prepared, context)

        return call

    def retrying(self, func: t.Callable) -> t.Callable:
        """singer-sdk's retrying decorator around `func` (one attempt), waiting without holding the turn, plus one
        clear error naming the endpoint once retries run out."""
        retrying = super().request_decorator(func)

        def call(prepared: requests.PreparedRequest, context: Context | None) -> requests.Response:
            try:
                with self.scheduler.waiting():  # other streams run while this one waits on the network
                    return retrying(prepared, context)
            except RetriableAPIError as exc:
                msg = f"{exc} (gave up after {self.backoff_max_tries()} attempts)"
                raise CustomerIOError(msg) from exc
            except (requests.exceptions.RequestException, ConnectionResetError) as exc:
                endpoint = f"{prepared.method} {requests.utils.urlparse(prepared.url or '').path}"
                # Only the type of the HTTP stack's own errors: their text can quote the URL and headers.
                what = str(exc) if isinstance(exc, DeadlineExceededError) else type(exc).__name__
                msg = f"{endpoint} failed: {what} (gave up after {self.backoff_max_tries()} attempts)"
                raise CustomerIOError(msg) from exc

        return call

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """`Retry-After` when the server sends one, else exponential backoff with full jitter."""

        base = self.settings.retry_backoff_ms / 1000

        def waits() -> t.Generator[float, t.Any, None]:
            attempt = 0
            exc = yield 0.0
            while True:
                response = getattr(exc, "response", None)
                hinted = retry_after_seconds(response) if response is not None else None
                if hinted is not None and response is not None and response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
                    exc = yield hinted
                else:
                    ceiling = min(BACKOFF_CAP_SECONDS, base * 2**attempt)
                    exc = yield random.uniform(ceiling / 2, ceiling)  # jitter, not crypto
                attempt += 1

        return waits()

    def backoff_jitter(self, value: float) -> float:
        """Jitter is applied by the wait generator (and must not shorten a `Retry-After`)."""
        return value

    def backoff_max_tries(self) -> int:
        """Attempts per request before giving up."""
        return self.settings.max_retries + 1

    def backoff_handler(self, details: t.Any) -> None:
        """Log each retry as one line without request arguments (they carry the auth header)."""
        exc = details.get("exception")
        self.logger.warning(
            "Retrying %s in %.2fs (attempt %d): %s",
            self.name,
            details.get("wait", 0.0),
            details.get("tries", 0),
            exc if isinstance(exc, RetriableAPIError) else type(exc).__name__,
        )

    # --- records -------------------------------------------------------------------------------

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """Records under `records_key`, each decoded when it is reached (see `responses.py`); the API sends
        `null` for empty lists."""
        self.progress.page(response.url)
        self.require_key(response, self.records_key)
        records = items(response, self.records_key)
        return self.settled_after(records) if self.bookmark_once_per_page else records

    def settled_after(self, records: Iterable[dict]) -> Iterable[dict]:
        """`records`, then (once the last one was written) the highest replication value among those written goes
        to the state (`bookmark_once_per_page`)."""
        yield from records
        self.settle_bookmark()

    def records_in(self, response: requests.Response, key: str) -> t.Any:
        """The list under `key` (`null` is an empty list); a body without `key` is an error, since
        treating an unexpected envelope as "no records" would silently lose data."""
        self.require_key(response, key)
        return parsed_body(response)[key] or []

    def require_key(self, response: requests.Response, key: str) -> None:
        """Fail when the body's top-level object lacks `key` (see `records_in`)."""
        keys = envelope(response)
        if key not in keys:
            msg = (
                f"stream '{self.name}': {self._endpoint(response)} answered without '{key}' "
                f"(keys: {', '.join(sorted(keys)) or 'none'})"
            )
            raise CustomerIOError(msg)

    # --- one stream's failure is that stream's -----------------------------------------------------

    def run_sync(self, context: Context | None) -> None:
        """singer-sdk's sync, except that a failure ends only this stream (the SDK stops the whole run).

        `sync` (see `sdk_hooks.py`) is the one call the SDK makes per stream (top-level streams from
        `Tap.sync_all`, children from their parent per parent record): catching here lets the tap go on
        with the next stream, and lets a parent go on when a child fails. A stream that failed is not synced
        again in this run (a child is skipped for the remaining parents). 401 still stops the run, since
        the key is wrong for every stream.
        """
        failures = self.tap.failures
        if failures.failed(self.name):
            return
        try:
            self.sdk_sync(context)
        except KeyRejectedError:
            raise
        except Exception as exc:  # noqa: BLE001 (any failure of this stream is this stream's, see above)
            self.discard_progress()
            failures.record(self, redact(one_line(exc), self.settings.app_api_key), context)

    def discard_progress(self) -> None:
        """Forget the progress markers of an unfinished sync, so the bookmark stays where it was.

        Records arrive unsorted (`is_sorted = False`), so the highest replication value seen so far is not
        a safe resume point: finalizing it would skip the records not yet read.
        """
        self.forget_held_bookmark()
        state = self.stream_state
        for partition in (state, *state.get("partitions", [])):
            drop_progress_markers(partition)

    def request_records(self, context: Context | None) -> Iterable[dict]:
        """Paginated records; a 403 skips the stream, a 404 on a child skips that parent."""
        try:
            yield from super().request_records(context)
        except StreamForbiddenError as exc:
            self.logger.warning("Skipping stream '%s': %s", self.name, exc)
        except ParentGoneError as exc:
            self.logger.info("Skipping %s for %s: %s", self.name, dict(context or {}), exc)

    def generate_child_contexts(self, record: dict, context: Context | None) -> t.Iterable[Context | None]:
        """No child contexts for a stream without child streams (singer-sdk makes one per record and then finds
        no child to sync with it, a cost on every record of `messages`)."""
        return super().generate_child_contexts(record, context) if self.child_streams else ()

    def get_child_context(self, record: dict, context: Context | None) -> dict:
        """Children are keyed by this record's `id` under `child_context_key`."""
        return {self.child_context_key: record["id"]} if self.child_context_key else {}

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Add the parent keys from the context, drop properties the schema lacks, convert timestamps,
        then make the record valid against the schema (see `conformance.py`).

        A record without its replication key (the spec makes none required) gets it as null, which
        singer-sdk's bookmark skips, instead of a KeyError."""
        if context:
            for key, value in context.items():
                row.setdefault(key, value)
        if self.replication_key:
            row.setdefault(self.replication_key, None)
        if not self._declared.issuperset(row):
            undeclared = row.keys() - self._declared
            self._warn_undeclared(undeclared)
            for key in undeclared:
                del row[key]
        try:
            self._convert_timestamps(row)
        except InvalidTimestampError as exc:
            keys = {key: row.get(key) for key in self.primary_keys}
            msg = f"stream '{self.name}': record {keys}: {exc}"
            raise CustomerIOError(msg) from None
        self._conformer.conform(row)
        self.progress.record()
        return row

    def log(self, message: str, *args: t.Any, level: int = logging.INFO, **kwargs: t.Any) -> None:
        """singer-sdk's per-sync lines ("Beginning sync", "Pagination stopped") at DEBUG for child streams,
        which sync once per parent (120 times for one newsletter stream); their progress line says the same."""
        if level == logging.INFO and self.parent_stream_type is not None:
            level = logging.DEBUG
        super().log(message, *args, level=level, **kwargs)

    @cached_property
    def progress(self) -> Progress:
        """This stream's progress line (see `progress.py`)."""
        return Progress(self.name, self.logger)

    @cached_property
    def _conformer(self) -> Conformer:
        return Conformer(self.name, self.schema, self.primary_keys or ())

    def log_sync_costs(self) -> None:
        """The SDK's end-of-stream summary, plus one warning per field whose values were converted."""
        super().log_sync_costs()
        self._conformer.report(self.logger)

    @cached_property
    def _declared(self) -> frozenset[str]:
        return frozenset(self.schema["properties"])

    def _warn_undeclared(self, keys: set[str]) -> None:
        """Warn once per new property name: the API added a field this schema does not know yet."""
        new = keys - self._warned_undeclared
        if new:
            self._warned_undeclared.update(new)
            self.logger.warning("Stream '%s' drops properties missing from its schema: %s", self.name, sorted(new))

    @cached_property
    def _warned_undeclared(self) -> set[str]:
        return set()

    @cached_property
    def _convert_timestamps(self) -> t.Callable[[t.Any], None]:
        return compile_converter(self.timestamp_fields)

    # --- incremental replication -----------------------------------------------------------------

    @property
    def incremental(self) -> bool:
        """True when this run replicates the stream incrementally (catalog metadata can switch it off)."""
        return bool(self.replication_key) and self.replication_method == REPLICATION_INCREMENTAL

    def lookback_seconds(self) -> int:
        """Re-read window before the bookmark: lists are not ordered by change time, so an edit made
        while a list was being read can carry a timestamp at or below the saved bookmark. With 0, only
        records changed strictly after the bookmark are emitted again."""
        return self.settings.lookback_window_minutes * 60

    def saved_bookmark_unix(self, context: Context | None) -> int | None:
        """The bookmark an earlier run saved for this stream/partition, in unix seconds."""
        state = self.get_context_state(context)
        if state.get("replication_key") != self.replication_key:
            return None
        value = state.get("replication_key_value")
        return iso_to_unix(value) if value else None

    def start_date_unix(self) -> int | None:
        """`start_date` in unix seconds where it applies (event streams), else None."""
        value = self.settings.start_date if self.start_date_applies else None
        return iso_to_unix(value) if value else None

    def cdc_threshold(self, context: Context | None) -> int | None:
        """Records changed at or before this unix time were emitted by an earlier run (or predate
        `start_date`); None when every record is wanted."""
        if not (self.incremental and self.client_side_cdc):
            return None
        bookmark = self.saved_bookmark_unix(context)
        if bookmark is not None:
            return bookmark - self.lookback_seconds()
        start = self.start_date_unix()
        return None if start is None else start - 1

    def get_replication_key_signpost(self, context: Context | None = None) -> datetime.datetime | None:
        """Cap the bookmark at the sync start: records stamped in the future must be read again."""
        if not self.incremental:
            return None
        return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Records changed since the bookmark minus lookback (all records in FULL_TABLE mode).

        Children of an unchanged parent are still synced: Customer.io does not document that a parent's
        `updated` moves when one of its children changes.
        """
        threshold = self.cdc_threshold(context)
        key = self.replication_key
        for record in self.with_children_prefetched(self.request_records(context), context):
            value = record.get(key) if threshold is not None else None
            if value is None or value > threshold:
                yield record
            elif self.child_streams:
                for child_context in self.generate_child_contexts(record, context):
                    self.sync_children(child_context)

    @property
    def prefetch_depth(self) -> int:
        """Records ahead of the one being synced whose children's first pages are fetched ahead."""
        return 4 * self.settings.max_concurrency

    def prefetched_children(self) -> list[CustomerIOStream]:
        """The children whose first pages are fetched ahead: the selected ones that have not failed."""
        return [
            t.cast("CustomerIOStream", child)
            for child in self.child_streams
            if child.selected and not self.tap.failures.failed(child.name)
        ]

    def with_children_prefetched(self, records: Iterable[dict], context: Context | None) -> Iterable[dict]:
        """Pass `records` through, the selected children's first pages (and theirs, see `first_page_ahead`)
        fetched a few records ahead."""
        children = self.prefetched_children()
        if not children:
            return records

        def start(record: dict) -> None:
            for child_context in self.generate_child_contexts(record, context):
                for child in children:
                    child.prefetch_first_page(child_context, with_children=True)

        return lookahead(records, start, depth=self.prefetch_depth)

    def probe_access(self) -> bool:
        """One cheap request to learn whether the key may read this stream: False on 403 only.

        Any other failure (5xx, 400, timeouts, an odd body) keeps the stream in the catalog with a warning:
        discovery describes what exists, and the sync reports the stream's own failure if it persists.
        A 401 stops discovery, since the key is wrong for every stream.
        """
        try:
            context: Context | None = next(iter(self.partitions or []), None)
            prepared = self.first_page_request(context, limit=1 if self.page_size else None)
            self.retrying(self.send_attempt)(prepared, context)
        except StreamForbiddenError as exc:
            self.logger.warning("Leaving stream '%s' out of the catalog: %s", self.name, exc)
            return False
        except KeyRejectedError:
            raise
        except Exception as exc:  # noqa: BLE001 (see above: only 401/403 decide)
            reason = redact(one_line(exc), self.settings.app_api_key)
            self.logger.warning("Keeping stream '%s' in the catalog although probing it failed: %s", self.name, reason)
        return True
