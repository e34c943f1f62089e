"""TapCustomerIO: settings, discovery (leaving out streams the key may not read) and the CLI entry point."""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import signal
import sys
import threading
import typing as t
from functools import cached_property

from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_customerio.client import CustomerIOError, KeyRejectedError, one_line
from tap_customerio.concurrency import Scheduler, SyncStoppedError, process_scheduler
from tap_customerio.failures import StreamFailures, StreamsFailedError
from tap_customerio.inputs import InputError, check_catalog, check_state, checked_file
from tap_customerio.output import RecordBufferingWriter
from tap_customerio.pagination import CursorLoopError
from tap_customerio.redaction import redact
from tap_customerio.sdk_hooks import TapHooks
from tap_customerio.settings import CONFIG_SCHEMA, Settings
from tap_customerio.streams import (
    activities,
    broadcasts,
    campaigns,
    link_metrics,
    messages,
    metrics,
    newsletters,
    objects,
    people,
    relationships,
    segments,
    transactional,
    workspace,
)
from tap_customerio.streams.export import EXPORT_STREAM_TYPES
from tap_customerio.timestamps import iso_to_unix

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_customerio.client import CustomerIOStream

STREAM_TYPES: tuple[type[CustomerIOStream], ...] = (
    activities.ActivitiesStream,
    broadcasts.BroadcastsStream,
    broadcasts.BroadcastActionsStream,
    broadcasts.BroadcastTriggersStream,
    campaigns.CampaignsStream,
    campaigns.CampaignActionsStream,
    metrics.CampaignMetricsStream,
    metrics.CampaignActionMetricsStream,
    metrics.BroadcastMetricsStream,
    metrics.BroadcastActionMetricsStream,
    messages.MessagesStream,
    newsletters.NewslettersStream,
    newsletters.NewsletterVariantsStream,
    newsletters.NewsletterTestGroupsStream,
    metrics.NewsletterMetricsStream,
    metrics.NewsletterVariantMetricsStream,
    people.CustomersStream,
    people.SubscriptionPreferencesStream,
    relationships.CustomerRelationshipsStream,
    segments.SegmentsStream,
    segments.SegmentMembershipsStream,
    segments.SegmentUsageStream,
    transactional.TransactionalMessagesStream,
    transactional.TransactionalContentsStream,
    metrics.TransactionalMetricsStream,
    workspace.ExportsStream,
    workspace.SenderIdentitiesStream,
    workspace.ReportingWebhooksStream,
    workspace.SnippetsStream,
    workspace.IpAddressesStream,
    workspace.CollectionsStream,
    workspace.CollectionContentsStream,
    workspace.TopicsStream,
    workspace.WorkspacesStream,
    workspace.ObjectTypesStream,
    objects.ObjectsStream,
    objects.ObjectRelationshipsStream,
    workspace.EspSuppressionStream,
    *link_metrics.LINK_METRICS_STREAM_TYPES,
    *EXPORT_STREAM_TYPES,
)

#: Failures reported as one line with exit code 1 instead of a traceback.
USER_FACING_ERRORS = (FatalAPIError, RetriableAPIError, CursorLoopError, OSError, InputError)


class TapCustomerIO(TapHooks):
    """Singer tap for the Customer.io App API."""

    name = "tap-customerio"
    #: The distribution's name on PyPI (singer-io's `tap-customerio` holds the plain name); `--about` reads
    #: the version from it.
    package_name = "tap-customerio-warehouse"
    #: msgspec serialises RECORD messages several times faster than the default json writer (see `output.py`).
    message_writer_class = RecordBufferingWriter

    #: A copy: singer-sdk adds its built-in settings (`batch_config`, `stream_maps`, ...) to this dict in place.
    config_jsonschema = copy.deepcopy(CONFIG_SCHEMA)

    #: The catalog depends on the config (streams the key gets 403 for are left out), so `--discover`
    #: validates the config too instead of failing later on a missing key.
    dynamic_catalog = True

    def __init__(self, *, catalog: t.Any = None, **kwargs: t.Any) -> None:
        """Checks the catalog, the state and the settings singer-sdk does not check, before any request;
        the catalog's Meltano `replication-method` metadata is translated (see below)."""
        #: Streams that failed in this run (each failure ends only its own stream).
        self.failures = StreamFailures()
        if isinstance(catalog, dict):
            check_catalog(catalog)
        super().__init__(catalog=with_forced_replication_methods(catalog), **kwargs)
        check_start_date(self.settings.start_date)
        check_batch_config(self.config.get("batch_config"))  # singer-sdk's own setting, without a default
        check_api_key(self.settings.app_api_key)
        process_scheduler().configure(self.settings.max_requests_per_second, workers=self.settings.max_concurrency)

    @cached_property
    def settings(self) -> Settings:
        """This run's settings, read once from the validated config (see `settings.py`)."""
        return Settings.from_config(self.config)

    def load_state(self, state: dict[str, t.Any]) -> None:
        """The SDK's state loading, after checking the state's shape and bookmark values (`inputs.py`)."""
        check_state(state)
        super().load_state(state)

    def discover_streams(self) -> list[CustomerIOStream]:
        """Every stream of the App API."""
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    def sync_streams(self) -> None:
        """Check the workspace, log what a backfill will cost, sync the selected top-level streams
        concurrently (see `concurrency.py`), then fail with the summary of the streams that failed (each
        stream's failure is caught in its own `sync`, see `CustomerIOStream.run_sync`).

        The steps of singer-sdk's `sync_all` (see `sdk_hooks.py`): its preparation, then per stream `sync` and
        `finalize_state_progress_markers`, then every stream's costs. Only the loop runs concurrently. RECORD
        lines the writer still holds (no STATE followed them, e.g. after a failed stream) are written at the end.
        """
        try:
            self.check_workspace()
            self.prepare_sync()
            streams = self.top_level_streams()
            for stream in self.streams.values():
                _ = stream.stream_state  # every state entry exists before threads serialise the state
            self.log_backfill_estimates(streams)
            with stopped_by_sigterm(process_scheduler()):
                process_scheduler().run_concurrently(
                    [functools.partial(sync_stream, stream) for stream in streams],
                    parallel=self.settings.max_concurrency,
                )
            for stream in self.streams.values():
                stream.log_sync_costs()
            if self.failures:
                raise StreamsFailedError(
                    self.failures.summary(t.cast("dict[str, CustomerIOStream]", self.streams).values())
                )
        finally:
            t.cast("RecordBufferingWriter", self.message_writer).flush_records()  # records no STATE followed

    def top_level_streams(self) -> list[CustomerIOStream]:
        """The streams to sync, long-running ones first, then those whose children fan out per record
        (deepest first), single-list streams last: a run should not end with one long chain of requests
        using only part of the budget while every other stream is done, and the last streams to start are
        short, independent requests that fill the budget while the long ones finish."""
        streams = [
            t.cast("CustomerIOStream", stream)
            for stream in self.streams.values()
            if stream.parent_stream_type is None and (stream.selected or stream.has_selected_descendents)
        ]
        return sorted(streams, key=lambda stream: (not stream.long_running, -selected_depth(stream)))

    def log_backfill_estimates(self, streams: list[CustomerIOStream]) -> None:
        """One line per stream whose remaining requests can be known before it starts (pages of the
        customer search, windows of messages), with the time the budget needs for them."""
        rate = self.settings.max_requests_per_second
        for stream in streams:
            estimate = stream.backfill_estimate()
            if estimate is not None:
                requests, detail = estimate
                self.logger.info(
                    "Stream '%s': about %d requests to go (%s), %s at %g requests/s",
                    stream.name,
                    requests,
                    detail,
                    duration(requests / rate),
                    rate,
                )

    def workspace_figure(self, key: str) -> int | None:
        """A count `/v1/workspaces` reports for the synced workspace (e.g. `people`), or None when it is
        not known. The page is fetched ahead for the `workspaces` stream, which claims it if selected."""
        try:
            workspaces = self.workspaces_list()
        except KeyRejectedError:
            raise
        except Exception:  # noqa: BLE001 (an estimate is optional; the streams report their own failures)
            return None
        wanted = "" if self.settings.workspace_id is None else str(self.settings.workspace_id)
        mine = [w for w in workspaces if str(w.get("id")) == wanted] if wanted else workspaces
        value = mine[0].get(key) if len(mine) == 1 else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def workspaces_list(self) -> list[dict]:
        """The workspaces the key sees, read once per run (`check_workspace` and the estimates share it)."""
        stream = t.cast("CustomerIOStream", self.streams["workspaces"])
        return list(stream.parse_response(process_scheduler().result(stream.first_page_ahead(None))))

    def check_workspace(self) -> None:
        """Selected export streams need one workspace id (`export_workspace_id`). Checked before the first
        stream starts, so a run that cannot complete writes nothing.

        If `/v1/workspaces` itself fails, the export streams are left to fail on their own (the other
        streams do not need it).
        """
        exports = sorted(s.name for s in self.streams.values() if s.selected and type(s) in EXPORT_STREAM_TYPES)
        if not exports or self.settings.workspace_id is not None:
            return
        try:
            self.export_workspace_id(exports)
        except (KeyRejectedError, WorkspaceUnresolvedError):
            raise
        except CustomerIOError as exc:
            self.logger.warning("Could not list the key's workspaces for %s: %s", ", ".join(exports), exc)

    def export_workspace_id(self, streams: list[str]) -> int:
        """The workspace id the export `streams` write: the `workspace_id` setting, else the only workspace the
        key sees (listed once per run, `workspaces_list`)."""
        if self.settings.workspace_id is not None:
            return self.settings.workspace_id
        workspaces = self.workspaces_list()
        if len(workspaces) != 1:
            seen = "; ".join(f"{w.get('id')} ({w.get('name')})" for w in workspaces) or "none"
            msg = (
                f"streams {', '.join(streams)} need the workspace_id setting: the API key sees "
                f"{len(workspaces)} workspaces: {seen}. Set workspace_id to one of these ids"
            )
            raise WorkspaceUnresolvedError(msg)
        return int(workspaces[0]["id"])

    def run_discovery(self) -> str:
        """Discovery probes the API, so its failures (wrong key, API down) also end in one line and exit 1."""
        try:
            return super().run_discovery()
        except USER_FACING_ERRORS as exc:
            reason = redact(one_line(exc), self.settings.app_api_key)
            self.logger.error("tap-customerio failed: %s", reason)  # no traceback
            sys.exit(1)

    @property
    def catalog_dict(self) -> dict:
        """singer-sdk's catalog without the streams the key gets 403 for (and their children)."""
        forbidden = {
            stream.name
            for stream in self.streams.values()
            if stream.parent_stream_type is None and not t.cast("CustomerIOStream", stream).probe_access()
        }
        for stream in self.streams.values():
            parent = t.cast("type[CustomerIOStream] | None", stream.parent_stream_type)
            if parent is not None and parent.name in forbidden:
                forbidden.add(stream.name)
        left_out = {self.streams[name].tap_stream_id for name in forbidden}
        catalog = super().catalog_dict
        catalog["streams"] = [entry for entry in catalog["streams"] if entry["tap_stream_id"] not in left_out]
        return catalog

    @classmethod
    def print_about(cls, output_format: str | None = None) -> None:
        """The SDK's about text, plus the stream table in markdown (the SDK documents settings only)."""
        super().print_about(output_format)
        if output_format == "markdown":
            print(stream_table())

    @classmethod
    def invoke(cls, *, state: t.IO[str] | None = None, catalog: t.IO[str] | None = None, **kwargs: t.Any) -> None:
        """Run a sync; config, input and API failures end the process with one line on stderr and exit
        code 1; failed streams end it with the summary, one line per stream (see `failures.py`)."""
        try:
            super().invoke(
                state=checked_file(state, "state", check_state),
                catalog=checked_file(catalog, "catalog", check_catalog),
                **kwargs,
            )
        except ConfigValidationError as exc:
            cls.logger.error("tap-customerio failed: invalid config: %s", "; ".join(exc.errors) or exc)
            sys.exit(1)
        except StreamsFailedError as exc:
            for line in exc.lines:
                cls.logger.error("%s", redact(line, None))  # one line per stream, no traceback
            sys.exit(1)
        except USER_FACING_ERRORS as exc:
            cls.logger.error("tap-customerio failed: %s", redact(one_line(exc), None))
            sys.exit(1)


@contextlib.contextmanager
def stopped_by_sigterm(scheduler: Scheduler) -> Iterator[None]:
    """On SIGTERM, stop the streams between two messages and exit with 143, the code of a process ended by
    SIGTERM. Python's default would end the process at once, possibly halfway through a line on stdout, which
    the target must then refuse; this way it reads whole messages up to the last STATE and commits them."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers live in the main thread
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: scheduler.stop())
    try:
        yield
    except SyncStoppedError:
        logging.getLogger("tap-customerio").error("tap-customerio stopped by SIGTERM after its last whole message")
        sys.exit(128 + signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)


def sync_stream(stream: CustomerIOStream) -> None:
    """One top-level stream's part of singer-sdk's `sync_all`: its sync (children included), then its
    progress markers become its bookmark."""
    stream.sync()
    stream.finalize_state_progress_markers()


def selected_depth(stream: CustomerIOStream) -> int:
    """Generations of selected descendants below `stream` (0: it reads only its own list)."""
    return max(
        (
            1 + selected_depth(t.cast("CustomerIOStream", child))
            for child in stream.child_streams
            if child.selected or child.has_selected_descendents
        ),
        default=0,
    )


def duration(seconds: float) -> str:
    """`seconds` as a rough human duration."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class WorkspaceUnresolvedError(CustomerIOError):
    """Export streams are selected, but no single workspace id is known."""


def check_api_key(key: str) -> None:
    """The key (stripped of surrounding whitespace, see `settings.py`) must be non-empty and printable: `requests`
    refuses a header with control characters in an error that quotes the header, key included."""
    if not key or not key.isprintable() or any(c.isspace() for c in key):
        msg = "app_api_key is empty or contains whitespace or control characters inside the key"
        raise ConfigValidationError(msg, errors=[msg])


def check_start_date(value: str | None) -> None:
    """`start_date` must be an ISO 8601 date or date-time (singer-sdk does not check JSON schema formats)."""
    if value is None:
        return
    try:
        iso_to_unix(value)
    except (TypeError, ValueError):
        msg = f"start_date {value!r} is not an ISO 8601 date-time (e.g. 2024-01-31T00:00:00Z)"
        raise ConfigValidationError(msg, errors=[msg]) from None


def check_batch_config(value: dict | None) -> None:
    """Batch mode writes jsonl files only: singer-sdk 0.54's parquet batcher (`pa.Table.from_pylist`)
    takes the columns from the first record of each file, so a property that record lacks is dropped
    from every row, and objects become structs that add null keys (`{}` → `{"and": null}`)."""
    encoding = (value or {}).get("encoding") or {}
    if encoding.get("format") == "parquet":
        msg = (
            "batch_config: encoding format 'parquet' would lose values (singer-sdk writes only the first "
            "record's properties); use format 'jsonl'"
        )
        raise ConfigValidationError(msg, errors=[msg])


def with_forced_replication_methods(catalog: t.Any) -> t.Any:
    """Make a stream's `replication-method` / `forced-replication-method` metadata decide its method.

    Meltano's `metadata:` extra writes `replication-method: FULL_TABLE` verbatim into the catalog, but
    singer-sdk 0.54 reads only `forced-replication-method`, and even that loses against the entry's
    top-level `replication_method`, which discovery fills with the default. Without this, switching a
    stream to full table from `meltano.yml` would be silently ignored.
    """
    if not isinstance(catalog, dict):
        return catalog
    for entry in catalog.get("streams", []):
        for item in entry.get("metadata", []):
            metadata = item.get("metadata", {})
            method = metadata.get("replication-method") or metadata.get("forced-replication-method")
            if not item.get("breadcrumb") and method:
                metadata["forced-replication-method"] = method
                entry["replication_method"] = method
    return catalog


def stream_table() -> str:
    """Markdown table of every stream: endpoint, primary key and default replication."""
    lines = [
        "## Streams\n",
        "| Stream | Endpoint | Primary key | Default replication | Parent |",
        "|:-------|:---------|:------------|:--------------------|:-------|",
    ]
    for stream_type in sorted(STREAM_TYPES, key=lambda s: s.name):
        key = stream_type.replication_key  # a class attribute on streams that have one, else the SDK property
        method = f"INCREMENTAL on `{key}`" if isinstance(key, str) else "FULL_TABLE"
        parent = stream_type.parent_stream_type.name if stream_type.parent_stream_type else ""
        verb = stream_type.http_method if isinstance(stream_type.http_method, str) else "GET"
        lines.append(
            f"| `{stream_type.name}` | {verb} `/v1{stream_type.path}` "
            f"| {', '.join(stream_type.primary_keys)} | {method} | {parent} |"
        )
    lines.append("\nEvery stream also supports FULL_TABLE through catalog metadata `replication-method`.")
    return "\n".join(lines)
