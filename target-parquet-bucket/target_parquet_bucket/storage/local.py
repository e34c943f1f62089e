"""A local folder used as a bucket: the default backend."""

from __future__ import annotations

import contextlib
import os
import shutil
import typing as t
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from target_parquet_bucket.storage.base import ObjectExistsError, Storage, check_key

#: The longest file or folder name of ext4, XFS, btrfs, APFS and NTFS, in bytes.
NAME_MAX = 255


class LocalStorage(Storage):
    """Objects are files under `root`; keys use `/` whatever the OS."""

    def __init__(self, root: Path) -> None:
        """Keep the absolute root so every key can be checked to stay inside it."""
        self.root = root.expanduser().resolve()
        self.display_url = self.root.as_uri()

    @classmethod
    def from_url(cls, url: str) -> LocalStorage:
        """Accept `file:///abs/path`, `file://./rel` and plain paths."""
        if url.startswith("file://"):
            parts = urlsplit(url)
            return cls(Path(unquote(parts.netloc + parts.path)))
        return cls(Path(url))

    def _path(self, key: str) -> Path:
        """Map a key to a path, refusing any key that would leave the root (`..`, absolute)."""
        path = (self.root / key).resolve()
        if path == self.root or self.root not in path.parents:
            msg = f"object key '{key}' escapes the bucket root {self.display_url}"
            raise ValueError(msg)
        check_key(key)  # `a/../b` stays inside the root here, but is refused like on the object stores
        for name in key.split("/"):
            if len(name.encode()) > NAME_MAX:
                msg = (
                    f"object key '{key}': the name '{name}' is {len(name.encode())} bytes, "
                    f"over the {NAME_MAX} a local file system allows (a shorter stream name or file_name_template)"
                )
                raise ValueError(msg)
        return path

    def _temp_beside(self, path: Path) -> Path:
        """A hidden temporary name in the destination folder, so the final step is a rename or link
        within one filesystem (atomic), never a copy that readers could observe half-done."""
        path.parent.mkdir(parents=True, exist_ok=True)
        # At most 200 bytes of the name (not characters: UTF-8 takes up to 4 per character), so the suffix
        # never makes a name that fits NAME_MAX too long to create.
        stem = path.name.encode()[:200].decode(errors="ignore")
        return path.parent / f".{stem}.{uuid.uuid4().hex}.tmp"

    def _publish(self, write: t.Callable[[Path], object], path: Path, *, overwrite: bool, key: str) -> None:
        """`write` the temporary file, then move it into place.

        The temporary file is removed on every path, errors included: a half-written copy left by a
        full disk would keep the disk full and fail every rerun.
        """
        temp = self._temp_beside(path)
        try:
            write(temp)
            if overwrite:
                os.replace(temp, path)
                return
            try:
                os.link(temp, path)  # fails atomically if `path` exists: never overwrite
            except FileExistsError:
                msg = f"object '{key}' already exists in {self.display_url}; refusing to overwrite it"
                raise ObjectExistsError(msg) from None
        except OSError as error:
            msg = f"object '{key}' in {self.display_url}: cannot be written ({error.strerror or error})"
            raise OSError(error.errno, msg) from None
        finally:
            # A temporary file that could not be created (its name too long, a read-only folder) cannot be
            # removed either; that error would hide the one above, which names the object key.
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)

    def put(self, key: str, source: Path) -> None:
        """Copy `source` next to its destination, then link it into place only if absent."""
        path = self._path(key)
        if path.exists():
            msg = f"object '{key}' already exists in {self.display_url}; refusing to overwrite it"
            raise ObjectExistsError(msg)
        self._publish(lambda temp: shutil.copyfile(source, temp), path, overwrite=False, key=key)

    def _put_bytes(self, key: str, data: bytes, *, overwrite: bool) -> None:
        """Write through a temporary file so a crash never leaves a truncated marker."""
        self._publish(lambda temp: temp.write_bytes(data), path=self._path(key), overwrite=overwrite, key=key)

    def get_bytes(self, key: str) -> bytes | None:
        """Read a small object, or None when it does not exist."""
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def exists(self, key: str) -> bool:
        """Whether an object (file) or a folder occupies `key`."""
        return self._path(key).exists()
