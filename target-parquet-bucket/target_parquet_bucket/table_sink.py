"""The sink for `table_format` delta/iceberg: decoded Arrow batches go into the stream's table.

Decoding, buffering and error locating are the files sink's; only where the rows go differs.
Rows wait in memory (at most `max_file_size_mb` of Arrow data) until a commit: before every STATE,
at the end of input, on a schema change, or when that bound is reached.

A full-table stream replacing its contents (ACTIVATE_VERSION, or `load_method: overwrite`) keeps
its rows until the version is complete, then replaces the table in one commit; STATE lines that
arrive meanwhile are held back by the target, since the rows before them are not committed yet.
"""

from __future__ import annotations

import typing as t

import pyarrow as pa

from target_parquet_bucket.sinks import MEBIBYTE, ParquetBucketSink
from target_parquet_bucket.table_settings import load_method
from target_parquet_bucket.tables import Commit, TableSchemaError, TableStore, check_evolution

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from singer_sdk.target_base import Target

    from target_parquet_bucket.target import TargetParquetBucket


class TableWriteError(Exception):
    """A table commit that failed (one line: stream and the library's reason, secrets removed)."""


class TableSink(ParquetBucketSink):
    """One stream under one SCHEMA message, written into the stream's Delta/Iceberg table."""

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        """Refuse at SCHEMA time an upsert without keys and a type change the table cannot take."""
        super().__init__(target, stream_name, schema, key_properties)
        self.store: TableStore = t.cast("TableStore", t.cast("TargetParquetBucket", target).tables)
        self.load_method = load_method(self.config)
        if self.load_method == "upsert" and not self.key_properties:
            msg = f"stream '{stream_name}': load_method 'upsert' needs key_properties, and its SCHEMA declares none"
            raise TableSchemaError(msg)
        existing = self.store.existing_schema(stream_name)
        if existing is not None:
            check_evolution(stream_name, existing, self.decoder.schema)
        self._pending: list[pa.RecordBatch] = []
        self._pending_bytes = 0
        self._max_pending_bytes = int(self.config.get("max_file_size_mb") or 100) * MEBIBYTE
        #: The next commit replaces the table (overwrite, or a new full-table version started).
        self._replace_next = self.load_method == "overwrite"
        #: Rows are being held for one atomic replacement (see the module docstring).
        self.holding = self._replace_next
        self._version: int | None = None
        self._committed = False

    def _partitions(self, batch: pa.RecordBatch) -> Iterator[tuple[str, pa.RecordBatch]]:
        """The table format partitions (see `tables`); no folders are made here."""
        yield "", batch

    def _write_rolling(self, partition: str, rows: pa.RecordBatch, versions: set[int | None]) -> None:
        """Keep the rows for the next commit; commit early once the bound is reached."""
        _ = partition, versions
        self._pending.append(rows)
        self._pending_bytes += rows.nbytes
        if self._pending_bytes >= self._max_pending_bytes and not self.holding:
            self._commit_pending(state=None)

    def commit(self) -> None:
        """Before STATE: commit the rows read so far, with the state they complete."""
        if not self.holding:
            self._commit_pending(state=t.cast("TargetParquetBucket", self._target).completing_state)

    def clean_up(self) -> None:
        """End of input: a held replacement is complete now."""
        self.holding = False
        self._commit_pending(state=t.cast("TargetParquetBucket", self._target).completing_state, final=True)
        self._housekeep(final=True)

    def activate_version(self, new_version: int) -> None:
        """A new version starts a replacement; the same version again (its end) completes it."""
        self._target.drain_one(self)
        if new_version != self._version:
            if self._version is not None:  # a previous version ended without its closing marker
                self.holding = False
                self._commit_pending(state=None, final=True)
            self._version = new_version
            self._replace_next = self.holding = True
            self.logger.info(
                "ACTIVATE_VERSION %s: '%s' is replaced once the version is complete", new_version, self.stream_name
            )
            return
        self.holding = False
        self._commit_pending(state=None, final=True)

    def _commit_pending(self, *, state: dict | None, final: bool = False) -> None:
        """One table commit of the pending rows (a replacement commits even when empty at the end)."""
        if not self._pending and not (final and self._replace_next):
            return
        rows = pa.Table.from_batches(self._pending, schema=self.decoder.schema)
        mode = "overwrite" if self._replace_next else ("upsert" if self.load_method == "upsert" else "append")
        try:
            self.store.commit(
                self.stream_name,
                Commit(rows, mode, tuple(self.key_properties), state),
                partition_by=self._partition_field,
            )
        except TableSchemaError:
            raise
        except Exception as exc:  # noqa: BLE001 - delta-rs/pyiceberg errors may echo URLs with SAS tokens
            reason = self.bucket.storage.redact(" ".join(str(exc).split()))
            msg = f"stream '{self.stream_name}': {self.store.kind} commit of {rows.num_rows} rows failed: {reason}"
            raise TableWriteError(msg) from None
        self._pending, self._pending_bytes, self._replace_next = [], 0, False
        self._committed = True
        self.logger.info(
            "Committed %d rows to %s table '%s' (%s)", rows.num_rows, self.store.kind, self.stream_name, mode
        )
        self._housekeep(final=False)

    def _housekeep(self, *, final: bool) -> None:
        """Compaction every `table_compact_every_commits` commits of the table (counted across
        runs); expiry with it and at the end of a run that committed."""
        every = int(self.config.get("table_compact_every_commits") or 0)
        retention = int(self.config.get("table_retention_hours") or 0)
        compact = bool(every) and not final and self.store.commit_count(self.stream_name) % every == 0
        if compact or (final and retention and self._committed):
            self.store.housekeep(self.stream_name, compact=compact, retention_hours=retention)
