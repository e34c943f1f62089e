"""What the cloud backends (S3, Azure Blob, GCS) share: bucket URLs, object keys, and secret-free errors.

Kept apart from `base.py` because only remote object stores need it: they all address objects as
`<bucket>/<prefix>/<key>`, and all of them surface SDK errors whose text must be scrubbed of secrets
before it reaches a log line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import typing as t
from urllib.parse import urlsplit

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

MEBIBYTE = 1024 * 1024
REDACTED = "***"


@dataclasses.dataclass(frozen=True)
class BucketLocation:
    """A bucket (or container) plus the key prefix inside it, parsed from `scheme://bucket/prefix`."""

    scheme: str
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str, scheme: str) -> BucketLocation:
        """Split `scheme://bucket/some/prefix`; the prefix may be empty. Fails in one line on anything else."""
        parts = urlsplit(url)
        if parts.scheme != scheme or not parts.netloc:
            msg = f"bucket_url must look like {scheme}://<bucket>/<optional prefix>, got {url!r}"
            raise ValueError(msg)
        if parts.query or parts.fragment:
            msg = f"bucket_url {scheme}://{parts.netloc}{parts.path} must not carry a query string or fragment"
            raise ValueError(msg)
        return cls(scheme=scheme, bucket=parts.netloc, prefix=parts.path.strip("/"))

    @property
    def display_url(self) -> str:
        """The location as the user wrote it, normalised (no trailing slash)."""
        return f"{self.scheme}://{self.bucket}/{self.prefix}".rstrip("/")

    def object_key(self, key: str) -> str:
        """The full object key for a key relative to the prefix.

        Keys with empty, `.` or `..` segments are refused: object stores would accept them literally,
        but the local backend would not, and the same key must mean the same thing everywhere.
        """
        segments = key.split("/")
        if not key or any(segment in {"", ".", ".."} for segment in segments):
            msg = f"invalid object key {key!r}: empty, '.' and '..' path segments are not allowed"
            raise ValueError(msg)
        return f"{self.prefix}/{key}" if self.prefix else key

    def key_prefix(self, prefix: str) -> str:
        """The full listing prefix for a prefix relative to the storage root (may be empty)."""
        root = f"{self.prefix}/" if self.prefix else ""
        return root + prefix

    def relative_key(self, full_key: str) -> str:
        """Strip the storage prefix from a full key returned by a listing."""
        root = f"{self.prefix}/" if self.prefix else ""
        return full_key[len(root) :]


class SecretScrubber:
    """Removes configured secret values from any text before it is raised or logged.

    SDK error texts can echo request details (URLs with SAS signatures, headers, config values);
    rather than trusting each SDK, every message a backend raises goes through `scrub`.
    """

    def __init__(self, secrets: Iterable[str | None]) -> None:
        # Longest first, so a secret containing another is removed whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """`text` with every secret replaced by `***`, flattened to one line."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return " ".join(text.split())


def one_line(error: BaseException, limit: int = 300) -> str:
    """A short single-line description of an SDK error, for wrapping into our own message."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def same_content(source: Path, stored_size: int, stored_chunks: Callable[[], Iterable[bytes]]) -> bool:
    """Whether a stored object is byte-for-byte `source` (size first, then a streamed SHA-256).

    Used when a create-only upload is refused: an SDK retry can collide with its own earlier attempt
    whose success response was lost in transit. That object is ours, so the upload succeeded.
    """
    if stored_size != source.stat().st_size:
        return False
    stored = hashlib.sha256()
    for chunk in stored_chunks():
        stored.update(chunk)
    local = hashlib.sha256()
    with source.open("rb") as stream:
        while chunk := stream.read(MEBIBYTE):
            local.update(chunk)
    return stored.digest() == local.digest()
