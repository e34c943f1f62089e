"""The tables' counterpart of the bucket (`table_format` delta/iceberg): the one owner of the rows
waiting for a table commit, and of the commits.

Table sinks hand it decoded Arrow batches with their stream's identity (`TableStream`). Rows wait in
memory (at most `max_file_size_mb` of Arrow data per stream, less for an upsert when the table
store says so: `TableStore.max_upsert_bytes`) until a commit: before every STATE
(`commit_all`, called by the target with the state the commits complete), at the end of input, on a
schema change, or when that bound is reached.

A full-table stream replacing its contents (ACTIVATE_VERSION, or `load_method: overwrite`) keeps
its rows until the version is complete, then replaces the table in one commit; `commit_all` names
such streams, and the target holds STATE back while there are any, since the rows before it are not
committed yet.
"""

from __future__ import annotations

import threading
import typing as t

import pyarrow as pa

from target_parquet_bucket.tables import Commit, TableSchemaError, TableStore, check_evolution
from target_parquet_bucket.writers import MEBIBYTE

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Sequence

    from target_parquet_bucket.settings import Settings


class TableWriteError(Exception):
    """A table commit that failed (one line: stream and the library's reason, secrets removed)."""


class TableStream:
    """A stream's table under one SCHEMA, with the rows waiting for its next commit."""

    def __init__(
        self,
        name: str,
        schema: pa.Schema,
        keys: Sequence[str],
        load_method: str,
        *,
        partition_by: str | None,
        logger: logging.Logger,
    ) -> None:
        """A stream with `load_method: overwrite` starts holding its rows for one replacement."""
        self.name = name
        self.schema = schema
        self.keys = tuple(keys)
        self.load_method = load_method
        self.partition_by = partition_by
        self.logger = logger
        self.pending: list[pa.RecordBatch] = []
        self.pending_bytes = 0
        #: The next commit replaces the table (overwrite, or a new full-table version started).
        self.replace_next = load_method == "overwrite"
        #: Rows are being held for one atomic replacement (see the module docstring).
        self.holding = self.replace_next
        self.version: int | None = None
        self.committed = False


class TableCommits:
    """Pending rows and commits of every stream table of one run."""

    def __init__(self, store: TableStore, settings: Settings, *, redact: Callable[[str], str]) -> None:
        """`redact` removes secrets from the table libraries' error messages."""
        self.store = store
        self._redact = redact
        self._max_pending_bytes = settings.max_file_size_mb * MEBIBYTE
        self._max_upsert_bytes = min(self._max_pending_bytes, store.max_upsert_bytes or self._max_pending_bytes)
        self._compact_every = settings.table_compact_every_commits
        self._retention_hours = settings.table_retention_hours
        #: The latest table of each stream, in the order the target's sinks are (a new schema's last),
        #: and the replaced ones not finished yet: the tables `commit_all` commits, in that order.
        self._tables: dict[str, TableStream] = {}
        self._replaced: list[TableStream] = []
        #: Sinks drain in parallel threads; one commit at a time, as the table libraries expect.
        self._lock = threading.RLock()
        #: The state the end-of-input commits complete, handed down by the target before its last drain.
        self.final_state: dict | None = None

    def open(
        self,
        stream: str,
        schema: pa.Schema,
        keys: Sequence[str],
        load_method: str,
        *,
        partition_by: str | None,
        logger: logging.Logger,
    ) -> TableStream:
        """The stream's table under a new SCHEMA; refuses an upsert without keys and a type change
        the existing table cannot take."""
        if load_method == "upsert" and not keys:
            msg = f"stream '{stream}': load_method 'upsert' needs key_properties, and its SCHEMA declares none"
            raise TableSchemaError(msg)
        existing = self.store.existing_schema(stream)
        if existing is not None:
            check_evolution(stream, existing, schema)
        table = TableStream(stream, schema, keys, load_method, partition_by=partition_by, logger=logger)
        with self._lock:
            replaced = self._tables.pop(stream, None)
            if replaced is not None:
                self._replaced.append(replaced)
            self._tables[stream] = table
        return table

    def write(self, table: TableStream, batch: pa.RecordBatch) -> None:
        """Keep the rows for the next commit; commit early once the bound is reached."""
        with self._lock:
            table.pending.append(batch)
            table.pending_bytes += batch.nbytes
            bound = self._max_upsert_bytes if table.load_method == "upsert" else self._max_pending_bytes
            if table.pending_bytes >= bound and not table.holding:
                self._commit(table, state=None)

    def commit_all(self, state: dict | None) -> list[str]:
        """Before STATE: commit every stream's rows read so far, with the state they complete.
        Returns the streams holding rows for a replacement (the STATE must wait for them)."""
        with self._lock:
            tables = [*self._tables.values(), *self._replaced]
            for table in tables:
                if not table.holding:
                    self._commit(table, state=state)
            return [table.name for table in tables if table.holding]

    def finish(self, table: TableStream, state: dict | None) -> None:
        """End of input or a schema change: a held replacement is complete now."""
        with self._lock:
            table.holding = False
            self._commit(table, state=state, final=True)
            self._housekeep(table, final=True)
            if table in self._replaced:
                self._replaced.remove(table)

    def activate_version(self, table: TableStream, version: int) -> None:
        """A new version starts a replacement; the same version again (its end) completes it."""
        with self._lock:
            if version == table.version:
                table.holding = False
                self._commit(table, state=None, final=True)
                return
            if table.version is not None:  # a previous version ended without its closing marker
                table.holding = False
                self._commit(table, state=None, final=True)
            table.version = version
            table.replace_next = table.holding = True
        table.logger.info("ACTIVATE_VERSION %s: '%s' is replaced once the version is complete", version, table.name)

    def _commit(self, table: TableStream, *, state: dict | None, final: bool = False) -> None:
        """One table commit of the pending rows (a replacement commits even when empty at the end)."""
        if not table.pending and not (final and table.replace_next):
            return
        rows = pa.Table.from_batches(table.pending, schema=table.schema)
        mode = "overwrite" if table.replace_next else ("upsert" if table.load_method == "upsert" else "append")
        try:
            self.store.commit(table.name, Commit(rows, mode, table.keys, state), partition_by=table.partition_by)
        except TableSchemaError:
            raise
        except Exception as exc:  # noqa: BLE001 - delta-rs/pyiceberg errors may echo URLs with SAS tokens
            reason = self._redact(" ".join(str(exc).split()))
            msg = f"stream '{table.name}': {self.store.kind} commit of {rows.num_rows} rows failed: {reason}"
            raise TableWriteError(msg) from None
        table.pending, table.pending_bytes, table.replace_next = [], 0, False
        table.committed = True
        table.logger.info("Committed %d rows to %s table '%s' (%s)", rows.num_rows, self.store.kind, table.name, mode)
        self._housekeep(table, final=False)

    def _housekeep(self, table: TableStream, *, final: bool) -> None:
        """Compaction every `table_compact_every_commits` commits of the table (counted across
        runs); expiry with it and at the end of a run that committed."""
        every, retention = self._compact_every, self._retention_hours
        compact = bool(every) and not final and self.store.commit_count(table.name) % every == 0
        if compact or (final and retention and table.committed):
            self.store.housekeep(table.name, compact=compact, retention_hours=retention)
