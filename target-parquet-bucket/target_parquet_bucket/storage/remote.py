"""What the cloud backends (S3, Azure Blob, GCS) share: bucket URLs, object keys, create-only puts
and secret-free errors.

Kept apart from `base.py` because only remote object stores need it: they all address objects as
`<bucket>/<prefix>/<key>`, all need a conditional create plus a way to recognise their own retried
upload, and all surface SDK errors whose text must be scrubbed of secrets before it reaches a log.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import enum
import hashlib
import typing as t
from urllib.parse import quote, quote_plus, urlsplit

from target_parquet_bucket.storage.base import ObjectExistsError, Storage, check_key

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
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
        prefix = parts.path.strip("/")
        if prefix and any(segment in {"", ".", ".."} for segment in prefix.split("/")):
            msg = (
                f"bucket_url {scheme}://{parts.netloc}{parts.path}: the prefix must not contain '//', '.' or '..' "
                "segments (the store would keep them literally in every key)"
            )
            raise ValueError(msg)
        return cls(scheme=scheme, bucket=parts.netloc, prefix=prefix)

    @property
    def display_url(self) -> str:
        """The location as the user wrote it, normalised (no trailing slash)."""
        return f"{self.scheme}://{self.bucket}/{self.prefix}".rstrip("/")

    def object_key(self, key: str) -> str:
        """The full object key for a key relative to the prefix.

        Keys with empty, `.` or `..` segments are refused: object stores would accept them literally,
        but the local backend would not, and the same key must mean the same thing everywhere.
        """
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key


class SecretScrubber:
    """Removes configured secret values from any text before it is raised or logged.

    SDK error texts can echo request details (URLs with SAS signatures, headers, config values);
    rather than trusting each SDK, every message a backend raises goes through `scrub`.
    """

    def __init__(self, secrets: Iterable[str | None]) -> None:
        # URL-encoded forms too: HTTP libraries log request URLs (a SAS `sig` appears percent-encoded), and
        # they differ in what they leave unescaped (pyarrow's Azure client keeps `/` as it is).
        # Longest first, so a secret containing another is removed whole.
        raw = {s for s in secrets if s}
        encoded = {quote(s, safe="") for s in raw} | {quote(s, safe="/") for s in raw} | {quote_plus(s) for s in raw}
        self._secrets = sorted(raw | encoded, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by `***`."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def scrub(self, text: str) -> str:
        """`text` redacted and flattened to one line, for error messages."""
        return " ".join(self.redact(text).split())


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


class ErrorKind(enum.Enum):
    """What an SDK error means for the target, whatever the cloud."""

    EXISTS = "exists"  # a create-only write found the key taken
    DENIED = "denied"  # credentials missing, wrong, expired or without permission
    MISSING_BUCKET = "missing bucket"
    OTHER = "other"  # anything else, after the SDK's own retries gave up


@dataclasses.dataclass(frozen=True)
class ErrorPolicy:
    """How one backend's SDK errors map onto the errors the target understands."""

    noun: str  # how the bucket is called in messages: "S3 bucket", "Azure container", "GCS bucket"
    sdk_errors: Callable[[], tuple[type[BaseException], ...]]  # imported lazily: SDKs are optional
    classify: Callable[[BaseException], tuple[ErrorKind, str]]  # the kind and a short detail
    denied_hint: str


class RemoteStorage(Storage):
    """What every cloud backend does the same way: create-only `put`, naming, and error translation.

    Errors leave as one line without secrets: `ObjectExistsError` for a taken key, `PermissionError`
    for credentials, `FileNotFoundError` for a missing bucket, `OSError` for the rest. They are raised
    `from None` so SDK texts (which may quote request details) never reach a traceback unscrubbed.
    """

    errors: t.ClassVar[ErrorPolicy]

    def __init__(self, location: BucketLocation, scrubber: SecretScrubber) -> None:
        """Remember where (safe to print) and which secrets to scrub from every message."""
        self._location = location
        self._scrubber = scrubber
        self.display_url = location.display_url

    def redact(self, text: str) -> str:
        """`text` without this backend's secrets."""
        return self._scrubber.redact(text)

    def __repr__(self) -> str:
        """Show where, never how (no credentials)."""
        return f"{type(self).__name__}({self.display_url!r})"

    def put(self, key: str, source: Path) -> None:
        """Upload `source` to `key` only if absent.

        The `exists` pre-check fails fast before a large upload and guards stores that ignore
        conditional writes; the backend's conditional write is what makes it atomic (`_creating`).
        """
        full_key = self._absent_key(key)
        with self._creating(full_key, source):
            self._upload_if_absent(full_key, source)

    @contextlib.contextmanager
    def _creating(
        self, full_key: str, source: Path, *, when_refused: Callable[[], None] | None = None
    ) -> Iterator[None]:
        """Around the create-only request that makes `source` the object at `full_key` (SDK errors
        translated). A refusal by an object identical to `source` is our own earlier attempt (an SDK
        retry after a lost response) and counts as done; `when_refused` runs first on any refusal."""
        try:
            with self._errors("upload", full_key):
                yield
        except ObjectExistsError:
            if when_refused is not None:
                when_refused()
            if not self._holds(full_key, source):
                raise

    def _absent_key(self, key: str) -> str:
        """The full key of `key`, after an existence check that fails fast before any upload starts."""
        full_key = self._location.object_key(key)
        if self.exists(key):
            raise self._exists_error(full_key)
        return full_key

    def _holds(self, full_key: str, source: Path) -> bool:
        """Whether the object at `full_key` is byte-for-byte `source`: a create refused by it was our own."""
        with self._errors("verify", full_key):
            size, chunks = self._stored(full_key)
            return same_content(source, size, chunks)

    @abc.abstractmethod
    def _upload_if_absent(self, full_key: str, source: Path) -> None:
        """Upload with the store's create-only condition, chunked/multipart for large files."""

    @abc.abstractmethod
    def _stored(self, full_key: str) -> tuple[int, Callable[[], Iterable[bytes]]]:
        """The stored object's size and a way to stream its bytes."""

    def _exists_error(self, full_key: str) -> ObjectExistsError:
        url = f"{self._location.scheme}://{self._location.bucket}/{full_key}"
        return ObjectExistsError(f"{url} already exists; not overwriting it")

    @contextlib.contextmanager
    def _errors(self, action: str, full_key: str) -> Iterator[None]:
        """Translate SDK errors raised inside the block (see the class docstring)."""
        policy = self.errors
        try:
            yield
        except policy.sdk_errors() as error:
            kind, detail = policy.classify(error)
            if kind is ErrorKind.EXISTS:
                raise self._exists_error(full_key) from None
            where = f"{policy.noun} {self._location.bucket!r} ({action} {full_key})"
            if kind is ErrorKind.DENIED:
                translated: OSError = PermissionError(f"{where}: access denied ({detail}); {policy.denied_hint}")
            elif kind is ErrorKind.MISSING_BUCKET:
                translated = FileNotFoundError(f"{where}: the {policy.noun.split()[-1]} does not exist")
            else:
                translated = OSError(f"{where} failed: {detail}")
            raise type(translated)(self._scrubber.scrub(str(translated))) from None
