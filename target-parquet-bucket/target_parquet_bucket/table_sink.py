"""The sink for `table_format` delta/iceberg: decoded Arrow batches go down to the stream's table.

Decoding, buffering and error locating are the files sink's; only where the rows go differs: to
`TableCommits` (the tables' counterpart of the bucket), which keeps them until a commit.
"""

from __future__ import annotations

import typing as t

from target_parquet_bucket.sinks import ParquetBucketSink

if t.TYPE_CHECKING:
    import pyarrow as pa
    from singer_sdk.target_base import Target

    from target_parquet_bucket.table_commits import TableCommits


class TableSink(ParquetBucketSink):
    """One stream under one SCHEMA message, written into the stream's Delta/Iceberg table."""

    def _open_destination(self, target: Target) -> None:
        """Open the stream's table; refuses at SCHEMA time an upsert without keys and a type change
        the table cannot take."""
        self.tables: TableCommits = target.tables  # type: ignore[attr-defined]  # the target's, set before any sink
        self.table = self.tables.open(
            self.stream_name,
            self.decoder.schema,
            self.key_properties,
            self.settings.load_method,
            partition_by=self._partition_field,
            logger=self.logger,
        )

    def _write(self, batch: pa.RecordBatch, versions: set[int | None]) -> None:
        """Hand the rows down to the table (the table format partitions: no folders are made here)."""
        _ = versions
        self.tables.write(self.table, batch)

    def _finish_output(self, *, end_of_input: bool) -> None:
        """Commit the stream's rows: after a retire (a new SCHEMA) completing no new state; at the end of
        input with the last STATE received, which also completes a held replacement."""
        self.tables.finish(self.table, state=self.tables.final_state if end_of_input else None)

    def activate_version(self, new_version: int) -> None:
        """A new version starts a replacement; the same version again (its end) completes it."""
        self._drain_buffer()
        self.tables.activate_version(self.table, new_version)
