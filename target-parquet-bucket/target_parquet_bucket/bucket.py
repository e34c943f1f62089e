"""The run's view of the bucket: uploads finished files under their final names and keeps the
`_meta/` objects (sequence markers, the run manifest, ACTIVATE_VERSION markers) up to date.

Everything above this layer (sinks, target) deals in local files and streams; everything below it
(`storage`) deals in keys and bytes.
"""

from __future__ import annotations

import datetime
import tempfile
import threading
import typing as t
import uuid
from pathlib import Path

import msgspec

from target_parquet_bucket.naming import META_PREFIX, FileNamer, SequenceCounter

if t.TYPE_CHECKING:
    from target_parquet_bucket.storage.base import Storage
    from target_parquet_bucket.writers import FileWriter


class ManifestEntry(msgspec.Struct):
    """One uploaded file, as listed in the run manifest."""

    key: str
    stream: str
    sequence: int
    rows: int
    bytes: int
    table_versions: list[int]


class Committer(t.Protocol):
    """Something holding open files that must be uploaded before STATE is emitted."""

    def commit(self) -> None:
        """Close and upload every open file."""


class Bucket:
    """Uploads and `_meta/` bookkeeping for one run of the target."""

    def __init__(self, storage: Storage, namer: FileNamer, *, temp_dir: str | None = None) -> None:
        """`temp_dir` holds files while they are written (default: the system temp dir)."""
        self.storage = storage
        self.namer = namer
        self.sequences = SequenceCounter(storage)
        self.started_at = datetime.datetime.now(tz=datetime.timezone.utc)
        self.run_id = f"{self.started_at:%Y%m%dT%H%M%SZ}_{uuid.uuid4().hex[:8]}"
        self._temp = tempfile.TemporaryDirectory(prefix="target-parquet-bucket-", dir=temp_dir)
        self.temp_path = Path(self._temp.name)
        self.entries: list[ManifestEntry] = []
        self._manifest_dirty = False
        self._lock = threading.Lock()
        self._open: dict[int, Committer] = {}

    def track(self, owner: Committer) -> None:
        """Remember an owner of open files (sinks, including ones retired by a schema change)."""
        with self._lock:
            self._open[id(owner)] = owner

    def untrack(self, owner: Committer) -> None:
        """The owner has no open file any more."""
        with self._lock:
            self._open.pop(id(owner), None)

    def commit_all(self) -> None:
        """Upload every open file of every stream, then update the manifest.

        Called before any STATE line is written: an exception here (a failed upload) propagates,
        so the state that would have covered those records is never emitted.
        """
        with self._lock:
            owners = list(self._open.values())
        for owner in owners:
            owner.commit()
        self.write_manifest()

    def upload(self, stream: str, writer: FileWriter, *, partition: str) -> ManifestEntry:
        """Close `writer`, reserve the stream's next sequence and put the file under its name."""
        path = writer.close()
        size = path.stat().st_size
        sequence = self.sequences.next(stream)
        now = datetime.datetime.now(tz=datetime.timezone.utc)
        key = self.namer.key(stream, sequence, now=now, partition=partition)
        self.storage.put(key, path)
        writer.discard()
        entry = ManifestEntry(
            key=key,
            stream=stream,
            sequence=sequence,
            rows=writer.rows,
            bytes=size,
            table_versions=sorted(v for v in writer.table_versions if v is not None),
        )
        with self._lock:
            self.entries.append(entry)
            self._manifest_dirty = True
        return entry

    def write_manifest(self) -> None:
        """`_meta/manifests/<run_id>.json`: every file this run uploaded, with row counts."""
        with self._lock:
            if not self._manifest_dirty:
                return
            manifest = {
                "run_id": self.run_id,
                "started_at": self.started_at,
                "bucket": self.storage.display_url,
                "files": list(self.entries),
            }
            self._manifest_dirty = False
        key = f"{META_PREFIX}manifests/{self.run_id}.json"
        self.storage.put_bytes(key, msgspec.json.encode(manifest), overwrite=True)

    def write_activated_version(self, stream: str, version: int) -> str:
        """Record that `version` of a full-table stream is now the complete table.

        The marker lists the files holding that version's rows, so a loader can replace the
        table's contents with exactly those files.
        """
        with self._lock:
            files = [e.key for e in self.entries if e.stream == stream and version in e.table_versions]
        marker = {
            "stream": stream,
            "version": version,
            "activated_at": datetime.datetime.now(tz=datetime.timezone.utc),
            "files": files,
        }
        key = f"{META_PREFIX}activate_version/{stream}/{version}.json"
        self.storage.put_bytes(key, msgspec.json.encode(marker), overwrite=True)
        return key

    def close(self) -> None:
        """Remove the local temporary folder."""
        self._temp.cleanup()
