"""Google Cloud Storage through google-cloud-storage: `gs://bucket/prefix`."""

from __future__ import annotations

import functools
import json
import os
import typing as t

from singer_sdk import typing as th

from target_parquet_bucket.storage.base import PartSizes, PartUpload
from target_parquet_bucket.storage.remote import (
    MEBIBYTE,
    BucketLocation,
    ErrorKind,
    ErrorPolicy,
    RemoteStorage,
    SecretScrubber,
    one_line,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from pathlib import Path

#: GCS requires resumable-upload chunks to be multiples of 256 KiB.
_CHUNK_GRANULE = 256 * 1024
#: Files up to this size go up in one request (the library's own limit for single-request uploads).
_SINGLE_REQUEST_MAX = 8 * MEBIBYTE


def _service_account_credentials(value: str) -> t.Any:
    """Credentials from a service-account key given inline (JSON text) or as a file path.

    Errors never quote the value: it may be the private key itself.
    """
    from google.oauth2 import service_account

    text = value.strip()
    try:
        if text.startswith("{"):
            info = json.loads(text)
        elif os.path.isfile(text):  # a string setting, checked before reading
            with open(text, encoding="utf-8") as key_file:
                info = json.load(key_file)
        else:
            msg = "gcs_service_account_json is neither inline JSON nor the path of a readable file"
            raise ValueError(msg)
    except json.JSONDecodeError as error:
        msg = f"gcs_service_account_json is not valid JSON (line {error.lineno}, column {error.colno})"
        raise ValueError(msg) from None
    except OSError as error:
        msg = f"gcs_service_account_json: cannot read the key file ({type(error).__name__})"
        raise ValueError(msg) from None
    try:
        return service_account.Credentials.from_service_account_info(info)
    except (ValueError, KeyError, TypeError) as error:
        msg = f"gcs_service_account_json is not a usable service-account key ({type(error).__name__})"
        raise ValueError(msg) from None


def _sdk_errors() -> tuple[type[BaseException], ...]:
    import requests
    from google.api_core.exceptions import GoogleAPIError
    from google.auth.exceptions import GoogleAuthError
    from google.cloud.storage.exceptions import DataCorruption, InvalidResponse

    return (GoogleAPIError, GoogleAuthError, requests.RequestException, InvalidResponse, DataCorruption)


def _resumable_status(error: BaseException) -> int | None:
    """The HTTP status of a resumable upload's failed request (`BlobWriter`'s requests raise the bare
    response, not the API's exception classes), else None."""
    from google.cloud.storage.exceptions import InvalidResponse

    return getattr(error.response, "status_code", None) if isinstance(error, InvalidResponse) else None


def _classify(error: BaseException) -> tuple[ErrorKind, str]:
    from google.api_core import exceptions as api
    from google.auth.exceptions import GoogleAuthError

    if isinstance(error, api.PreconditionFailed) or _resumable_status(error) == 412:
        return ErrorKind.EXISTS, "412"
    if isinstance(error, (api.Unauthorized, api.Forbidden, GoogleAuthError)):
        return ErrorKind.DENIED, type(error).__name__
    if isinstance(error, api.NotFound):
        return ErrorKind.MISSING_BUCKET, "404"
    return ErrorKind.OTHER, one_line(error)


class GCSStorage(RemoteStorage):
    """Objects under `gs://bucket/prefix`, created only if absent (`if_generation_match=0`).

    Files above 8 MiB go up as a resumable upload in `gcs_chunk_size_mb` chunks (`GCSPartUpload`); the
    object only appears when the last chunk is committed. A file that reaches `gcs_upload_threshold_mb`
    while it is written sends its chunks as it grows. gcp-storage-emulator ignores `ifGenerationMatch`;
    there, only the `exists` pre-checks prevent overwrites.
    """

    part_sizes: PartSizes  # always set: GCS sends large files' chunks while they are written

    errors = ErrorPolicy(
        noun="GCS bucket",
        sdk_errors=_sdk_errors,
        classify=_classify,
        denied_hint="check gcs_service_account_json (or application default credentials) and the bucket's "
        "IAM permissions",
    )

    settings: t.ClassVar[tuple[th.Property, ...]] = (
        th.Property(
            "gcs_service_account_json",
            th.StringType,
            secret=True,
            description="Service-account key: the JSON text itself or the path of the JSON key file. "
            "Empty to use application default credentials.",
        ),
        th.Property("gcs_project", th.StringType, description="Google Cloud project (default: from the credentials)."),
        th.Property(
            "gcs_endpoint_url",
            th.StringType,
            description="Storage API endpoint override, e.g. an emulator at `http://127.0.0.1:9023` "
            "(without a service-account key, requests are then anonymous). `STORAGE_EMULATOR_HOST` also works.",
        ),
        th.Property(
            "gcs_retry_timeout_s",
            th.IntegerType(minimum=1),
            default=120,
            description="How long (seconds) to keep retrying a failing GCS request (exponential backoff).",
        ),
        th.Property(
            "gcs_chunk_size_mb",
            th.IntegerType(minimum=1),
            default=16,
            description="Chunk size in MiB of resumable uploads (used for files above 8 MiB), rounded down to a "
            "multiple of 256 KiB as GCS requires.",
        ),
        th.Property(
            "gcs_upload_threshold_mb",
            th.IntegerType(minimum=1),
            default=128,
            description="A file that reaches this many MiB while it is written starts going up as a resumable "
            "upload (chunks of `gcs_chunk_size_mb`, sent while the rest is written), so little is left to send "
            "when it is closed; the object appears, create-only, once it is. The default keeps files of the "
            "default `max_file_size_mb` for one upload once closed; on a slow link, 16 sends them while they "
            "are written. The chunks of a failed run never become an object.",
        ),
    )

    def __init__(
        self,
        location: BucketLocation,
        *,
        bucket: t.Any,
        retry: t.Any,
        chunk_size: int,
        upload_threshold: int,
        scrubber: SecretScrubber,
    ) -> None:
        """Use `from_config`; this takes a ready bucket handle so nothing here knows about settings."""
        super().__init__(location, scrubber)
        self._bucket = bucket
        self._retry = retry
        #: Resumable uploads, of closed files and of files being written, go up in chunks of `part_size`.
        self.part_sizes = PartSizes(threshold=upload_threshold, part_size=chunk_size)

    @classmethod
    def from_config(cls, url: str, config: Mapping[str, t.Any]) -> GCSStorage:
        """Build from `bucket_url` and the target config (keys as in `settings`)."""
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import storage
        from google.cloud.storage.retry import DEFAULT_RETRY

        location = BucketLocation.parse(url, "gs")
        key_value = config.get("gcs_service_account_json") or ""
        scrubber = SecretScrubber([key_value])
        endpoint_url = config.get("gcs_endpoint_url") or None
        chunk_mb = int(cls.setting(config, "gcs_chunk_size_mb"))
        credentials = _service_account_credentials(key_value) if key_value else None
        try:
            client = storage.Client(
                project=config.get("gcs_project") or getattr(credentials, "project_id", None),
                credentials=credentials,
                client_options={"api_endpoint": endpoint_url} if endpoint_url else None,
                use_auth_w_custom_endpoint=credentials is not None,
            )
        except DefaultCredentialsError:
            msg = (
                f"GCS bucket {location.display_url}: no credentials; set gcs_service_account_json "
                "or configure application default credentials"
            )
            raise PermissionError(msg) from None
        return cls(
            location,
            bucket=client.bucket(location.bucket),
            retry=DEFAULT_RETRY.with_timeout(float(cls.setting(config, "gcs_retry_timeout_s"))),
            chunk_size=max(chunk_mb * MEBIBYTE // _CHUNK_GRANULE, 1) * _CHUNK_GRANULE,
            upload_threshold=int(cls.setting(config, "gcs_upload_threshold_mb")) * MEBIBYTE,
            scrubber=scrubber,
        )

    def put(self, key: str, source: Path) -> None:
        """Up to 8 MiB in one request (`RemoteStorage.put`); larger files as the chunks of a `GCSPartUpload`,
        which goes on after a lost answer (the library's own resumable upload would fail there)."""
        size = source.stat().st_size
        if size <= _SINGLE_REQUEST_MAX:
            super().put(key, source)
            return
        upload = self.start_upload(key)
        upload.send(source, size)
        upload.finish(source)

    def _upload_if_absent(self, full_key: str, source: Path) -> None:
        """Generation 0 means "must not exist"; with it set, retrying the upload is safe."""
        self._bucket.blob(full_key).upload_from_filename(str(source), if_generation_match=0, retry=self._retry)

    def start_upload(self, key: str) -> PartUpload:
        """Begin the resumable upload of a file still being written (see `GCSPartUpload`)."""
        full_key = self._absent_key(key)
        return GCSPartUpload(self, full_key, self._bucket.blob(full_key), self._retry)

    def _stored(self, full_key: str) -> tuple[int, Callable[[], Iterable[bytes]]]:
        blob = self._bucket.get_blob(full_key, retry=self._retry)
        if blob is None:  # deleted since the refusal: not ours to claim
            return -1, tuple

        def chunks() -> Iterator[bytes]:
            with blob.open("rb", chunk_size=self.part_sizes.part_size, retry=self._retry) as stream:
                while chunk := stream.read(MEBIBYTE):
                    yield chunk

        return blob.size, chunks

    def _put_bytes(self, key: str, data: bytes, *, overwrite: bool) -> None:
        """Write a small object in one request; create-only unless `overwrite`.

        The pre-check matters only where `ifGenerationMatch` is ignored (the emulator).
        """
        full_key = self._location.object_key(key)
        if not overwrite and self.exists(key):
            raise self._exists_error(full_key)
        with self._errors("write", full_key):
            self._bucket.blob(full_key).upload_from_string(
                data, if_generation_match=None if overwrite else 0, retry=self._retry
            )

    def get_bytes(self, key: str) -> bytes | None:
        """Read a small object, or None if absent."""
        from google.api_core.exceptions import NotFound

        full_key = self._location.object_key(key)
        with self._errors("read", full_key):
            try:
                return self._bucket.blob(full_key).download_as_bytes(retry=self._retry)
            except NotFound:
                return None

    def exists(self, key: str) -> bool:
        """Whether an object exists at `key`."""
        full_key = self._location.object_key(key)
        with self._errors("check", full_key):
            return self._bucket.blob(full_key).exists(retry=self._retry)


class GCSPartUpload(PartUpload):
    """A resumable upload fed from a local file as it grows, or once it is closed (see `PartUpload`),
    through the library's `BlobWriter`: each part is one chunk, sent as it is written; `finish` sends
    the last one with the object's size, and only then does the object appear (if its key is still
    absent: `if_generation_match=0`). A chunk whose answer was lost goes on from the session's offset
    (see `_finish_only_writer`).

    An upload that fails or is dropped never becomes an object. It is not cancelled either: the
    library's `BlobWriter.terminate` sends its DELETE to the upload's initiation URL instead of the
    session's (google-cloud-storage 3.17), and GCS discards a session that is never finished after a
    week, as Azure does uncommitted blocks.
    """

    def __init__(self, storage: GCSStorage, full_key: str, blob: t.Any, retry: t.Any) -> None:
        """Open the upload of `blob` (created on the first chunk sent)."""
        super().__init__(storage.part_sizes.part_size)
        self._storage = storage
        self._full_key = full_key
        chunk_size = storage.part_sizes.part_size
        self._writer = _finish_only_writer()(blob, chunk_size=chunk_size, retry=retry, if_generation_match=0)

    def abort(self) -> None:
        """Nothing to drop that GCS would keep (see the class docstring)."""

    def _send_part(self, number: int, body: bytes) -> None:
        _ = number  # a chunk's place is its offset, which the writer keeps
        with self._storage._errors("upload", self._full_key):
            self._writer.write(body)

    def _complete(self, source: Path) -> None:
        from google.cloud.storage.exceptions import InvalidResponse

        with self._storage._creating(self._full_key, source):
            try:
                self._writer.finish()
            except InvalidResponse as error:
                # A 412 is a refusal, which `_creating` checks. Otherwise the answer to the last chunk was
                # lost and the session is gone when asked again: if the object is this file, it made it.
                if _resumable_status(error) == 412 or not self._storage._holds(self._full_key, source):
                    raise


@functools.cache
def _finish_only_writer() -> type:
    """The library's `BlobWriter`, but the object is made only when `finish` is called, and a lost
    answer to a chunk does not end the upload (both overrides of the library's own methods, 3.17).

    `BlobWriter.close` sends what was written so far as the whole object, and `io`'s finalizer calls
    `close` on any writer dropped unclosed, which would make a failed run's partial file an object.
    Here `close` sends nothing; `finish` is the library's close. (A class made on first use: the
    google libraries are an optional dependency, imported only when a GCS bucket is used.)
    """
    from google.cloud.storage.exceptions import InvalidResponse
    from google.cloud.storage.fileio import BlobWriter

    class FinishOnlyWriter(BlobWriter):
        _finishing = False

        def finish(self) -> None:
            self._finishing = True
            super().close()

        def close(self) -> None:
            """Dropped or closed without `finish`: no object."""

        def _upload_chunks_from_buffer(self, num_chunks: int) -> None:
            """The library's loop over chunks, but a chunk the session refuses when it is sent again after
            a lost answer (it already holds it) resumes where the session says its data ends, as GCS asks
            of clients (`ResumableUpload.recover`): the library would send it again at its old offset."""
            if not self._upload_and_transport:
                self._initiate_upload()
            upload, transport = self._upload_and_transport
            goal, resumed_at = upload.bytes_uploaded + num_chunks * self._chunk_size, None
            while not upload.finished and (self._finishing or upload.bytes_uploaded < goal):
                try:
                    upload.transmit_next_chunk(transport)
                except InvalidResponse:
                    offset = _session_offset(upload, transport)
                    # No answer, no progress since the last resume, or (before the last chunk) an offset
                    # inside a chunk, from which a short read would end the object early: the refusal stands.
                    inside_a_chunk = not self._finishing and (goal - (offset or 0)) % self._chunk_size != 0
                    if offset is None or offset == resumed_at or inside_a_chunk:
                        raise
                    resumed_at = offset
            self._buffer.flush()

    return FinishOnlyWriter


def _session_offset(upload: t.Any, transport: t.Any) -> int | None:
    """How many bytes the resumable session holds (GCS's status check, after which the upload goes on
    from there), or None when the session does not say (finished, gone, or unreachable)."""
    import requests
    from google.cloud.storage.exceptions import InvalidResponse

    try:
        upload.recover(transport)
    except (InvalidResponse, requests.RequestException, ValueError):  # ValueError: that byte left the buffer
        return None
    return int(upload.bytes_uploaded)
