"""The one interface every bucket backend implements.

The rest of the target only ever talks to a `Storage`: it writes complete files to a local
temporary path first and then `put`s them, so an object becomes visible only when it is whole.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from singer_sdk import typing as th


#: The target's own bookkeeping (sequence markers, manifests, ACTIVATE_VERSION markers): the only
#: objects ever rewritten in place, and a folder loaders are told to skip.
META_PREFIX = "_meta/"


class ObjectExistsError(Exception):
    """Raised by `put` when the key is already taken: objects are never overwritten."""


def check_key(key: str) -> None:
    """Refuse keys with empty, `.` or `..` segments (and so absolute keys).

    Object stores would accept them literally and a folder would resolve them; refusing them keeps
    the same key meaning the same object on every backend, inside the bucket prefix.
    """
    if not key or any(segment in {"", ".", ".."} for segment in key.split("/")):
        msg = f"invalid object key {key!r}: empty, '.' and '..' path segments are not allowed"
        raise ValueError(msg)


@dataclasses.dataclass(frozen=True)
class PartSizes:
    """When a file still being written starts going up in parts, and how large each part is."""

    #: A file starts uploading once this many of its bytes are on disk.
    threshold: int
    part_size: int


class PartUpload(abc.ABC):
    """An object uploaded part by part while its local file is still being written.

    The object stays invisible until `finish`, which makes it appear whole, and only if its key is
    still absent. Any failure drops the parts already sent before it is raised, where the store can
    drop them (see each backend's `abort`). Which bytes go in which part is decided here, once; a
    backend sends one part (`_send_part`) and assembles the object (`_complete`).
    """

    def __init__(self, part_size: int) -> None:
        """Parts of `part_size` bytes, but the last one."""
        self._part_size = part_size
        self._sent = 0
        self._parts_sent = 0

    def send(self, source: Path, end: int) -> None:
        """Upload every whole part of `source`'s first `end` bytes not sent yet (the bytes before
        `end` are final: files are only ever appended to)."""
        with self._aborting_on_error():
            while end - self._sent >= self._part_size:
                self._send_next(source, self._part_size)

    def finish(self, source: Path) -> None:
        """Upload the rest of the now complete `source` (the last part may be smaller) and create the object.

        Raises:
            ObjectExistsError: if another object took the key meanwhile.
        """
        with self._aborting_on_error():
            rest = source.stat().st_size - self._sent
            if rest or not self._parts_sent:
                self._send_next(source, rest)
            self._complete(source)

    @abc.abstractmethod
    def abort(self) -> None:
        """The run is failing: drop the parts sent so far (best effort, never raises)."""

    @abc.abstractmethod
    def _send_part(self, number: int, body: bytes) -> None:
        """Upload part `number` (from 1) of the object."""

    @abc.abstractmethod
    def _complete(self, source: Path) -> None:
        """Make the parts sent the object, only if its key is absent (`source`: the whole file)."""

    def _send_next(self, source: Path, length: int) -> None:
        with source.open("rb") as stream:
            stream.seek(self._sent)
            body = stream.read(length)
        self._send_part(self._parts_sent + 1, body)
        self._parts_sent += 1
        self._sent += length

    @contextlib.contextmanager
    def _aborting_on_error(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self.abort()
            raise


class Storage(abc.ABC):
    """A bucket (or folder) holding objects under string keys joined with `/`."""

    #: Where this storage points, safe to print: never carries a secret (no SAS token, no key).
    display_url: str
    #: The backend's own settings (in the target's config schema), with their defaults.
    settings: t.ClassVar[tuple[th.Property, ...]] = ()
    #: Set by backends that upload a large file while it is written (`start_upload`); the others
    #: upload each file once it is closed (`put`).
    part_sizes: PartSizes | None = None

    @classmethod
    def setting(cls, config: Mapping[str, t.Any], name: str) -> t.Any:
        """`config[name]`, or the default its entry in `settings` declares when unset, null or empty:
        backends are also built from partial configs that singer-sdk has not filled with defaults."""
        value = config.get(name)
        if value is None or value == "":
            return next(prop.default for prop in cls.settings if prop.name == name)
        return value

    def redact(self, text: str) -> str:
        """`text` without any credential of this storage (a folder has none)."""
        return text

    @abc.abstractmethod
    def put(self, key: str, source: Path) -> None:
        """Upload the local file `source` to `key`, atomically and only if `key` is absent.

        Raises:
            ObjectExistsError: if an object already exists at `key`.
        """

    def start_upload(self, key: str) -> PartUpload:
        """Begin uploading to `key` a file that is still being written (backends with `part_sizes`).

        Raises:
            ObjectExistsError: if an object already exists at `key`.
        """
        msg = f"{type(self).__name__} uploads files only once they are closed"
        raise NotImplementedError(msg)

    def put_bytes(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        """Write a small object (markers, manifests). Without `overwrite`, behaves like `put`.

        Only `_meta/` objects may be overwritten: checked here, once for every backend, so no data
        file can be replaced whatever key a caller computes.

        Raises:
            ObjectExistsError: without `overwrite`, if an object already exists at `key`.
            ValueError: for `overwrite` outside `_meta/` (and, from the backend, for an invalid key).
        """
        if overwrite and not key.startswith(META_PREFIX):
            msg = f"object key {key!r}: only objects under {META_PREFIX} may be overwritten"
            raise ValueError(msg)
        self._put_bytes(key, data, overwrite=overwrite)

    @abc.abstractmethod
    def _put_bytes(self, key: str, data: bytes, *, overwrite: bool) -> None:
        """The backend's write of a small object (`key` already checked)."""

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes | None:
        """Read a small object, or None when it does not exist."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object exists at `key`."""
