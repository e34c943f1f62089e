"""Deliveries, read in `start_ts`/`end_ts` windows so that history beyond the API's 6-month cap is reachable."""

from __future__ import annotations

import time
import typing as t

from tap_customerio.client import CustomerIOError, CustomerIOStream
from tap_customerio.concurrency import lookahead
from tap_customerio.schemas import messages as schemas
from tap_customerio.sdk_hooks import drop_progress_markers, progress_marker
from tap_customerio.timestamps import iso_to_unix, unix_to_iso

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk.helpers.types import Context

DAY = 86400
#: Without `start_date` or a bookmark, read what the API itself would serve by default.
DEFAULT_HISTORY_DAYS = 180
#: Stream-state key (next to the SDK's bookmark) holding the latest creation or metric time seen.
CHANGED_THROUGH_KEY = "changed_through"
METRIC_COUNT_KEYS = frozenset(schemas.METRIC_COUNT_KEYS)


def last_change(message: dict) -> int | None:
    """The latest of a delivery's `created` and its metric times (unix seconds, as the API sends them).

    A plain loop: this runs for every delivery, and is several times faster than collecting the times first."""
    latest = message.get("created")
    if type(latest) is not int:
        latest = None
    for key, value in (message.get("metrics") or {}).items():
        if type(value) is int and key not in METRIC_COUNT_KEYS and (latest is None or value > latest):
            latest = value
    return latest


class MessagesStream(CustomerIOStream):
    """`GET /v1/messages`: 1000 per page, windows of `messages_window_days`, oldest window first.

    How the bookmark moves: the API returns each window newest first, so records arrive unsorted and
    singer-sdk (with `is_sorted = False`) collects the maximum `created` in progress markers. When a window
    is complete every delivery up to its end has been emitted, so the markers are promoted to the
    bookmark and a STATE message is written (`commit_window`). An interrupted run therefore resumes at the
    last completed window instead of the first. Each run starts `messages_lookback_days` before the
    bookmark, because delivery metrics (opened, clicked, ...) land after a delivery was created.
    Windows are not singer-sdk partitions because partitions would keep one state entry per window forever.

    What is emitted: re-reading the lookback finds mostly deliveries emitted before, so an incremental run
    emits only those created or given a metric after `changed_through` (minus `lookback_window_minutes`,
    like every client-side CDC stream), the latest such time the previous run saw. It is kept in the stream's
    state next to the bookmark and, like the export's `metrics` bookmark, never set past the end of the last
    completed window: later windows hold only deliveries created after it.
    """

    name = "messages"
    path = "/messages"
    records_key = "messages"
    paging = "cursor"
    page_size = 1000
    continue_on_empty_page = True
    primary_keys = ("id",)
    replication_key = "created"
    start_date_applies = True
    client_side_cdc = False
    long_running = True
    bookmark_once_per_page = True
    schema = schemas.MESSAGE
    timestamp_fields = schemas.MESSAGE_TIMESTAMP_FIELDS

    def lookback_seconds(self) -> int:
        """Days re-read before the bookmark to pick up late metrics."""
        return self.settings.messages_lookback_days * DAY

    def backfill_estimate(self) -> tuple[int, str] | None:
        """At least one page per window (one more per 1000 deliveries in it)."""
        windows = sum(1 for _ in self.window_bounds())
        days = self.settings.messages_window_days
        return windows, f"{windows} windows of {days} days, at least one page each"

    def windows(self) -> Iterator[tuple[int, int]]:
        """Inclusive (start_ts, end_ts) pairs from the starting point up to now, oldest first.

        Windows are independent, so while the caller pages through one window the first pages of the next
        `max_concurrency` windows are already being fetched (the caller must request each window it is
        given, with the context `{"start_ts": ..., "end_ts": ...}`).
        """
        return lookahead(self.window_bounds(), self.prefetch_window, depth=self.settings.max_concurrency)

    def prefetch_window(self, window: tuple[int, int]) -> None:
        """Fetch the window's first page ahead."""
        self.prefetch_first_page({"start_ts": window[0], "end_ts": window[1]})

    def window_bounds(self) -> Iterator[tuple[int, int]]:
        """The windows, without fetching anything."""
        now = int(time.time())
        bookmark = self.saved_bookmark_unix(None) if self.incremental else None
        if bookmark is not None:
            start = bookmark - self.lookback_seconds() + 1  # deliveries created after bookmark - lookback
        else:
            start = self.start_date_unix() or now - DEFAULT_HISTORY_DAYS * DAY
        step = self.settings.messages_window_days * DAY
        while start <= now:
            end = min(start + step - 1, now)
            yield start, end
            start = end + 1

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        """Adds the window bounds."""
        params = super().get_url_params(context, next_page_token)
        if context:
            params["start_ts"], params["end_ts"] = context["start_ts"], context["end_ts"]
        return params

    def get_records(self, context: Context | None) -> Iterable[dict]:
        """Deliveries changed since the previous run, window by window; the bookmark is committed after each."""
        after = self.emit_after()
        newest: int | None = None
        for start_ts, end_ts in self.windows():
            for message in self.request_records({"start_ts": start_ts, "end_ts": end_ts}):
                changed = last_change(message)
                if changed is not None:
                    newest = max(newest or changed, changed)
                if after is None or changed is None or changed > after:
                    yield message
            self.hold_changed_through(newest, end_ts)
            self.commit_window()

    def emit_after(self) -> int | None:
        """Deliveries whose last change is at or before this unix time were emitted before (None: emit all)."""
        if not self.incremental:
            return None
        state = self.get_context_state(None)
        value = state.get(CHANGED_THROUGH_KEY)
        if value is None:  # state written before `changed_through` existed: the bookmark is the best bound
            bookmark = self.saved_bookmark_unix(None)
            return None if bookmark is None else bookmark - self.cdc_lookback_seconds()
        try:
            return iso_to_unix(value) - self.cdc_lookback_seconds()
        except (TypeError, ValueError):
            msg = f"stream '{self.name}': state field '{CHANGED_THROUGH_KEY}' is not an ISO 8601 date-time: {value!r}"
            raise CustomerIOError(msg) from None

    def cdc_lookback_seconds(self) -> int:
        """`lookback_window_minutes`: changes this long before `changed_through` are emitted again, as for
        every client-side CDC stream (a metric can be recorded with a time slightly before it lands)."""
        return super().lookback_seconds()

    def hold_changed_through(self, newest: int | None, window_end: int) -> None:
        """Keep the latest change seen, capped at the window's end and never moved backwards."""
        if newest is None or not self.incremental:
            return
        state = self.get_context_state(None)
        held = min(newest, window_end)
        previous = state.get(CHANGED_THROUGH_KEY)
        if previous is None or iso_to_unix(previous) < held:
            state[CHANGED_THROUGH_KEY] = unix_to_iso(held)

    def commit_window(self) -> None:
        """Promote the window's progress markers to the bookmark, never moving it backwards."""
        if not self.incremental:
            return
        self.settle_bookmark()
        state = self.get_context_state(None)
        reached = progress_marker(state)
        saved = state.get("replication_key_value")
        if reached and saved and iso_to_unix(reached) < iso_to_unix(saved):
            drop_progress_markers(state)
        self.finalize_state_progress_markers(state)
