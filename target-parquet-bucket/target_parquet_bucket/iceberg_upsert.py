"""Iceberg upserts, a data file at a time: one transaction drops, from each data file that holds one of
the commit's keys, the rows with those keys (the file read, matched against the keys with Arrow's hash
join, and rewritten without them), then appends the commit's rows.

Why not pyiceberg's `overwrite(rows, overwrite_filter=...)` with the key filter pyiceberg's `upsert` builds
(`create_match_filter`): that filter is one `In` expression with a literal per key. For a commit of
243k keys the expression alone took 186 MiB and 2.8 s to build, and pyiceberg then evaluates it against
every data file's statistics and binds it again for each file it rewrites. Here the keys stay an Arrow
table: the files are chosen by the keys' range (a two-literal filter pyiceberg checks against file
statistics) and then by reading only their key columns, so a file without a changed key, or with nothing
but changed keys, is never read whole. `Table.upsert` itself cannot be used: it reads the matching rows file
by file and fails on files written before a column was added (their batches lack it).

`ArrowScan` (reading one planned file projected onto the current schema, as pyiceberg's own delete does)
is public; `_dataframe_to_data_files` (writing Arrow rows as data files of the table, with its partition
spec and target file size) is private, and used only here, because pyiceberg offers no public way to
write the replacement of one data file.
"""

from __future__ import annotations

import itertools
import typing as t
import uuid

import pyarrow as pa
import pyarrow.compute as pc

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_ROW = "__target_parquet_bucket_row"


def upsert(table: t.Any, rows: pa.Table, keys: Sequence[str], properties: dict[str, str]) -> None:
    """Replace the rows of `table` (a pyiceberg Table) whose key is among `rows`' keys by `rows`, as one
    transaction. `rows` holds each key once (see `tables.last_per_key`)."""
    with table.transaction() as transaction:
        replaced = list(_files_without_keys(table, transaction.table_metadata, rows.select(list(keys))))
        if replaced:
            with transaction.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
                for old_file, new_files in replaced:
                    overwrite.delete_data_file(old_file)
                    for new_file in new_files:
                        overwrite.append_data_file(new_file)
        transaction.append(rows, snapshot_properties=properties)


def _files_without_keys(table: t.Any, metadata: t.Any, key_rows: pa.Table) -> Iterator[tuple[t.Any, list[t.Any]]]:
    """For each data file holding one of `key_rows`' keys: the file, and the data files that replace it
    (none when every row of it goes)."""
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files

    schema = metadata.schema()
    key_scan = ArrowScan(metadata, table.io, schema.select(*key_rows.column_names), AlwaysTrue())
    full_scan = ArrowScan(metadata, table.io, schema, AlwaysTrue())
    write_uuid, counter = uuid.uuid4(), itertools.count(0)
    for task in table.scan(row_filter=_key_range(key_rows)).plan_files():
        has_key = _has_key(key_scan.to_table([task]), key_rows)
        if not pc.any(has_key).as_py():
            continue
        if pc.all(has_key).as_py():  # every row replaced: the file goes without being read whole
            yield task.file, []
            continue
        kept = full_scan.to_table([task]).filter(pc.invert(has_key))  # all columns: the rows, in the same order
        yield task.file, list(_dataframe_to_data_files(metadata, kept, table.io, write_uuid, counter))


def _has_key(rows: pa.Table, key_rows: pa.Table) -> pa.ChunkedArray:
    """Whether each row of `rows` has a key that is in `key_rows` (a row with a null key has none)."""
    keys = key_rows.column_names
    numbered = rows.select(keys).append_column(_ROW, pa.array(range(rows.num_rows), pa.int64()))
    matched = numbered.join(key_rows.cast(numbered.select(keys).schema), keys, join_type="left semi")
    return pc.is_in(numbered.column(_ROW), value_set=matched.column(_ROW).combine_chunks())


def _key_range(key_rows: pa.Table) -> t.Any:  # pyiceberg BooleanExpression
    """Rows whose integer and string key columns lie within the range of `key_rows`' values: pyiceberg
    skips the data files whose column statistics exclude the range. Other key types are not bounded."""
    from pyiceberg.expressions import AlwaysTrue, And, GreaterThanOrEqual, LessThanOrEqual

    bounds: list[t.Any] = []
    for name, column in zip(key_rows.column_names, key_rows.columns, strict=True):
        if not _has_range(column.type):
            continue
        low, high = pc.min_max(column).values()
        if low.is_valid:
            bounds += [GreaterThanOrEqual(term=name, value=low.as_py()), LessThanOrEqual(term=name, value=high.as_py())]
    return And(*bounds) if bounds else AlwaysTrue()


def _has_range(kind: pa.DataType) -> bool:
    """Whether pyiceberg can bound `kind` by two literals taken from Arrow (see `_key_range`)."""
    return pa.types.is_integer(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)
