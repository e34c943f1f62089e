"""S3 and S3-compatible stores (MinIO, Cloudflare R2, Yandex Object Storage, moto) through boto3."""

from __future__ import annotations

import contextlib
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
    from collections.abc import Callable, Iterable, Mapping
    from pathlib import Path

#: Error codes S3 answers when a conditional create loses: 412 (object exists) and 409 (a concurrent
#: conditional write to the same key is in flight, so someone else is creating it).
_EXISTS_CODES = {"PreconditionFailed", "ConditionalRequestConflict"}
_DENIED_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "403",
}
_MISSING_BUCKET_CODES = {"NoSuchBucket"}
_CREATE_ONLY_OPERATIONS = ("PutObject", "CompleteMultipartUpload")
#: S3's minimum part size, and its largest object a single PUT may create (5 GiB).
_MIN_PART_MB = 5
_MAX_PUT_MB = 5 * 1024


def _require_absent(params: dict[str, t.Any], **_: t.Any) -> None:
    """botocore hook: make every object-creating request conditional on the key being absent."""
    params.setdefault("IfNoneMatch", "*")


def _sdk_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _classify(error: BaseException) -> tuple[ErrorKind, str]:
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(error, NoCredentialsError):
        return ErrorKind.DENIED, "no AWS credentials found"
    code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
    if code in _EXISTS_CODES:
        return ErrorKind.EXISTS, code
    if code in _DENIED_CODES:
        return ErrorKind.DENIED, code
    if code in _MISSING_BUCKET_CODES:
        return ErrorKind.MISSING_BUCKET, code
    if code == "NotImplemented":
        return (
            ErrorKind.OTHER,
            f"{one_line(error)} (if this store rejects If-None-Match, set s3_conditional_writes to false)",
        )
    return ErrorKind.OTHER, one_line(error)


class S3Storage(RemoteStorage):
    """Objects under `s3://bucket/prefix`, written only if absent, large files as multipart uploads
    whose parts go up while the file is still written (`start_upload`).

    Why two clients: boto3's transfer manager (which splits large files into parallel multipart
    uploads) does not accept `IfNoneMatch` in its ExtraArgs. Instead of hand-writing multipart
    uploads, a dedicated client carries a botocore `before-parameter-build` hook that adds
    `IfNoneMatch='*'` to PutObject and CompleteMultipartUpload, so both the single-request and the
    multipart path are create-only on the server. The plain client serves reads and the one
    deliberate overwrite (`put_bytes(..., overwrite=True)`).
    """

    part_sizes: PartSizes  # always set: S3 uploads large files while they are written
    errors = ErrorPolicy(
        noun="S3 bucket",
        sdk_errors=_sdk_errors,
        classify=_classify,
        denied_hint="set aws_access_key_id/aws_secret_access_key or aws_profile (or the standard AWS credential "
        "chain) and check the bucket policy",
    )

    settings: t.ClassVar[tuple[th.Property, ...]] = (
        th.Property(
            "s3_endpoint_url",
            th.StringType,
            description="Endpoint of an S3-compatible store (MinIO, Cloudflare R2, Yandex Object Storage, "
            "e.g. `https://storage.yandexcloud.net`); empty for AWS S3.",
        ),
        th.Property(
            "s3_region", th.StringType, description="Bucket region, e.g. `eu-west-1`; default from the AWS config."
        ),
        th.Property(
            "aws_access_key_id",
            th.StringType,
            secret=True,
            description="Access key id; empty to use the standard AWS credential chain (env, profile, role).",
        ),
        th.Property("aws_secret_access_key", th.StringType, secret=True, description="Secret access key."),
        th.Property(
            "aws_session_token", th.StringType, secret=True, description="Session token of temporary credentials."
        ),
        th.Property(
            "aws_profile", th.StringType, description="Named profile from `~/.aws/config` to use instead of keys."
        ),
        th.Property(
            "s3_addressing_style",
            th.StringType,
            default="auto",
            allowed_values=["auto", "virtual", "path"],
            description="Bucket addressing: `path` for most self-hosted stores (MinIO), `auto` otherwise.",
        ),
        th.Property(
            "s3_conditional_writes",
            th.BooleanType,
            default=True,
            description="Send `If-None-Match: *` so the store itself refuses to overwrite an object. Turn off only "
            "for S3-compatible stores that reject it; an existence check before each upload still guards "
            "against overwrites, but not against a concurrent writer.",
        ),
        th.Property(
            "s3_max_attempts",
            th.IntegerType(minimum=1),
            default=8,
            description="Attempts per S3 request (botocore standard retry mode, exponential backoff) "
            "before an upload fails. Delta and Iceberg tables make as many.",
        ),
        th.Property(
            "s3_multipart_threshold_mb",
            th.IntegerType(minimum=5, maximum=_MAX_PUT_MB),
            default=128,
            description="A file that reaches this many MiB while it is written starts going up as a multipart "
            "upload (parts of `s3_part_size_mb`, sent while the rest is written), so little is left to send "
            "when it is closed; smaller files go up in one PUT request once closed. The default keeps files "
            "of the default `max_file_size_mb` in one request; on a slow link, 16 sends them while they are "
            "written. Both paths are create-only and checksummed alike.",
        ),
        th.Property(
            "s3_part_size_mb",
            th.IntegerType(minimum=_MIN_PART_MB),
            default=16,
            description="Part size, in MiB, of multipart uploads (min 5). A part of a file being written is read "
            "into memory while it is sent; up to four go up at once.",
        ),
    )

    def __init__(
        self,
        location: BucketLocation,
        *,
        client: t.Any,
        create_only_client: t.Any,
        part_size: int,
        multipart_threshold: int,
        scrubber: SecretScrubber,
    ) -> None:
        """Use `from_config`; this takes ready clients so nothing here knows about settings."""
        super().__init__(location, scrubber)
        self._client = client
        self._create_only_client = create_only_client
        self.part_sizes = PartSizes(threshold=multipart_threshold, part_size=part_size)
        # As boto3's transfer manager does: with checksums on by default, parts carry a CRC32 that
        # the completion repeats; with "when_required" (custom endpoints) they carry none.
        on_by_default = create_only_client.meta.config.request_checksum_calculation == "when_supported"
        self._checksum_algorithm = {"ChecksumAlgorithm": "CRC32"} if on_by_default else {}

    @classmethod
    def from_config(cls, url: str, config: Mapping[str, t.Any]) -> S3Storage:
        """Build from `bucket_url` and the target config (keys as in `settings`)."""
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        location = BucketLocation.parse(url, "s3")
        scrubber = SecretScrubber(
            [config.get("aws_secret_access_key"), config.get("aws_session_token"), config.get("aws_access_key_id")]
        )
        part_size_mb = int(cls.setting(config, "s3_part_size_mb"))
        if part_size_mb < _MIN_PART_MB:
            msg = f"s3_part_size_mb must be at least {_MIN_PART_MB} (S3's minimum part size), got {part_size_mb}"
            raise ValueError(msg)
        threshold_mb = int(cls.setting(config, "s3_multipart_threshold_mb"))
        if not _MIN_PART_MB <= threshold_mb <= _MAX_PUT_MB:
            msg = (
                f"s3_multipart_threshold_mb must be between {_MIN_PART_MB} and {_MAX_PUT_MB} "
                f"(S3's largest single PUT), got {threshold_mb}"
            )
            raise ValueError(msg)
        endpoint_url = config.get("s3_endpoint_url") or None
        client_config = Config(
            retries={"mode": "standard", "max_attempts": int(cls.setting(config, "s3_max_attempts"))},
            s3={"addressing_style": cls.setting(config, "s3_addressing_style")},
            connect_timeout=10,
            read_timeout=60,
            # boto3 >= 1.36 adds CRC checksums to every upload by default; several S3-compatible
            # stores reject or mishandle them, so with a custom endpoint send them only when required.
            request_checksum_calculation="when_required" if endpoint_url else "when_supported",
            response_checksum_validation="when_required" if endpoint_url else "when_supported",
        )
        try:
            session = boto3.session.Session(
                aws_access_key_id=config.get("aws_access_key_id") or None,
                aws_secret_access_key=config.get("aws_secret_access_key") or None,
                aws_session_token=config.get("aws_session_token") or None,
                profile_name=config.get("aws_profile") or None,
                region_name=config.get("s3_region") or None,
            )
            client = session.client("s3", endpoint_url=endpoint_url, config=client_config)
            create_only_client = session.client("s3", endpoint_url=endpoint_url, config=client_config)
        except (BotoCoreError, ValueError) as error:
            msg = scrubber.scrub(f"S3 bucket {location.display_url}: cannot set up the client: {one_line(error)}")
            raise ValueError(msg) from None
        if cls.setting(config, "s3_conditional_writes"):
            for operation in _CREATE_ONLY_OPERATIONS:
                create_only_client.meta.events.register(f"before-parameter-build.s3.{operation}", _require_absent)
        return cls(
            location,
            client=client,
            create_only_client=create_only_client,
            part_size=part_size_mb * MEBIBYTE,
            multipart_threshold=threshold_mb * MEBIBYTE,
            scrubber=scrubber,
        )

    def _upload_if_absent(self, full_key: str, source: Path) -> None:
        """A file closed before it began uploading in parts: one PUT up to `s3_multipart_threshold_mb`,
        multipart (parallel parts) above; the hooked client adds `IfNoneMatch` to both."""
        from boto3.s3.transfer import TransferConfig, create_transfer_manager

        transfer_config = TransferConfig(
            multipart_threshold=self.part_sizes.threshold,
            multipart_chunksize=self.part_sizes.part_size,
            preferred_transfer_client="classic",  # the CRT client would bypass the IfNoneMatch hook
        )
        with create_transfer_manager(self._create_only_client, transfer_config) as manager:
            manager.upload(str(source), self._location.bucket, full_key).result()

    def start_upload(self, key: str) -> PartUpload:
        """Create the multipart upload of a file still being written (see `S3PartUpload`)."""
        full_key = self._absent_key(key)
        with self._errors("upload", full_key):
            created = self._create_only_client.create_multipart_upload(
                Bucket=self._location.bucket, Key=full_key, **self._checksum_algorithm
            )
        return S3PartUpload(self, full_key, created["UploadId"])

    def _upload_part(self, full_key: str, upload_id: str, number: int, body: bytes) -> dict[str, t.Any]:
        """Send part `number`; returns what the completion must list for it."""
        with self._errors("upload", full_key):
            response = self._create_only_client.upload_part(
                Bucket=self._location.bucket,
                Key=full_key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
                **self._checksum_algorithm,
            )
        part = {"ETag": response["ETag"], "PartNumber": number}
        if "ChecksumCRC32" in response:
            part["ChecksumCRC32"] = response["ChecksumCRC32"]
        return part

    def _complete_upload(self, full_key: str, upload_id: str, parts: list[dict[str, t.Any]], source: Path) -> None:
        """Assemble the parts into the object, only if the key is absent (the hooked client). A refused
        completion's upload is dropped, whoever holds the key: its parts would otherwise stay stored (after
        a lost first attempt that did create the object, the upload is gone already)."""
        with self._creating(full_key, source, when_refused=lambda: self._abort_upload(full_key, upload_id)):
            self._create_only_client.complete_multipart_upload(
                Bucket=self._location.bucket, Key=full_key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )

    def _abort_upload(self, full_key: str, upload_id: str) -> None:
        """Best effort: the run is failing already, and an upload that is gone needs no abort."""
        with contextlib.suppress(Exception):
            self._client.abort_multipart_upload(Bucket=self._location.bucket, Key=full_key, UploadId=upload_id)

    def _stored(self, full_key: str) -> tuple[int, Callable[[], Iterable[bytes]]]:
        bucket = self._location.bucket
        size = self._client.head_object(Bucket=bucket, Key=full_key)["ContentLength"]
        return size, lambda: self._client.get_object(Bucket=bucket, Key=full_key)["Body"].iter_chunks(MEBIBYTE)

    def _put_bytes(self, key: str, data: bytes, *, overwrite: bool) -> None:
        """Write a small object in one request; create-only unless `overwrite`."""
        full_key = self._location.object_key(key)
        client = self._client if overwrite else self._create_only_client
        with self._errors("write", full_key):
            client.put_object(Bucket=self._location.bucket, Key=full_key, Body=data)

    def get_bytes(self, key: str) -> bytes | None:
        """Read a small object, or None if absent."""
        full_key = self._location.object_key(key)
        with self._errors("read", full_key):
            try:
                response = self._client.get_object(Bucket=self._location.bucket, Key=full_key)
            except self._client.exceptions.NoSuchKey:
                return None
            return response["Body"].read()

    def exists(self, key: str) -> bool:
        """HEAD the object: 404 means absent (S3 sends no body on HEAD, so a missing bucket looks the same)."""
        from botocore.exceptions import ClientError

        full_key = self._location.object_key(key)
        with self._errors("check", full_key):
            try:
                self._client.head_object(Bucket=self._location.bucket, Key=full_key)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                    return False
                raise
            return True


class S3PartUpload(PartUpload):
    """A multipart upload fed from a local file as it grows (see `PartUpload`).

    Why by hand: boto3's transfer manager uploads a finished file (or a stream it reads to the end
    on its own threads); it cannot be handed parts as a file grows. The requests are the storage's
    (`_upload_part`, `_complete_upload`, `_abort_upload`), so errors read like every other upload's and
    the completion, like every other write, creates the object only if the key is absent. S3 allows
    the last part to be smaller than 5 MiB.
    """

    def __init__(self, storage: S3Storage, full_key: str, upload_id: str) -> None:
        """Continue the multipart upload `upload_id` that `storage.start_upload` created."""
        super().__init__(storage.part_sizes.part_size)
        self._storage = storage
        self._full_key = full_key
        self._upload_id = upload_id
        #: What the completion lists for each part sent.
        self._parts: list[dict[str, t.Any]] = []

    def abort(self) -> None:
        """Drop the stored parts: an incomplete upload is invisible but its parts are kept (and billed)."""
        self._storage._abort_upload(self._full_key, self._upload_id)

    def _send_part(self, number: int, body: bytes) -> None:
        self._parts.append(self._storage._upload_part(self._full_key, self._upload_id, number, body))

    def _complete(self, source: Path) -> None:
        self._storage._complete_upload(self._full_key, self._upload_id, self._parts, source)
