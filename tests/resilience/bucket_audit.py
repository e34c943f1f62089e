"""Reading a local bucket folder the way a downstream loader would, to judge what a run left behind.

A loader sees every non-hidden file: data files (`*.parquet`) and the target's bookkeeping under
`_meta/`. Hidden `.<name>.tmp` files are the local backend's in-flight uploads; a loader globbing
`*.parquet` never picks them up, so they are listed separately rather than read.
"""

from __future__ import annotations

import hashlib
import json
import typing as t
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

META_PREFIX = "_meta/"


def visible_files(root: Path) -> list[str]:
    """Keys of the files a loader sees (relative, `/`-separated), sorted."""
    if not root.exists():
        return []
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def data_files(root: Path) -> list[str]:
    """Keys of the data files (parquet) outside `_meta/`."""
    return [k for k in visible_files(root) if k.endswith(".parquet") and not k.startswith(META_PREFIX)]


def fingerprints(root: Path) -> dict[str, str]:
    """sha256 of every data file, to detect an object rewritten between two points in time."""
    return {k: hashlib.sha256((root / k).read_bytes()).hexdigest() for k in data_files(root)}


def assert_nothing_overwritten(before: dict[str, str], after: dict[str, str]) -> None:
    """Every data file that existed before still exists, byte for byte."""
    lost = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    assert not lost, f"data files disappeared: {lost[:5]}"
    assert not changed, f"data files were overwritten: {changed[:5]}"


def assert_every_file_readable(root: Path) -> None:
    """Every data file is a complete parquet file; every `_meta/` object is complete JSON."""
    for key in visible_files(root):
        path = root / key
        if key.startswith(META_PREFIX):
            try:
                json.loads(path.read_bytes())
            except ValueError as exc:
                msg = f"bookkeeping object {key} is not complete JSON: {exc}"
                raise AssertionError(msg) from None
        elif key.endswith(".parquet"):
            try:
                pq.read_table(path)
            except (pa.ArrowException, OSError) as exc:
                msg = f"data file {key} is not a readable parquet file: {exc}"
                raise AssertionError(msg) from None
        else:
            msg = f"unexpected object {key} in the bucket (neither parquet data nor _meta/ bookkeeping)"
            raise AssertionError(msg)


def read_table(root: Path, keys: t.Iterable[str], columns: list[str] | None = None) -> pa.Table:
    """The rows of `keys` as one table (schemas unified), with the source key in column `_file`."""
    tables = []
    for key in keys:
        table = pq.read_table(root / key, columns=columns)
        tables.append(table.append_column("_file", pa.array([key] * table.num_rows, pa.string())))
    if not tables:
        return pa.table({"_file": pa.array([], pa.string())})
    return pa.concat_tables(tables, promote_options="permissive")


def column_values(root: Path, keys: t.Iterable[str], column: str) -> list[t.Any]:
    """All values of one column across `keys`, in file order."""
    values: list[t.Any] = []
    for key in keys:
        values.extend(pq.read_table(root / key, columns=[column]).column(column).to_pylist())
    return values
