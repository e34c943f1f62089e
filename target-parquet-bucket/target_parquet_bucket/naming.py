"""Object keys: the file name template, safe stream names and the per-stream sequence.

Customer.io names export files `<stream>_v<version>_<workspace_id>_<sequence>.parquet` and loaders
delete files once ingested, so the sequence cannot be derived from the files present. It is kept
in a small marker object per stream under `_meta/sequences/`, which survives those deletions.

Customer.io splits the initial metrics history into files with two sequence numbers,
`<name>_v4_<workspace_id>_<sequence1>_<sequence2>`; streams listed in `split_initial_sync_streams` are
named that way in their first run (see `SequenceCounter.next_file`).
"""

from __future__ import annotations

import datetime
import logging
import re
import string
import threading
import typing as t

import msgspec
import pyarrow.compute as pc

from target_parquet_bucket.storage.base import META_PREFIX

if t.TYPE_CHECKING:
    import pyarrow as pa

    from target_parquet_bucket.storage.base import Storage

__all__ = [
    "DEFAULT_TEMPLATE",
    "META_PREFIX",
    "FileNamer",
    "FileSequence",
    "NamingError",
    "SequenceCounter",
    "safe_segment",
]

logger = logging.getLogger("target-parquet-bucket")

DEFAULT_TEMPLATE = "{stream}_v{version}_{workspace_id}_{sequence}.{format}"
TOKENS = frozenset({"stream", "version", "workspace_id", "sequence", "date", "timestamp", "format"})

_SAFE_CHARS = frozenset(string.ascii_letters + string.digits + "._-")
#: The characters of a rendered `{sequence}`: digits, and `_` between the two numbers of a split one.
_SEQUENCE_CHARS = frozenset(string.digits + "_")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Rendered lengths of the tokens whose length never varies (`%Y-%m-%d`, `%Y%m%dT%H%M%SZ`).
_FIXED_LENGTH = {"date": 10, "timestamp": 16}
#: `workspace_id` setting values meaning "not set" (its default is `0`).
_UNSET_WORKSPACE_IDS = frozenset({"", "0"})
#: The record field naming a stream's `{workspace_id}` when the setting is not set (Customer.io's export
#: tables carry it in every row).
WORKSPACE_FIELD = "workspace_id"


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


def validate_template(template: str, constants: t.Mapping[str, str], *, split: bool = False) -> None:
    """Fail at start-up, not at the first upload, on unknown tokens or a template that could
    produce the same key twice: `{sequence}` keeps one stream's files apart, `{stream}` (placed so
    it can be read back, see `_stream_is_recoverable`) keeps two streams apart.

    `constants` are this run's values of `{version}`, `{workspace_id}` and `{format}`; `split`: some
    `{sequence}` may render as `<sequence1>_<sequence2>`.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        msg = f"file_name_template '{template}' is not a valid template ({error})"
        raise NamingError(msg) from None
    fields = {field for _, field, _, _ in parsed if field is not None}
    unknown = fields - TOKENS
    if unknown or any(spec or conversion for _, field, spec, conversion in parsed if field is not None):
        msg = f"file_name_template: unknown token(s) {sorted(unknown) or template!r}; allowed: {sorted(TOKENS)}"
        raise NamingError(msg)
    if "sequence" not in fields:
        msg = "file_name_template must contain {sequence}, which keeps every file name unique"
        raise NamingError(msg)
    if "stream" not in fields:
        msg = "file_name_template must contain {stream}, which keeps the files of two streams apart"
        raise NamingError(msg)
    if template.startswith("/") or any(part in {"", ".", ".."} for part in template.split("/")):
        msg = f"file_name_template '{template}' must be a relative path without empty, '.' or '..' parts"
        raise NamingError(msg)
    if split and not _stream_is_recoverable(_items(parsed, constants), split=True):
        msg = (
            f"file_name_template '{template}' cannot keep two streams apart when {{sequence}} renders as "
            "<sequence1>_<sequence2> (split_initial_sync_streams; e.g. stream 'a' with 1_2 and stream 'a_1' with 2): "
            "between {sequence} and {stream} put a literal character other than digits and '_', such as the 'v' "
            "of the default template"
        )
        raise NamingError(msg)
    if not _stream_is_recoverable(_items(parsed, constants)):
        msg = (
            f"file_name_template '{template}' cannot keep two streams apart (e.g. stream 'a' with sequence 12 and "
            "stream 'a1' with sequence 2); put a character other than letters, digits, '.', '_' and '-' (such as "
            "'/') right after {stream}, or a literal non-digit character between {sequence} and any other token"
        )
        raise NamingError(msg)


#: One piece of a parsed template: a literal character, a fixed-length token, `sequence` (a run of
#: digits) or `stream` (a run of safe characters).
_Item = tuple[str, str]


def _items(parsed: list[tuple[str, str | None, str | None, str | None]], constants: t.Mapping[str, str]) -> list[_Item]:
    items: list[_Item] = []
    for literal, field, _, _ in parsed:
        items += [("char", c) for c in literal]
        if field is not None and field in constants:
            items += [("char", c) for c in constants[field]]
        elif field is not None:
            items.append(("token", field))
    return items


def _parses(items: list[_Item], *, split: bool = False) -> bool:
    """Whether a run of items has one reading when read from its outer end inwards (`items` ordered
    from that end): each `{sequence}` (greedy digits) must be closed by a literal non-digit, and no
    `{stream}` may occur (its end could not be found).

    With `split`, a `{sequence}` may be `<digits>_<digits>`, so it must be followed by literal
    characters only, up to one that is neither a digit nor `_`: the literal digits and `_` in between
    have a fixed length, so where the sequence ends is still known.
    """
    for position, (kind, value) in enumerate(items):
        if kind == "token" and value == "stream":
            return False
        if kind == "token" and value == "sequence" and not _closed(items[position + 1 :], split=split):
            return False
    return True


def _closed(following: list[_Item], *, split: bool) -> bool:
    """Whether the items after a `{sequence}` (in reading order) mark where it ends: a literal non-digit
    right after it or, with `split`, literal digits and `_` up to a literal that is neither."""
    sequence_chars = _SEQUENCE_CHARS if split else frozenset(string.digits)
    for kind, value in following:
        if kind != "char":
            return False
        if value not in sequence_chars:
            return True
        if not split:
            return False
    return False


def _stream_is_recoverable(items: list[_Item], *, split: bool = False) -> bool:
    """Whether every key names its stream unambiguously, so two streams can never share a key.

    For some `{stream}`, what precedes it reads unambiguously from the key's start and what follows
    reads unambiguously from the key's end (or one side reads through to `{stream}`, and `{stream}`
    ends, on the other side, at a character a sanitised stream name cannot contain).
    """
    for position, (kind, value) in enumerate(items):
        if (kind, value) != ("token", "stream"):
            continue
        before, after = items[:position], items[position + 1 :]
        left, right = _parses(before, split=split), _parses(after[::-1], split=split)
        closed_right = not after or (after[0][0] == "char" and after[0][1] not in _SAFE_CHARS)
        closed_left = not before or (before[-1][0] == "char" and before[-1][1] not in _SAFE_CHARS)
        if (left and right) or (left and closed_right) or (right and closed_left):
            return True
    return False


class FileNamer:
    """Renders object keys for one run."""

    def __init__(
        self,
        template: str,
        *,
        workspace_id: str,
        version: str,
        extension: str,
        split: bool = False,
    ) -> None:
        """Validate once; `extension` is the `{format}` value (e.g. `parquet`, `csv.gz`); `split`: some
        streams' first run is named with two sequence numbers (`split_initial_sync_streams`)."""
        self.workspace_id = safe_segment(workspace_id, what="workspace_id") if workspace_id else ""
        self.version = safe_segment(version, what="version")
        self.extension = extension
        constants = {"version": self.version, "workspace_id": self.workspace_id, "format": extension}
        validate_template(template, constants, split=split)
        self.template = template
        self._streams: dict[str, str] = {}
        self._row_workspace_ids: dict[str, str] = {}
        self._check_outside_meta(f"file_name_template '{template}'", "stream")

    def file_stream(self, stream: str) -> str:
        """The safe name a stream's files carry, refusing two streams that would share one.

        `a/b` and `a_b` both become `a_b`; writing both under that name would interleave two tables
        in one sequence, so the second stream is a clear error instead.
        """
        safe = safe_segment(stream, what="stream name")
        seen = safe in self._streams
        owner = self._streams.setdefault(safe, stream)
        if owner != stream:
            msg = (
                f"streams '{owner}' and '{stream}' would both be written as '{safe}'; "
                "rename one of them (e.g. with a stream map alias)"
            )
            raise NamingError(msg)
        if safe != stream and not seen:
            logger.warning(
                "stream '%s' is written under the name '%s' (object names keep only letters, digits, '.', '_' "
                "and '-', and no leading '.')",
                stream,
                safe,
            )
        self._check_outside_meta(f"stream '{stream}'", safe)
        return safe

    def take_workspace_id(self, stream: str, batch: pa.RecordBatch) -> None:
        """Without the `workspace_id` setting, a stream whose records carry `workspace_id` names its files
        with that value, so the names say what the rows say.

        This is how an id the tap found itself (the only workspace its key sees) reaches the file names:
        in the records, as the Singer stream carries any value. Rows of two workspaces in one stream leave
        no single name, so they stop the run.
        """
        if self.workspace_id not in _UNSET_WORKSPACE_IDS or WORKSPACE_FIELD not in batch.schema.names:
            return
        values = pc.unique(batch.column(WORKSPACE_FIELD).drop_null()).cast("string").to_pylist()
        for value in values:
            safe = safe_segment(value, what="workspace_id")
            taken = self._row_workspace_ids.setdefault(stream, safe)
            if taken != safe:
                msg = (
                    f"stream '{stream}': records carry workspace_id {taken} and {value}, so no one id can name "
                    "its files; set the workspace_id setting"
                )
                raise NamingError(msg)

    def _check_outside_meta(self, who: str, file_stream: str) -> None:
        """Refuse keys under `_meta/`: loaders skip that folder, so data there would never be loaded."""
        probe = self.key(file_stream, FileSequence(1), now=datetime.datetime.now(tz=datetime.timezone.utc))
        if probe.startswith(META_PREFIX):
            msg = (
                f"{who}: files would be written under {META_PREFIX} (e.g. '{probe}'), the target's own folder "
                "that loaders skip; rename the stream (e.g. with a stream map alias) or change file_name_template"
            )
            raise NamingError(msg)

    @staticmethod
    def activate_version_key(file_stream: str, version: int) -> str:
        """`_meta/activate_version/<stream>/<version>.json`; only an integer version names a marker, so
        no ACTIVATE_VERSION message can point a key anywhere else."""
        if not isinstance(version, int) or isinstance(version, bool):
            msg = f"ACTIVATE_VERSION version must be an integer, got {version!r}"
            raise NamingError(msg)
        return f"{META_PREFIX}activate_version/{safe_segment(file_stream, what='stream name')}/{version}.json"

    def key(
        self,
        stream: str,
        sequence: FileSequence | int,
        *,
        now: datetime.datetime,
        partition: str = "",
    ) -> str:
        """The key of one data file: the rendered template with the partition folders just above the file
        name, so with a per-stream-folder template (`{stream}/…`) they stay inside the stream's folder."""
        name = self.template.format(
            stream=stream,
            version=self.version,
            workspace_id=self._row_workspace_ids.get(stream, self.workspace_id),
            sequence=str(sequence) if isinstance(sequence, int) else sequence.rendered,
            date=now.strftime("%Y-%m-%d"),
            timestamp=now.strftime("%Y%m%dT%H%M%SZ"),
            format=self.extension,
        )
        folder, _, file_name = name.rpartition("/")
        return f"{folder}/{partition}{file_name}" if folder else f"{partition}{name}"


class FileSequence(t.NamedTuple):
    """What `{sequence}` renders for one file: the stream's sequence number and, for a file of a split
    initial sync, its part within that sequence (`<sequence1>_<sequence2>`)."""

    number: int
    part: int | None = None

    @property
    def rendered(self) -> str:
        """`17`, or `17_2` for the second part of a split sequence 17."""
        return str(self.number) if self.part is None else f"{self.number}_{self.part}"


class _Marker(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """`_meta/sequences/<stream>.json`: the stream's last used sequence number."""

    stream: str
    last: t.Annotated[int, msgspec.Meta(ge=1)]
    #: The stream's own name, kept only when sanitizing changed it (`a/b` for `a_b`).
    source: str = ""


class SequenceCounter:
    """Monotonic per-stream sequence numbers kept in `_meta/sequences/<stream>.json`.

    The marker is advanced before the file using the number is uploaded, so a number is never
    handed out twice, even if that upload then fails (a gap is harmless; a reuse would collide).
    Markers are read as untrusted input: anything but a positive `last` for the right stream stops
    the run with an error naming the marker, and within a run the numbers only ever grow, whatever
    the marker says.
    """

    def __init__(self, storage: Storage, *, split_initial: t.Collection[str] = ()) -> None:
        """Sinks drain in parallel threads, hence the lock around read-increment-write.

        `split_initial`: the (Singer) stream names whose first run is split (`next_file`).
        """
        self.storage = storage
        self.split_initial = frozenset(split_initial)
        self._lock = threading.Lock()
        self._sources: dict[str, str] = {}
        self._issued: dict[str, int] = {}
        #: Split streams in their first run: the sequence reserved for the run and the last part used.
        self._split: dict[str, FileSequence] = {}

    @staticmethod
    def marker_key(stream: str) -> str:
        """Where the stream's last used sequence is kept."""
        return f"{META_PREFIX}sequences/{stream}.json"

    def _read(self, stream: str) -> _Marker | None:
        """The stream's marker, validated, or None when there is none yet."""
        key = self.marker_key(stream)
        raw = self.storage.get_bytes(key)
        if raw is None:
            return None
        try:
            marker = msgspec.json.decode(raw, type=_Marker)
        except msgspec.DecodeError as error:
            msg = (
                f"sequence marker {key} in {self.storage.display_url} is not valid ({error}); expected "
                f'{{"stream": "{stream}", "last": <positive integer>}}: restore it, or set "last" to the highest '
                "sequence used so far"
            )
            raise NamingError(msg) from None
        if marker.stream != stream:
            msg = (
                f"sequence marker {key} in {self.storage.display_url} "
                f"belongs to stream '{marker.stream}', not '{stream}'"
            )
            raise NamingError(msg)
        return marker

    def claim(self, file_stream: str, stream: str) -> None:
        """Refuse `stream` if earlier runs wrote another stream under the same file name.

        `FileNamer.file_stream` catches `a/b` and `a_b` within one run; across runs only the marker
        knows which stream a sequence belongs to, so it keeps the original name when it differs.
        """
        marker = self._read(file_stream)
        if marker is not None:
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
            return self._reserve(stream, self._read(stream))

    def _reserve(self, stream: str, marker: _Marker | None) -> int:
        """Advance the marker past the last number used, then hand that number out (lock held)."""
        sequence = max(marker.last if marker else 0, self._issued.get(stream, 0)) + 1
        source = self._sources.get(stream, stream)
        updated = _Marker(stream=stream, last=sequence, source="" if source == stream else source)
        self.storage.put_bytes(self.marker_key(stream), msgspec.json.encode(updated), overwrite=True)
        self._issued[stream] = sequence
        return sequence

    def next_file(self, stream: str) -> FileSequence:
        """The sequence of `stream`'s next file: `next`'s number, or for a stream in `split_initial`
        that has no marker yet (its first run) one number reserved for the whole run and parts 1, 2, …

        The split run advances the marker once, before its first file, exactly as `next` does; so a
        later run (or a rerun after a crash at any point after that first upload began) finds the
        marker and names its files with single numbers above the split one: no key is ever reused.
        A run that stops before the marker is written has uploaded nothing, so its rerun is again
        the first run.
        """
        with self._lock:
            split = self._split.get(stream)
            if split is not None:
                self._split[stream] = split = FileSequence(split.number, (split.part or 0) + 1)
                return split
            marker = self._read(stream)
            initial = marker is None and stream not in self._issued
            if not initial or self._sources.get(stream, stream) not in self.split_initial:
                return FileSequence(self._reserve(stream, marker))
            self._split[stream] = split = FileSequence(self._reserve(stream, marker), 1)
            return split
