"""Object keys: the file name template, safe stream names and the per-stream sequence.

Customer.io names export files `<stream>_v<version>_<workspace_id>_<sequence>.parquet` and loaders
delete files once ingested, so the sequence cannot be derived from the files present. It is kept
in a small marker object per stream under `_meta/sequences/`, which survives those deletions.
"""

from __future__ import annotations

import datetime
import re
import string
import threading
import typing as t

import msgspec

if t.TYPE_CHECKING:
    from target_parquet_bucket.storage.base import Storage

DEFAULT_TEMPLATE = "{stream}_v{version}_{workspace_id}_{sequence}.{format}"
META_PREFIX = "_meta/"
TOKENS = frozenset({"stream", "version", "workspace_id", "sequence", "date", "timestamp", "format"})

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class NamingError(ValueError):
    """A template, stream name or key that cannot be used safely."""


def safe_segment(name: str, *, what: str) -> str:
    """A name usable as (part of) one path segment in every backend.

    Anything outside letters, digits, `.`, `_`, `-` becomes `_`, and leading dots are dropped, so
    a stream called `../x` or `a/b` can never leave the bucket prefix or create folders.
    """
    safe = _UNSAFE.sub("_", name).lstrip(".")
    if not safe.strip("_"):
        msg = f"{what} '{name}' has no characters usable in an object name"
        raise NamingError(msg)
    return safe


def validate_template(template: str) -> None:
    """Fail at start-up, not at the first upload, on unknown tokens or a template that could
    produce the same key twice (`{sequence}` is what makes every key unique)."""
    fields = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    unknown = fields - TOKENS
    if unknown:
        msg = f"file_name_template: unknown token(s) {sorted(unknown)}; allowed: {sorted(TOKENS)}"
        raise NamingError(msg)
    if "sequence" not in fields:
        msg = "file_name_template must contain {sequence}, which keeps every file name unique"
        raise NamingError(msg)
    if template.startswith("/") or any(
        part in {"", ".", ".."} for part in template.split("/")
    ):
        msg = f"file_name_template '{template}' must be a relative path without empty, '.' or '..' parts"
        raise NamingError(msg)


class FileNamer:
    """Renders object keys for one run."""

    def __init__(
        self,
        template: str,
        *,
        workspace_id: str,
        version: str,
        extension: str,
    ) -> None:
        """Validate once; `extension` is the `{format}` value (e.g. `parquet`, `csv.gz`)."""
        validate_template(template)
        self.template = template
        self.workspace_id = safe_segment(workspace_id, what="workspace_id") if workspace_id else ""
        self.version = safe_segment(version, what="version")
        self.extension = extension
        self._streams: dict[str, str] = {}

    def file_stream(self, stream: str) -> str:
        """The safe name a stream's files carry, refusing two streams that would share one.

        `a/b` and `a_b` both become `a_b`; writing both under that name would interleave two tables
        in one sequence, so the second stream is a clear error instead.
        """
        safe = safe_segment(stream, what="stream name")
        owner = self._streams.setdefault(safe, stream)
        if owner != stream:
            msg = (
                f"streams '{owner}' and '{stream}' would both be written as '{safe}'; "
                "rename one of them (e.g. with a stream map alias)"
            )
            raise NamingError(msg)
        return safe

    def key(
        self,
        stream: str,
        sequence: int,
        *,
        now: datetime.datetime,
        partition: str = "",
    ) -> str:
        """The key of one data file: the rendered template with the partition folders just above the file
        name, so with a per-stream-folder template (`{stream}/…`) they stay inside the stream's folder."""
        name = self.template.format(
            stream=stream,
            version=self.version,
            workspace_id=self.workspace_id,
            sequence=sequence,
            date=now.strftime("%Y-%m-%d"),
            timestamp=now.strftime("%Y%m%dT%H%M%SZ"),
            format=self.extension,
        )
        folder, _, file_name = name.rpartition("/")
        return f"{folder}/{partition}{file_name}" if folder else f"{partition}{name}"


class _Marker(msgspec.Struct, omit_defaults=True):
    stream: str = ""
    last: int = 0
    #: The stream's own name, kept only when sanitizing changed it (`a/b` for `a_b`).
    source: str = ""


class SequenceCounter:
    """Monotonic per-stream sequence numbers kept in `_meta/sequences/<stream>.json`.

    The marker is advanced before the file using the number is uploaded, so a number is never
    handed out twice, even if that upload then fails (a gap is harmless; a reuse would collide).
    """

    def __init__(self, storage: Storage) -> None:
        """Sinks drain in parallel threads, hence the lock around read-increment-write."""
        self.storage = storage
        self._lock = threading.Lock()
        self._sources: dict[str, str] = {}

    @staticmethod
    def marker_key(stream: str) -> str:
        """Where the stream's last used sequence is kept."""
        return f"{META_PREFIX}sequences/{stream}.json"

    def claim(self, file_stream: str, stream: str) -> None:
        """Refuse `stream` if earlier runs wrote another stream under the same file name.

        `FileNamer.file_stream` catches `a/b` and `a_b` within one run; across runs only the marker
        knows which stream a sequence belongs to, so it keeps the original name when it differs.
        """
        raw = self.storage.get_bytes(self.marker_key(file_stream))
        if raw:
            marker = msgspec.json.decode(raw, type=_Marker)
            owner = marker.source or marker.stream
            if owner != stream:
                msg = (
                    f"stream '{stream}' would be written as '{file_stream}', which earlier runs used for "
                    f"stream '{owner}'; rename one of them (e.g. with a stream map alias)"
                )
                raise NamingError(msg)
        with self._lock:
            self._sources[file_stream] = stream

    def next(self, stream: str) -> int:
        """Reserve and return the next sequence number of `stream` (the first is 1)."""
        with self._lock:
            key = self.marker_key(stream)
            raw = self.storage.get_bytes(key)
            last = msgspec.json.decode(raw, type=_Marker).last if raw else 0
            sequence = last + 1
            source = self._sources.get(stream, stream)
            marker = _Marker(stream=stream, last=sequence, source="" if source == stream else source)
            self.storage.put_bytes(key, msgspec.json.encode(marker), overwrite=True)
            return sequence
