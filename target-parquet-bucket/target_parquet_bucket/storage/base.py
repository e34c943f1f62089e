"""The one interface every bucket backend implements.

The rest of the target only ever talks to a `Storage`: it writes complete files to a local
temporary path first and then `put`s them, so an object becomes visible only when it is whole.
"""

from __future__ import annotations

import abc
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


class ObjectExistsError(Exception):
    """Raised by `put` when the key is already taken: objects are never overwritten."""


class Storage(abc.ABC):
    """A bucket (or folder) holding objects under string keys joined with `/`."""

    #: Where this storage points, safe to print: never carries a secret (no SAS token, no key).
    display_url: str

    def redact(self, text: str) -> str:
        """`text` without any credential of this storage (a folder has none)."""
        return text

    @abc.abstractmethod
    def put(self, key: str, source: Path) -> None:
        """Upload the local file `source` to `key`, atomically and only if `key` is absent.

        Raises:
            ObjectExistsError: if an object already exists at `key`.
        """

    @abc.abstractmethod
    def put_bytes(self, key: str, data: bytes, *, overwrite: bool = False) -> None:
        """Write a small object (markers, manifests). Without `overwrite`, behaves like `put`."""

    @abc.abstractmethod
    def get_bytes(self, key: str) -> bytes | None:
        """Read a small object, or None when it does not exist."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object exists at `key`."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys of every object whose key starts with `prefix` (relative to the storage root)."""
