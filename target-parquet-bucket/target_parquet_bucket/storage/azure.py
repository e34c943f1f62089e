"""Azure Blob Storage through azure-storage-blob, configured the way Customer.io's Azure export is.

Customer.io asks for a *container* SAS URL (read, add, create, write, list) plus an optional blob
path; here that is `azure_sas_url` plus `bucket_url = azure://<container>/<blob path>`. A connection
string works too (Azurite, account keys).
"""

from __future__ import annotations

import base64
import logging
import typing as t
import uuid
from urllib.parse import parse_qs, quote, urlsplit

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
    from collections.abc import Callable, Iterable, Mapping
    from pathlib import Path

_EXISTS_CODES = {"BlobAlreadyExists", "ConditionNotMet"}
_DENIED_CODES = {
    "AuthenticationFailed",
    "AuthorizationFailure",
    "AuthorizationPermissionMismatch",
    "AuthorizationResourceTypeMismatch",
    "InsufficientAccountPermissions",
}
_HTTP_FORBIDDEN = 403


def _connection_string_secrets(connection_string: str) -> list[str]:
    """The secret values inside a connection string (account key, SAS), for scrubbing."""
    secrets = []
    for part in connection_string.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() in {"accountkey", "sharedaccesssignature"}:
            secrets.append(value.strip())
    return secrets


def _sas_secrets(sas_url: str) -> list[str]:
    """The SAS token and its signature, raw and URL-encoded, for scrubbing (the signature is the credential)."""
    query = urlsplit(sas_url).query
    signatures = parse_qs(query).get("sig", [])
    return [query, *signatures, *(quote(sig, safe="") for sig in signatures)]


def _sdk_errors() -> tuple[type[BaseException], ...]:
    from azure.core.exceptions import AzureError

    return (AzureError,)


def _classify(error: BaseException) -> tuple[ErrorKind, str]:
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

    code = getattr(error, "error_code", None) or ""
    status = error.status_code if isinstance(error, HttpResponseError) else None
    if code in _EXISTS_CODES:
        return ErrorKind.EXISTS, code
    if isinstance(error, ClientAuthenticationError) or code in _DENIED_CODES or status == _HTTP_FORBIDDEN:
        return ErrorKind.DENIED, code or str(status)
    if code == "ContainerNotFound":
        return ErrorKind.MISSING_BUCKET, code
    # Storage errors append RequestId, Time, ErrorCode and the raw body on further lines: keep the first.
    summary = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ErrorKind.OTHER, f"{code or type(error).__name__}: {summary[:300]}"


class AzureStorage(RemoteStorage):
    """Blobs under `azure://<container>/<blob path>`, created only if absent (`overwrite=False`).

    The SDK does the heavy lifting: files above `azure_block_size_mb` are staged as blocks in
    parallel and committed with `If-None-Match: *`, so a blob appears whole and never replaces one.
    A file that reaches `azure_stage_threshold_mb` while it is written is staged block by block
    as it grows instead (`AzurePartUpload`), and committed the same way once closed.
    """

    part_sizes: PartSizes  # always set: Azure stages large files while they are written

    errors = ErrorPolicy(
        noun="Azure container",
        sdk_errors=_sdk_errors,
        classify=_classify,
        denied_hint="check that azure_sas_url is a valid, unexpired container SAS with read, add, create, write "
        "and list permissions (or the connection string)",
    )

    settings: t.ClassVar[tuple[th.Property, ...]] = (
        th.Property(
            "azure_sas_url",
            th.StringType,
            secret=True,
            description="Container SAS URL (`https://<account>.blob.core.windows.net/<container>?sv=…&sig=…`) with "
            "read, add, create, write and list permissions, as for Customer.io's Azure export. "
            "Its container must be the one in `bucket_url` (`azure://<container>/<optional blob path>`).",
        ),
        th.Property(
            "azure_connection_string",
            th.StringType,
            secret=True,
            description="Storage account connection string, instead of `azure_sas_url`.",
        ),
        th.Property(
            "azure_max_attempts",
            th.IntegerType(minimum=1),
            default=6,
            description="Attempts per Azure request (exponential backoff) before an upload fails, whatever "
            "failed: the connection, the answer or the service (5xx). Delta tables make as many (Iceberg "
            "keeps the retries of pyarrow's Azure client).",
        ),
        th.Property(
            "azure_block_size_mb",
            th.IntegerType(minimum=1, maximum=4000),
            default=16,
            description="Files larger than this many MiB are uploaded as blocks of this size, then committed.",
        ),
        th.Property(
            "azure_stage_threshold_mb",
            th.IntegerType(minimum=1, maximum=4000),
            default=128,
            description="A file that reaches this many MiB while it is written starts going up as blocks (of "
            "`azure_block_size_mb`, staged while the rest is written, one in memory at a time per file), so "
            "little is left to send when it is closed; the blocks are committed, create-only, once it is. "
            "The default keeps files of the default `max_file_size_mb` for one upload once closed; on a slow "
            "link, 16 sends them while they are written. Blocks of a failed run are never committed: they "
            "stay invisible, and Azure deletes them after a week.",
        ),
    )

    def __init__(
        self, location: BucketLocation, *, container_client: t.Any, part_sizes: PartSizes, scrubber: SecretScrubber
    ) -> None:
        """Use `from_config`; this takes a ready container client so nothing here knows about settings."""
        super().__init__(location, scrubber)
        self._container = container_client
        self.part_sizes = part_sizes

    @classmethod
    def from_config(cls, url: str, config: Mapping[str, t.Any]) -> AzureStorage:
        """Build from `bucket_url` and the target config (keys as in `settings`)."""
        from azure.storage.blob import ContainerClient, ExponentialRetry

        # The SDK logs every request and response with headers at INFO (SAS redacted): that would
        # drown the target's own log, so only its warnings get through.
        logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
        location = BucketLocation.parse(url, "azure")
        sas_url = config.get("azure_sas_url") or ""
        connection_string = config.get("azure_connection_string") or ""
        scrubber = SecretScrubber(
            [sas_url, *_sas_secrets(sas_url), connection_string, *_connection_string_secrets(connection_string)]
        )
        if bool(sas_url) == bool(connection_string):
            msg = f"Azure bucket {location.display_url}: set exactly one of azure_sas_url or azure_connection_string"
            raise ValueError(msg)
        block_size = int(cls.setting(config, "azure_block_size_mb")) * MEBIBYTE
        part_sizes = PartSizes(
            threshold=int(cls.setting(config, "azure_stage_threshold_mb")) * MEBIBYTE, part_size=block_size
        )
        retries = max(int(cls.setting(config, "azure_max_attempts")) - 1, 0)
        client_options: dict[str, t.Any] = {
            # The SDK also caps each kind of retry (failed connections, lost answers, 5xx) at three unless
            # told otherwise, whatever `retry_total` says: the setting counts attempts of every kind.
            "retry_policy": ExponentialRetry(
                initial_backoff=1,
                increment_base=2,
                retry_total=retries,
                retry_connect=retries,
                retry_read=retries,
                retry_status=retries,
                random_jitter_range=1,
            ),
            "max_single_put_size": block_size,
            "max_block_size": block_size,
            "connection_timeout": 10,
            "read_timeout": 60,
        }
        if sas_url:
            container_client = cls._sas_container_client(sas_url, location, client_options)
        else:
            try:
                container_client = ContainerClient.from_connection_string(
                    connection_string, location.bucket, **client_options
                )
            except ValueError as error:
                msg = f"Azure bucket {location.display_url}: azure_connection_string is unusable: {one_line(error)}"
                raise ValueError(scrubber.scrub(msg)) from None
        return cls(location, container_client=container_client, part_sizes=part_sizes, scrubber=scrubber)

    @staticmethod
    def _sas_container_client(sas_url: str, location: BucketLocation, client_options: dict[str, t.Any]) -> t.Any:
        """A container client from a container SAS URL, refusing account SAS URLs and other containers."""
        from azure.storage.blob import ContainerClient

        where = f"Azure bucket {location.display_url}"
        if "sig" not in parse_qs(urlsplit(sas_url).query):
            msg = f"{where}: azure_sas_url carries no SAS token (expected …/<container>?sv=…&sig=…)"
            raise ValueError(msg)
        try:
            container_client = ContainerClient.from_container_url(sas_url, **client_options)
        except ValueError:
            msg = f"{where}: azure_sas_url is not a container SAS URL (https://<account>.blob.core.windows.net/<container>?…)"
            raise ValueError(msg) from None
        if container_client.container_name != location.bucket:
            msg = (
                f"{where}: azure_sas_url is for container {container_client.container_name!r}, "
                f"but bucket_url names container {location.bucket!r}"
            )
            raise ValueError(msg)
        return container_client

    def _upload_if_absent(self, full_key: str, source: Path) -> None:
        """`overwrite=False` makes the single put, or the final block-list commit, create-only."""
        with source.open("rb") as stream:
            self._container.get_blob_client(full_key).upload_blob(
                stream, overwrite=False, length=source.stat().st_size, max_concurrency=4
            )

    def start_upload(self, key: str) -> PartUpload:
        """Stage the blocks of a file still being written (see `AzurePartUpload`)."""
        full_key = self._absent_key(key)
        return AzurePartUpload(self, full_key, self._container.get_blob_client(full_key))

    def _commit(self, full_key: str, block_ids: list[str], source: Path) -> None:
        """Make the staged blocks the blob, only if the key is absent (`If-None-Match: *`)."""
        from azure.core import MatchConditions
        from azure.storage.blob import BlobBlock

        blocks = [BlobBlock(block_id) for block_id in block_ids]
        blob = self._container.get_blob_client(full_key)
        with self._creating(full_key, source):
            blob.commit_block_list(blocks, match_condition=MatchConditions.IfMissing)

    def _stored(self, full_key: str) -> tuple[int, Callable[[], Iterable[bytes]]]:
        blob = self._container.get_blob_client(full_key)
        return blob.get_blob_properties().size, lambda: blob.download_blob().chunks()

    def _put_bytes(self, key: str, data: bytes, *, overwrite: bool) -> None:
        """Write a small object in one request; create-only unless `overwrite`."""
        full_key = self._location.object_key(key)
        with self._errors("write", full_key):
            self._container.get_blob_client(full_key).upload_blob(data, overwrite=overwrite)

    def get_bytes(self, key: str) -> bytes | None:
        """Read a small object, or None if absent."""
        from azure.core.exceptions import ResourceNotFoundError

        full_key = self._location.object_key(key)
        with self._errors("read", full_key):
            try:
                return self._container.get_blob_client(full_key).download_blob().readall()
            except ResourceNotFoundError as error:
                if getattr(error, "error_code", None) == "BlobNotFound":  # set by azure-storage-blob, untyped
                    return None
                raise

    def exists(self, key: str) -> bool:
        """Whether a blob exists at `key`."""
        full_key = self._location.object_key(key)
        with self._errors("check", full_key):
            return self._container.get_blob_client(full_key).exists()


class AzurePartUpload(PartUpload):
    """A block blob staged from a local file as it grows (see `PartUpload`).

    Why by hand: the SDK's `upload_blob` stages the blocks of a finished file (or of a stream it reads
    to the end); it cannot be handed blocks as a file grows. The commit is the storage's (`_commit`), so
    it is create-only like every other write. Azure has no call that drops staged blocks: a blob never
    committed stays invisible, and its blocks are deleted after a week, so `abort` has nothing to do.
    """

    def __init__(self, storage: AzureStorage, full_key: str, blob_client: t.Any) -> None:
        """Stage into `blob_client` (the blob at `full_key`), which `storage.start_upload` found absent."""
        super().__init__(storage.part_sizes.part_size)
        self._storage = storage
        self._full_key = full_key
        self._blob = blob_client
        #: Block ids must be unique within the blob and all of one length: this upload's own prefix.
        self._id_prefix = uuid.uuid4().hex
        self._block_ids: list[str] = []

    def abort(self) -> None:
        """Nothing to drop: staged blocks never committed are invisible and expire (see the class)."""

    def _send_part(self, number: int, body: bytes) -> None:
        block_id = base64.b64encode(f"{self._id_prefix}-{number:06d}".encode()).decode()
        with self._storage._errors("upload", self._full_key):
            self._blob.stage_block(block_id, body, length=len(body))
        self._block_ids.append(block_id)

    def _complete(self, source: Path) -> None:
        self._storage._commit(self._full_key, self._block_ids, source)
