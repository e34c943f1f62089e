"""Reading a bucket the way a downstream loader would, to judge what a run left behind.

A loader sees every object: data files (`*.parquet`) and the target's bookkeeping under `_meta/`.
In a local folder, hidden `.<name>.tmp` files are the local backend's in-flight uploads; a loader
globbing `*.parquet` never picks them up, so they are not part of the view. Every function takes a
`Path` (a local bucket folder) or any other `BucketView`, such as an S3 prefix read directly from moto.
"""

from __future__ import annotations

import hashlib
import io
import json
import typing as t
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

META_PREFIX = "_meta/"


class BucketView(t.Protocol):
    """The objects of a bucket, as a loader lists and reads them."""

    def keys(self) -> list[str]:
        """Every visible object key, relative to the bucket root, sorted."""

    def read(self, key: str) -> bytes:
        """The bytes of one object."""


class LocalFolder:
    """A local folder used as a bucket."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def keys(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in self.root.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(self.root).parts)
        )

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()


class S3Prefix:
    """Objects under `prefix/` in an S3 bucket, read with a client that bypasses any proxy."""

    def __init__(self, client: t.Any, bucket: str, prefix: str) -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix.rstrip("/") + "/"

    def keys(self) -> list[str]:
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            found.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", []))
        return sorted(found)

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()


class AzurePrefix:
    """Blobs under `prefix/` in an Azure container, read with a client that bypasses any proxy."""

    def __init__(self, container: t.Any, prefix: str) -> None:
        self.container, self.prefix = container, prefix.rstrip("/") + "/"

    def keys(self) -> list[str]:
        return sorted(b.name[len(self.prefix) :] for b in self.container.list_blobs(name_starts_with=self.prefix))

    def read(self, key: str) -> bytes:
        return self.container.download_blob(self.prefix + key).readall()


Bucket = Path | BucketView


def view(bucket: Bucket) -> BucketView:
    return LocalFolder(bucket) if isinstance(bucket, Path) else bucket


def data_files(bucket: Bucket) -> list[str]:
    """Keys of the data files (parquet) outside `_meta/`."""
    return [k for k in view(bucket).keys() if k.endswith(".parquet") and not k.startswith(META_PREFIX)]  # noqa: SIM118 (BucketView.keys lists a bucket, not a dict)


def fingerprints(bucket: Bucket) -> dict[str, str]:
    """sha256 of every data file, to detect an object rewritten between two points in time."""
    bucket = view(bucket)
    return {k: hashlib.sha256(bucket.read(k)).hexdigest() for k in data_files(bucket)}


def assert_nothing_overwritten(before: dict[str, str], after: dict[str, str]) -> None:
    """Every data file that existed before still exists, byte for byte."""
    lost = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    assert not lost, f"data files disappeared: {lost[:5]}"
    assert not changed, f"data files were overwritten: {changed[:5]}"


def assert_every_file_readable(bucket: Bucket) -> None:
    """Every data file is a complete parquet file; every `_meta/` object is complete JSON."""
    bucket = view(bucket)
    for key in bucket.keys():  # noqa: SIM118 (BucketView.keys lists a bucket, not a dict)
        if key.startswith(META_PREFIX):
            try:
                json.loads(bucket.read(key))
            except ValueError as exc:
                msg = f"bookkeeping object {key} is not complete JSON: {exc}"
                raise AssertionError(msg) from None
        elif key.endswith(".parquet"):
            try:
                pq.read_table(io.BytesIO(bucket.read(key)))
            except (pa.ArrowException, OSError) as exc:
                msg = f"data file {key} is not a readable parquet file: {exc}"
                raise AssertionError(msg) from None
        else:
            msg = f"unexpected object {key} in the bucket (neither parquet data nor _meta/ bookkeeping)"
            raise AssertionError(msg)


def read_table(bucket: Bucket, keys: t.Iterable[str], columns: list[str] | None = None) -> pa.Table:
    """The rows of `keys` as one table (schemas unified), with the source key in column `_file`."""
    bucket = view(bucket)
    tables = []
    for key in keys:
        table = pq.read_table(io.BytesIO(bucket.read(key)), columns=columns)
        tables.append(table.append_column("_file", pa.array([key] * table.num_rows, pa.string())))
    if not tables:
        return pa.table({"_file": pa.array([], pa.string())})
    return pa.concat_tables(tables, promote_options="permissive")


def column_values(bucket: Bucket, keys: t.Iterable[str], column: str) -> list[t.Any]:
    """All values of one column across `keys`, in file order."""
    bucket = view(bucket)
    values: list[t.Any] = []
    for key in keys:
        values.extend(pq.read_table(io.BytesIO(bucket.read(key)), columns=[column]).column(column).to_pylist())
    return values
