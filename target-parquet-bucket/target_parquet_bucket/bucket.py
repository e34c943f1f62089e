"""The run's view of the bucket: the one owner of the run's output files. Sinks hand it decoded
Arrow batches with their stream's identity; it writes them into local files, rolls them at the size
and row limits, keeps the process within its open-files budget, uploads finished files under their
final names (large ones in parts while they are written, where the storage can) and keeps the `_meta/`
objects (sequence markers, the run manifest, ACTIVATE_VERSION markers) up to date.

Data flows one way: sinks call down into the bucket, the bucket into `storage` (keys and bytes), and
nothing calls back up: `commit_all`, the barrier before every STATE line, needs no list of sinks.
"""

from __future__ import annotations

import atexit
import bisect
import contextlib
import datetime
import logging
import tempfile
import threading
import typing as t
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from target_parquet_bucket.naming import META_PREFIX, FileNamer, SequenceCounter

logger = logging.getLogger("target-parquet-bucket")

_T = t.TypeVar("_T")

if t.TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    import pyarrow as pa

    from target_parquet_bucket.naming import FileSequence
    from target_parquet_bucket.storage.base import PartUpload, Storage
    from target_parquet_bucket.writers import FileLayout, FileWriter

#: Open files per stream when partitioning: beyond this the stream's oldest open partition file is
#: uploaded, so a high-cardinality `partition_by` cannot exhaust memory or file handles.
MAX_OPEN_PARTITIONS = 32

#: Closed files travelling to the bucket at once. A file's transfer waits for nothing but its own name,
#: so the end of the input does not wait for a large file closed just before it to finish travelling.
TRANSFER_THREADS = 4


@dataclass(frozen=True, eq=False)
class FileStream:
    """A stream's identity in the bucket under one SCHEMA: the name its files carry and their Arrow
    schema. Compared by identity: a schema change makes a new one, whose files are separate."""

    name: str
    schema: pa.Schema


#: An open file: its stream and partition folder (`""`, `dt=.../`, `<field>=<value>/`).
_FileKey = tuple[FileStream, str]


@dataclass(eq=False)
class _UploadInParts:
    """A file going up while it is written. The main thread queues its parts (`queued`: bytes
    ready to send so far); the upload thread names it and starts its upload (`started`), and a
    transfer thread sends the parts (`sending`: at most one such task per file at a time)."""

    queued: int = 0
    key: str = ""
    sequence: FileSequence | None = None
    upload: PartUpload | None = field(default=None, repr=False)
    started: Future[None] | None = field(default=None, repr=False)
    sending: Future[None] | None = field(default=None, repr=False)
    finished: bool = False


class ManifestEntry(msgspec.Struct, omit_defaults=True):
    """One uploaded file, as listed in the run manifest (`part`: of a split initial sync only)."""

    key: str
    stream: str
    sequence: int
    rows: int
    bytes: int
    table_versions: list[int]
    part: int | None = None


def _in_sequence(entry: ManifestEntry) -> tuple[str, int, int]:
    return entry.stream, entry.sequence, entry.part or 0


#: File descriptors left for everything but open output files: the interpreter and its libraries,
#: uploads (a multipart upload reads several parts at once) and their connections.
_RESERVED_FILE_DESCRIPTORS = 64
_MIN_OPEN_FILES = 4
_MAX_OPEN_FILES = 1000


def open_file_budget() -> int:
    """How many output files this process keeps open at once: half of what the open-files limit
    (`ulimit -n`) leaves after a reserve, so no number of streams and partitions can exhaust it."""
    try:
        import resource  # Unix only
    except ImportError:  # Windows: no per-process descriptor limit to read
        return 256
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return _MAX_OPEN_FILES
    return max(_MIN_OPEN_FILES, min(_MAX_OPEN_FILES, (soft - _RESERVED_FILE_DESCRIPTORS) // 2))


class _ActivatedMarker(msgspec.Struct):
    """The part of an ACTIVATE_VERSION marker that a later activation of the same version keeps."""

    files: list[str]


class Bucket:
    """Open files, uploads and `_meta/` bookkeeping for one run of the target."""

    def __init__(
        self,
        storage: Storage,
        namer: FileNamer,
        layout: FileLayout,
        *,
        temp_dir: str | None = None,
        max_open_files: int | None = None,
        split_initial: Collection[str] = (),
    ) -> None:
        """`layout` says how files are written and rolled; `temp_dir` holds files while they are
        written (default: the system temp dir); `max_open_files` defaults to `open_file_budget()`;
        `split_initial`: streams whose first run is named with two sequence numbers."""
        self.storage = storage
        self.namer = namer
        self.layout = layout
        self.sequences = SequenceCounter(storage, split_initial=split_initial)
        self.started_at = datetime.datetime.now(tz=datetime.timezone.utc)
        self.run_id = f"{self.started_at:%Y%m%dT%H%M%SZ}_{uuid.uuid4().hex[:8]}"
        self._temp = tempfile.TemporaryDirectory(prefix="target-parquet-bucket-", dir=temp_dir)
        self._temp_path = Path(self._temp.name)
        #: Every file uploaded so far, by stream and sequence.
        self.entries: list[ManifestEntry] = []
        self._manifest_dirty = False
        self._lock = threading.Lock()
        #: Held while files are written, opened or closed: sinks drain in parallel threads, and
        #: making room may close another stream's file.
        self._files_lock = threading.Lock()
        self.max_open_files = max_open_files or open_file_budget()
        #: Every open output file, oldest first.
        self._open_files: dict[_FileKey, FileWriter] = {}
        #: One thread, in the order files are closed: names files (so a stream's sequence numbers follow
        #: the order of its rows), and starts the uploads of files sent in parts while they are written.
        self._uploader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload")
        #: Whole closed files, and the parts of files sent while they are written, each once the upload
        #: thread named it.
        self._transfers = ThreadPoolExecutor(max_workers=TRANSFER_THREADS, thread_name_prefix="transfer")
        self._pending: list[Future[t.Any]] = []
        #: Files (open or queued for upload) whose parts go up while they are written, by writer.
        self._in_parts: dict[FileWriter, _UploadInParts] = {}
        #: Every upload in parts the uploader started, so a failing run can drop the unfinished ones.
        self._started: list[_UploadInParts] = []
        #: The upload failure that stopped the others (None until one fails): the one error a failing run reports.
        self._first_failure: BaseException | None = None
        # Every exit path, errors included, ends here (a no-op after `close`): no temporary file outlives the run.
        atexit.register(self.abort)

    def claim_stream(self, stream: str) -> str:
        """The name `stream`'s files carry, refusing a name another stream's files carry already
        (in this run or, by its sequence marker, in an earlier one)."""
        file_stream = self.namer.file_stream(stream)
        self.sequences.claim(file_stream, stream)
        return file_stream

    def write(
        self,
        stream: FileStream,
        parts: Iterable[tuple[str, pa.RecordBatch]],
        versions: set[int | None],
    ) -> None:
        """Append each part (rows with `stream.schema`) to the open file of its partition folder,
        uploading a file whenever it reaches a limit; a part is split so no file exceeds
        `max_file_rows`. `versions` are the full-table versions the rows belong to."""
        with self._files_lock:
            for partition, rows in parts:
                self._write_rolling((stream, partition), rows, versions)

    def _write_rolling(self, key: _FileKey, rows: pa.RecordBatch, versions: set[int | None]) -> None:
        while rows.num_rows:
            writer = self._open_files.get(key)
            if writer is None:
                writer = self._open(key)
            room = self.layout.rows_left(writer)
            writer.write(rows.slice(0, room))
            writer.table_versions |= versions
            rows = rows.slice(rows.num_rows if room is None else room)
            if self.layout.is_complete(writer):
                self._upload(key)
            else:
                self._send_parts(key, writer)

    def _send_parts(self, key: _FileKey, writer: FileWriter) -> None:
        """Queue the upload of the whole parts the file has on disk beyond those already queued,
        once it has reached the storage's threshold: a large file is then mostly in the bucket
        when it is closed, so the end of the input does not wait for all of it.

        The parts go up on a transfer thread, so files closed meanwhile are named and travel beside
        them. A task already sending this file's parts sends these too (it reads `queued` again
        after each round); a new task is queued only when none is left.
        """
        sizes = self.storage.part_sizes
        if sizes is None:
            return
        on_disk = writer.bytes_on_disk()
        in_parts = self._in_parts.get(writer)
        queued = in_parts.queued if in_parts else 0
        if on_disk < sizes.threshold or on_disk - queued < sizes.part_size:
            return
        self._raise_failed_upload()
        stream = key[0].name
        if in_parts is None:
            in_parts = self._in_parts[writer] = _UploadInParts()
            in_parts.started = self._queue(self._uploader.submit(self._start_in_parts, stream, key[1], in_parts))
        in_parts.queued = on_disk - (on_disk - queued) % sizes.part_size
        if in_parts.sending is None or in_parts.sending.done():
            in_parts.sending = self._queue(self._transfers.submit(self._send, stream, writer.path, in_parts))

    def _open(self, key: _FileKey) -> FileWriter:
        """Open a new file, first uploading the stream's oldest open partition file beyond
        `MAX_OPEN_PARTITIONS`, then the oldest open files (of any stream) until one more fits
        within `max_open_files`."""
        of_stream = [k for k in self._open_files if k[0] is key[0]]
        if len(of_stream) >= MAX_OPEN_PARTITIONS:
            self._upload(of_stream[0])
        while len(self._open_files) >= self.max_open_files:
            self._upload(next(iter(self._open_files)))
        writer = self._open_files[key] = self.layout.open(key[0].schema, self._temp_path)
        return writer

    def close_stream(self, stream: FileStream) -> None:
        """Close and upload every open file of `stream`, oldest first (end of input, a schema
        change, ACTIVATE_VERSION)."""
        with self._files_lock:
            for key in [k for k in self._open_files if k[0] is stream]:
                self._upload(key)

    def commit_all(self) -> None:
        """Close every open file of every stream (oldest first), wait until all uploads are done,
        then update the manifest.

        Called before any STATE line is written: an exception here (a failed upload) propagates,
        so the state that would have covered those records is never emitted.
        """
        with self._files_lock:
            while self._open_files:
                self._upload(next(iter(self._open_files)))
        self._wait_for_uploads()
        self.write_manifest()

    def activate_version(self, stream: FileStream, version: int) -> str:
        """Upload `stream`'s open files, then record `version` as its complete table (see
        `_write_activated_version`); returns the marker's key."""
        self.close_stream(stream)
        self._wait_for_uploads()
        return self._write_activated_version(stream.name, version)

    def _upload(self, key: _FileKey) -> None:
        """Close the file and queue its upload under the stream's next sequence.

        The upload thread names files in the order they were closed; their transfers then run on
        several threads, so parsing goes on while files travel to the bucket, and a small file is
        not held up by a large one. `_wait_for_uploads` is the barrier before STATE.
        """
        writer = self._open_files.pop(key)
        self._raise_failed_upload()
        path = writer.close()
        in_parts = self._in_parts.pop(writer, None)
        stream = key[0].name
        naming = self._queue(self._uploader.submit(self._name_file, stream, key[1], in_parts))
        self._queue(self._transfers.submit(self._put, stream, writer, path, naming, in_parts))

    def _queue(self, future: Future[_T]) -> Future[_T]:
        with self._lock:
            self._pending.append(future)
        return future

    def _wait_for_uploads(self) -> None:
        """Block until every queued upload finished; re-raise the first failure."""
        with self._lock:
            pending, self._pending = self._pending, []
        for future in pending:
            self._raise_if_failed(future)

    def _raise_failed_upload(self) -> None:
        """Fail fast: stop reading input as soon as an earlier upload has failed."""
        with self._lock:
            done = [f for f in self._pending if f.done()]
            self._pending = [f for f in self._pending if not f.done()]
        for future in done:
            self._raise_if_failed(future)

    def _raise_if_failed(self, future: Future[t.Any]) -> None:
        """Wait for `future`; if it failed, raise the failure that stopped the uploads. A file skipped
        because of it, on another thread, may have finished failing first."""
        error = future.exception()
        if error is not None:
            raise self._first_failure or error

    def _fail(self, error: BaseException) -> None:
        """Record the first upload failure: from now on, files not yet travelling are skipped."""
        with self._lock:
            if self._first_failure is None:
                self._first_failure = error

    def _start_in_parts(self, stream: str, partition: str, in_parts: _UploadInParts) -> None:
        """Upload thread: name a file about to go up in parts and start its upload (its sequence is
        reserved now, in the order files are named, so it is never reused even if the upload fails)."""
        self._check_no_upload_failed(stream)
        try:
            in_parts.sequence, in_parts.key = self._name(stream, partition)
            in_parts.upload = self.storage.start_upload(in_parts.key)
        except BaseException as error:
            self._fail(error)
            raise
        self._started.append(in_parts)

    def _send(self, stream: str, path: Path, in_parts: _UploadInParts) -> None:
        """Transfer thread: once the file's upload started, send its queued parts, including those
        queued while earlier ones were going up."""
        t.cast("Future[None]", in_parts.started).result()
        upload = t.cast("PartUpload", in_parts.upload)
        sent = None
        while sent != in_parts.queued:
            self._check_no_upload_failed(stream)
            sent = in_parts.queued
            try:
                upload.send(path, sent)
            except BaseException as error:
                self._fail(error)
                raise

    def _name_file(self, stream: str, partition: str, in_parts: _UploadInParts | None) -> tuple[FileSequence, str]:
        """Upload thread: the closed file's sequence and key, reserved now unless it went up in parts
        (then it was named with its first part, which ran before this)."""
        self._check_no_upload_failed(stream)
        if in_parts is not None and in_parts.upload is not None and in_parts.sequence is not None:
            return in_parts.sequence, in_parts.key
        try:
            return self._name(stream, partition)
        except BaseException as error:
            self._fail(error)
            raise

    def _put(
        self,
        stream: str,
        writer: FileWriter,
        path: Path,
        naming: Future[tuple[FileSequence, str]],
        in_parts: _UploadInParts | None,
    ) -> ManifestEntry:
        """Transfer thread: once the file is named, put it; or, for a file that went up in parts, send
        the rest and complete its upload.

        After one failure the files not yet travelling are not uploaded: the run is ending with that
        error, and a later upload finishing in the background would only hide it.
        """
        sequence, key = naming.result()
        if in_parts is not None and in_parts.sending is not None:
            in_parts.sending.result()  # queued before this task: running or done, never waiting for a thread
        self._check_no_upload_failed(stream)
        try:
            size = path.stat().st_size
            if in_parts is not None and in_parts.upload is not None:
                in_parts.upload.finish(path)
                in_parts.finished = True
            else:
                self.storage.put(key, path)
        except BaseException as error:
            self._fail(error)
            raise
        writer.discard()
        entry = ManifestEntry(
            key=key,
            stream=stream,
            sequence=sequence.number,
            part=sequence.part,
            rows=writer.rows,
            bytes=size,
            table_versions=sorted(v for v in writer.table_versions if v is not None),
        )
        with self._lock:
            # Transfers end in any order; the manifest lists each stream's files by sequence.
            bisect.insort(self.entries, entry, key=_in_sequence)
            self._manifest_dirty = True
        logger.info("Uploaded %s (%d rows)", key, entry.rows)
        return entry

    def _check_no_upload_failed(self, stream: str) -> None:
        if self._first_failure is not None:
            msg = f"{stream}: file not uploaded because an earlier upload failed"
            raise OSError(msg)

    def _name(self, stream: str, partition: str) -> tuple[FileSequence, str]:
        """Reserve `stream`'s next sequence and render the file's key with it."""
        sequence = self.sequences.next_file(stream)
        now = datetime.datetime.now(tz=datetime.timezone.utc)
        return sequence, self.namer.key(stream, sequence, now=now, partition=partition)

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

    def _write_activated_version(self, stream: str, version: int) -> str:
        """Record that `version` (an integer: it names the marker) of a full-table stream is now the
        complete table.

        The marker lists the files holding that version's rows, so a loader can replace the
        table's contents with exactly those files. A version activated again (in a later run, after
        more of its rows) keeps the files the earlier marker listed: the marker only ever grows.
        """
        key = self.namer.activate_version_key(stream, version)
        with self._lock:
            files = [e.key for e in self.entries if e.stream == stream and version in e.table_versions]
        earlier = [f for f in self._activated_files(key) if f not in files]
        marker = {
            "stream": stream,
            "version": version,
            "activated_at": datetime.datetime.now(tz=datetime.timezone.utc),
            "files": [*earlier, *files],
        }
        self.storage.put_bytes(key, msgspec.json.encode(marker), overwrite=True)
        return key

    def _activated_files(self, key: str) -> list[str]:
        """The files an existing ACTIVATE_VERSION marker lists (none when there is no marker)."""
        raw = self.storage.get_bytes(key)
        if raw is None:
            return []
        try:
            files = msgspec.json.decode(raw, type=_ActivatedMarker).files
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            msg = (
                f"ACTIVATE_VERSION marker '{key}' is not one this target wrote ({exc}); move it away to activate again"
            )
            raise ValueError(msg) from None
        return files

    def close(self) -> None:
        """Finish the upload threads and remove the local temporary folder."""
        self._uploader.shutdown(wait=True)
        self._transfers.shutdown(wait=True)
        self._temp.cleanup()
        atexit.unregister(self.abort)

    def abort(self) -> None:
        """The run failed: release every open file and remove the local temporary folder.

        Uploads already queued have finished by now (the interpreter joins the upload threads before
        exit handlers run), so only files that never became complete are dropped.
        """
        self._uploader.shutdown(wait=True, cancel_futures=True)
        self._transfers.shutdown(wait=True, cancel_futures=True)
        for in_parts in self._started:
            if not in_parts.finished and in_parts.upload is not None:
                in_parts.upload.abort()
        for writer in list(self._open_files.values()):
            writer.abort()
        self._open_files.clear()
        with contextlib.suppress(OSError):
            self._temp.cleanup()
