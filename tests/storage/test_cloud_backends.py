"""Per-cloud behaviour beyond the shared contract: real-HTTP interop, atomic create-only writes,
configuration errors, and secrets that never show up in URLs, reprs or error texts."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import typing as t

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures.storage_services import free_port, service_account_key
from singer_sdk import typing as th

from target_parquet_bucket.storage.azure import AzureStorage
from target_parquet_bucket.storage.base import ObjectExistsError
from target_parquet_bucket.storage.gcs import GCSStorage
from target_parquet_bucket.storage.s3 import S3Storage

if t.TYPE_CHECKING:
    from pathlib import Path

    from fixtures.storage_services import AzuriteService, GCSService, S3Service

MIB = 1024 * 1024
AWS_SECRET = "aws-secret-9f2c7e1d"  # a known fake secret the tests look for
AWS_TOKEN = "aws-session-token-5b8a"


def assert_one_line_without(text: str, *secrets: str) -> None:
    assert "\n" not in text
    for secret in secrets:
        assert secret not in text


def s3_config(s3: S3Service, **overrides: t.Any) -> dict[str, t.Any]:
    return {
        "s3_endpoint_url": s3.endpoint_url,
        "s3_region": s3.region,
        "aws_access_key_id": s3.access_key_id,
        "aws_secret_access_key": AWS_SECRET,
        "aws_session_token": AWS_TOKEN,
        "s3_part_size_mb": 5,
        "s3_multipart_threshold_mb": 5,
        **overrides,
    }


class S3WithoutPrecheck(S3Storage):
    """An S3Storage whose existence check lost a race: another writer created the key right after it."""

    def exists(self, key: str) -> bool:
        return False


class AzureWithoutPrecheck(AzureStorage):
    """An AzureStorage whose existence check lost a race: another writer created the key right after it."""

    def exists(self, key: str) -> bool:
        return False


# --- S3 ---------------------------------------------------------------------------------------------


def test_s3_object_is_readable_by_pyarrow_s3_filesystem_over_http(s3_service: S3Service, tmp_path: Path) -> None:
    from pyarrow import fs

    bucket = s3_service.create_bucket()
    table = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]})
    pq.write_table(table, tmp_path / "t.parquet")
    S3Storage.from_config(f"s3://{bucket}/exports", s3_config(s3_service)).put("t/t_1.parquet", tmp_path / "t.parquet")

    s3fs = fs.S3FileSystem(
        endpoint_override=s3_service.host_port,
        scheme="http",
        region=s3_service.region,
        access_key=s3_service.access_key_id,
        secret_key=s3_service.secret_access_key,
    )

    assert pq.read_table(f"{bucket}/exports/t/t_1.parquet", filesystem=s3fs).equals(table)


@pytest.mark.parametrize(("size", "parts"), [(9 * MIB, 0), (12 * MIB, 3)], ids=["up-to-threshold", "above"])
def test_s3_files_up_to_the_multipart_threshold_go_up_in_one_request(
    s3_service: S3Service, tmp_path: Path, size: int, parts: int
) -> None:
    bucket = s3_service.create_bucket()
    data = os.urandom(size)
    (tmp_path / "f").write_bytes(data)
    config = s3_config(s3_service, s3_multipart_threshold_mb=10)
    S3Storage.from_config(f"s3://{bucket}", config).put("f.parquet", tmp_path / "f")

    stored = s3_service.client().get_object(Bucket=bucket, Key="f.parquet")
    # S3 (and moto) give a single-request object the MD5 of its bytes as ETag, a multipart one `<hash>-<parts>`
    etag = stored["ETag"].strip('"')
    assert etag == hashlib.md5(data).hexdigest() if not parts else etag.endswith(f"-{parts}")
    assert stored["Body"].read() == data


@pytest.mark.parametrize("size", [1024, 12 * MIB], ids=["single-request", "multipart"])
def test_s3_server_refuses_overwrite_even_when_the_existence_check_raced(
    s3_service: S3Service, tmp_path: Path, size: int
) -> None:
    bucket = s3_service.create_bucket()
    (tmp_path / "first").write_bytes(b"first")
    (tmp_path / "second").write_bytes(os.urandom(size))
    S3Storage.from_config(f"s3://{bucket}", s3_config(s3_service)).put("k.parquet", tmp_path / "first")
    racing = S3WithoutPrecheck.from_config(f"s3://{bucket}", s3_config(s3_service))

    with pytest.raises(ObjectExistsError, match=f"s3://{bucket}/k.parquet already exists"):
        racing.put("k.parquet", tmp_path / "second")

    assert racing.get_bytes("k.parquet") == b"first"
    assert s3_service.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_s3_without_conditional_writes_only_the_existence_check_guards(s3_service: S3Service, tmp_path: Path) -> None:
    """The escape hatch for stores that reject If-None-Match: a raced check is then not caught by the server."""
    bucket = s3_service.create_bucket()
    (tmp_path / "first").write_bytes(b"first")
    (tmp_path / "second").write_bytes(b"second")
    config = s3_config(s3_service, s3_conditional_writes=False)
    S3Storage.from_config(f"s3://{bucket}", config).put("k.parquet", tmp_path / "first")

    with pytest.raises(ObjectExistsError):
        S3Storage.from_config(f"s3://{bucket}", config).put("k.parquet", tmp_path / "second")
    S3WithoutPrecheck.from_config(f"s3://{bucket}", config).put("k.parquet", tmp_path / "second")

    assert s3_service.client().get_object(Bucket=bucket, Key="k.parquet")["Body"].read() == b"second"


def test_s3_create_refused_by_an_identical_object_counts_as_done(s3_service: S3Service, tmp_path: Path) -> None:
    """A retried upload whose first attempt succeeded (response lost) meets its own object: not a collision."""
    bucket = s3_service.create_bucket()
    (tmp_path / "f").write_bytes(os.urandom(12 * MIB))
    S3Storage.from_config(f"s3://{bucket}", s3_config(s3_service)).put("k.parquet", tmp_path / "f")
    racing = S3WithoutPrecheck.from_config(f"s3://{bucket}", s3_config(s3_service))

    racing.put("k.parquet", tmp_path / "f")

    assert racing.get_bytes("k.parquet") == (tmp_path / "f").read_bytes()


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as stream:
        stream.write(data)


def incomplete_uploads(s3: S3Service, bucket: str) -> list[dict[str, t.Any]]:
    return s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def test_s3_file_goes_up_in_parts_while_it_is_written_and_appears_whole_when_finished(
    s3_service: S3Service, tmp_path: Path
) -> None:
    bucket = s3_service.create_bucket()
    storage = S3Storage.from_config(f"s3://{bucket}/exports", s3_config(s3_service))
    growing = tmp_path / "f.part"
    first, second, last = os.urandom(6 * MIB), os.urandom(7 * MIB), os.urandom(1024)
    growing.write_bytes(first)

    upload = storage.start_upload("f.parquet")
    upload.send(growing, 6 * MIB)  # one whole 5 MiB part; the last MiB waits for more
    append(growing, second)
    upload.send(growing, 13 * MIB)  # one more part: 10 MiB sent, 3 MiB waiting
    [in_progress] = incomplete_uploads(s3_service, bucket)
    parts = s3_service.client().list_parts(Bucket=bucket, Key="exports/f.parquet", UploadId=in_progress["UploadId"])
    assert [part["Size"] for part in parts["Parts"]] == [5 * MIB, 5 * MIB]
    assert not storage.exists("f.parquet")

    append(growing, last)
    upload.finish(growing)

    stored = s3_service.client().get_object(Bucket=bucket, Key="exports/f.parquet")
    assert stored["Body"].read() == first + second + last
    assert stored["ETag"].strip('"').endswith("-3")
    assert incomplete_uploads(s3_service, bucket) == []


def test_s3_upload_in_parts_with_default_checksums_completes_with_each_parts_crc32(
    s3_service: S3Service, tmp_path: Path
) -> None:
    """AWS S3 itself (no custom endpoint) gets CRC32 checksums by default, as boto3's transfer manager sends them."""
    from botocore.config import Config

    from target_parquet_bucket.storage.remote import BucketLocation, SecretScrubber

    bucket = s3_service.create_bucket()
    client = s3_service.client(config=Config(request_checksum_calculation="when_supported"))
    storage = S3Storage(
        BucketLocation.parse(f"s3://{bucket}", "s3"),
        client=client,
        create_only_client=client,
        part_size=5 * MIB,
        multipart_threshold=5 * MIB,
        scrubber=SecretScrubber([]),
    )
    data = os.urandom(11 * MIB)
    (tmp_path / "f").write_bytes(data)

    upload = storage.start_upload("f.parquet")
    upload.send(tmp_path / "f", len(data))
    upload.finish(tmp_path / "f")

    stored = client.get_object(Bucket=bucket, Key="f.parquet", ChecksumMode="ENABLED")
    assert stored["Body"].read() == data
    assert stored["ChecksumCRC32"].endswith("-3")


def test_s3_upload_in_parts_never_overwrites_a_key_taken_before_it_starts_or_finishes(
    s3_service: S3Service, tmp_path: Path
) -> None:
    bucket = s3_service.create_bucket()
    storage = S3Storage.from_config(f"s3://{bucket}", s3_config(s3_service))
    (tmp_path / "theirs").write_bytes(b"theirs")
    (tmp_path / "ours").write_bytes(os.urandom(6 * MIB))
    storage.put("taken.parquet", tmp_path / "theirs")

    with pytest.raises(ObjectExistsError, match=f"s3://{bucket}/taken.parquet already exists"):
        storage.start_upload("taken.parquet")
    upload = storage.start_upload("raced.parquet")
    upload.send(tmp_path / "ours", 6 * MIB)
    storage.put("raced.parquet", tmp_path / "theirs")  # another writer gets there first
    with pytest.raises(ObjectExistsError, match=f"s3://{bucket}/raced.parquet already exists"):
        upload.finish(tmp_path / "ours")

    assert storage.get_bytes("taken.parquet") == storage.get_bytes("raced.parquet") == b"theirs"
    assert incomplete_uploads(s3_service, bucket) == []


def test_s3_upload_in_parts_refused_by_an_identical_object_counts_as_done(
    s3_service: S3Service, tmp_path: Path
) -> None:
    """A completion retried after its response was lost meets the object its first attempt created."""
    bucket = s3_service.create_bucket()
    storage = S3Storage.from_config(f"s3://{bucket}", s3_config(s3_service))
    (tmp_path / "f").write_bytes(os.urandom(6 * MIB))
    upload = storage.start_upload("f.parquet")
    upload.send(tmp_path / "f", 6 * MIB)
    S3WithoutPrecheck.from_config(f"s3://{bucket}", s3_config(s3_service)).put("f.parquet", tmp_path / "f")

    upload.finish(tmp_path / "f")

    assert storage.get_bytes("f.parquet") == (tmp_path / "f").read_bytes()
    assert incomplete_uploads(s3_service, bucket) == []


def test_s3_missing_bucket_is_a_one_line_error_naming_backend_and_bucket(s3_service: S3Service, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    storage = S3Storage.from_config("s3://no-such-bucket-here/p", s3_config(s3_service))

    with pytest.raises(FileNotFoundError, match=r"S3 bucket 'no-such-bucket-here'.*does not exist") as caught:
        storage.put("a.parquet", tmp_path / "f")

    assert_one_line_without(str(caught.value), AWS_SECRET, AWS_TOKEN)
    assert caught.value.__cause__ is None


def test_s3_without_any_credentials_is_a_one_line_permission_error(
    s3_service: S3Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    storage = S3Storage.from_config(
        f"s3://{s3_service.create_bucket()}", {"s3_endpoint_url": s3_service.endpoint_url, "s3_region": "us-east-1"}
    )

    with pytest.raises(PermissionError, match=r"S3 bucket .*no AWS credentials found"):
        storage.exists("a.parquet")


def test_s3_secrets_never_appear_in_display_url_or_repr(s3_service: S3Service) -> None:
    storage = S3Storage.from_config("s3://my-bucket/exports/cio", s3_config(s3_service))

    assert storage.display_url == "s3://my-bucket/exports/cio"
    assert repr(storage) == "S3Storage('s3://my-bucket/exports/cio')"


@pytest.mark.parametrize(
    ("url", "config", "message"),
    [
        ("s3:///prefix", {}, "bucket_url must look like s3://<bucket>"),
        ("s3://bucket/p?x=1", {}, "must not carry a query string"),
        ("s3://bucket", {"s3_part_size_mb": 4}, "s3_part_size_mb must be at least 5"),
        ("s3://bucket", {"s3_multipart_threshold_mb": 4}, "s3_multipart_threshold_mb must be between 5 and 5120"),
        ("s3://bucket", {"s3_multipart_threshold_mb": 5121}, r"must be between 5 and 5120 \(S3's largest single PUT\)"),
    ],
)
def test_s3_bad_settings_are_one_line_config_errors(url: str, config: dict[str, t.Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        S3Storage.from_config(url, config)


# --- Azure ------------------------------------------------------------------------------------------


def sas_signature(sas_url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(sas_url).query)["sig"][0]


@pytest.mark.parametrize("size", [1024, 10 * MIB], ids=["single-request", "blocks"])
def test_azure_server_refuses_overwrite_even_when_the_existence_check_raced(
    azurite_service: AzuriteService, tmp_path: Path, size: int
) -> None:
    container = azurite_service.create_container()
    config = {"azure_sas_url": azurite_service.container_sas_url(container), "azure_block_size_mb": 4}
    (tmp_path / "first").write_bytes(b"first")
    (tmp_path / "second").write_bytes(os.urandom(size))
    AzureStorage.from_config(f"azure://{container}", config).put("k.parquet", tmp_path / "first")
    racing = AzureWithoutPrecheck.from_config(f"azure://{container}", config)

    with pytest.raises(ObjectExistsError, match=f"azure://{container}/k.parquet already exists"):
        racing.put("k.parquet", tmp_path / "second")

    assert racing.get_bytes("k.parquet") == b"first"


def test_azure_create_refused_by_an_identical_blob_counts_as_done(
    azurite_service: AzuriteService, tmp_path: Path
) -> None:
    """A retried upload whose first attempt succeeded (response lost) meets its own blob: not a collision."""
    container = azurite_service.create_container()
    config = {"azure_sas_url": azurite_service.container_sas_url(container), "azure_block_size_mb": 4}
    (tmp_path / "f").write_bytes(os.urandom(10 * MIB))
    AzureStorage.from_config(f"azure://{container}", config).put("k.parquet", tmp_path / "f")
    racing = AzureWithoutPrecheck.from_config(f"azure://{container}", config)

    racing.put("k.parquet", tmp_path / "f")

    assert racing.get_bytes("k.parquet") == (tmp_path / "f").read_bytes()


def staged_sizes(azurite: AzuriteService, container: str, key: str) -> list[int]:
    """The sizes of the blocks staged for `key` and not committed yet."""
    blob = azurite.service_client().get_container_client(container).get_blob_client(key)
    _, uncommitted = blob.get_block_list("uncommitted")
    return [block.size for block in uncommitted]


def test_azure_file_goes_up_in_blocks_while_it_is_written_and_appears_whole_when_finished(
    azurite_service: AzuriteService, tmp_path: Path
) -> None:
    container = azurite_service.create_container()
    config = {"azure_sas_url": azurite_service.container_sas_url(container), "azure_block_size_mb": 5}
    storage = AzureStorage.from_config(f"azure://{container}/exports", config)
    growing = tmp_path / "f.part"
    first, second, last = os.urandom(6 * MIB), os.urandom(7 * MIB), os.urandom(1024)
    growing.write_bytes(first)

    upload = storage.start_upload("f.parquet")
    upload.send(growing, 6 * MIB)  # one whole 5 MiB block; the last MiB waits for more
    append(growing, second)
    upload.send(growing, 13 * MIB)  # one more block: 10 MiB staged, 3 MiB waiting
    assert staged_sizes(azurite_service, container, "exports/f.parquet") == [5 * MIB, 5 * MIB]
    assert not storage.exists("f.parquet")

    append(growing, last)
    upload.finish(growing)

    blob = azurite_service.service_client().get_container_client(container).get_blob_client("exports/f.parquet")
    assert blob.download_blob().readall() == first + second + last
    committed, uncommitted = blob.get_block_list("all")
    assert [block.size for block in committed] == [5 * MIB, 5 * MIB, 3 * MIB + 1024]
    assert uncommitted == []


def test_azure_upload_in_blocks_never_overwrites_a_key_taken_before_it_starts_or_finishes(
    azurite_service: AzuriteService, tmp_path: Path
) -> None:
    container = azurite_service.create_container()
    config = {"azure_sas_url": azurite_service.container_sas_url(container), "azure_block_size_mb": 5}
    storage = AzureStorage.from_config(f"azure://{container}", config)
    (tmp_path / "theirs").write_bytes(b"theirs")
    (tmp_path / "ours").write_bytes(os.urandom(6 * MIB))
    storage.put("taken.parquet", tmp_path / "theirs")

    with pytest.raises(ObjectExistsError, match=f"azure://{container}/taken.parquet already exists"):
        storage.start_upload("taken.parquet")
    upload = storage.start_upload("raced.parquet")
    upload.send(tmp_path / "ours", 6 * MIB)
    # another writer gets there first (unconditionally: Azurite refuses a create-only put of a blob with
    # staged blocks, and a put that is not create-only drops those blocks)
    blob = azurite_service.service_client().get_container_client(container).get_blob_client("raced.parquet")
    blob.upload_blob(b"theirs", overwrite=True)
    with pytest.raises(ObjectExistsError, match=f"azure://{container}/raced.parquet already exists"):
        upload.finish(tmp_path / "ours")

    assert storage.get_bytes("taken.parquet") == storage.get_bytes("raced.parquet") == b"theirs"


def test_azure_upload_in_blocks_whose_commit_is_sent_again_counts_as_done(
    azurite_service: AzuriteService, tmp_path: Path
) -> None:
    """As when the SDK retries a commit whose response was lost: the second one meets the blob the first created."""
    container = azurite_service.create_container()
    config = {"azure_sas_url": azurite_service.container_sas_url(container), "azure_block_size_mb": 5}
    storage = AzureStorage.from_config(f"azure://{container}", config)
    (tmp_path / "f").write_bytes(os.urandom(6 * MIB))
    upload = storage.start_upload("f.parquet")
    upload.send(tmp_path / "f", 6 * MIB)
    upload.finish(tmp_path / "f")

    upload.finish(tmp_path / "f")

    assert storage.get_bytes("f.parquet") == (tmp_path / "f").read_bytes()


def test_azure_blob_path_from_bucket_url_prefixes_every_blob(azurite_service: AzuriteService, tmp_path: Path) -> None:
    container = azurite_service.create_container()
    (tmp_path / "f").write_bytes(b"x")
    storage = AzureStorage.from_config(
        f"azure://{container}/customerio/exports", {"azure_sas_url": azurite_service.container_sas_url(container)}
    )

    storage.put("deliveries_v4_42_1.parquet", tmp_path / "f")

    names = list(azurite_service.service_client().get_container_client(container).list_blob_names())
    assert names == ["customerio/exports/deliveries_v4_42_1.parquet"]


def test_azure_wrong_sas_signature_is_a_permission_error_without_the_signature(
    azurite_service: AzuriteService, tmp_path: Path
) -> None:
    container = azurite_service.create_container()
    good_url = azurite_service.container_sas_url(container)
    forged_url = good_url.split("&sig=")[0] + "&sig=Zm9yZ2VkLXNpZ25hdHVyZQ%3D%3D"
    (tmp_path / "f").write_bytes(b"x")
    storage = AzureStorage.from_config(f"azure://{container}", {"azure_sas_url": forged_url, "azure_max_attempts": 1})

    with pytest.raises(PermissionError, match=f"Azure container '{container}'.*access denied") as caught:
        storage.put("a.parquet", tmp_path / "f")

    assert_one_line_without(str(caught.value), "Zm9yZ2VkLXNpZ25hdHVyZQ", "sig=")
    assert caught.value.__cause__ is None


def test_azure_read_only_sas_cannot_write_and_says_which_permissions_are_needed(
    azurite_service: AzuriteService, tmp_path: Path
) -> None:
    container = azurite_service.create_container()
    sas_url = azurite_service.container_sas_url(container, permission="rl")
    (tmp_path / "f").write_bytes(b"x")
    storage = AzureStorage.from_config(f"azure://{container}", {"azure_sas_url": sas_url, "azure_max_attempts": 1})

    with pytest.raises(PermissionError, match="read, add, create, write and list") as caught:
        storage.put("a.parquet", tmp_path / "f")

    assert_one_line_without(str(caught.value), sas_signature(sas_url))


def test_azure_missing_container_is_a_one_line_error(azurite_service: AzuriteService, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    storage = AzureStorage.from_config(
        "azure://no-such-container", {"azure_connection_string": azurite_service.connection_string}
    )

    with pytest.raises(FileNotFoundError, match=r"Azure container 'no-such-container'.*does not exist") as caught:
        storage.put("a.parquet", tmp_path / "f")

    assert_one_line_without(str(caught.value), azurite_service.account_key)


def test_azure_secrets_never_appear_in_display_url_or_repr(azurite_service: AzuriteService) -> None:
    container = azurite_service.create_container()
    sas_url = azurite_service.container_sas_url(container)
    storage = AzureStorage.from_config(f"azure://{container}/cio/", {"azure_sas_url": sas_url})

    assert storage.display_url == f"azure://{container}/cio"
    assert repr(storage) == f"AzureStorage('azure://{container}/cio')"
    assert sas_signature(sas_url) not in storage.display_url + repr(storage)


FAKE_SIG = "c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"azure_sas_url": f"https://acct.blob.core.windows.net/other?sv=2024-11-04&sp=racwl&sig={FAKE_SIG}"},
            "azure_sas_url is for container 'other', but bucket_url names container 'exports'",
        ),
        (
            {"azure_sas_url": f"https://acct.blob.core.windows.net/?sv=2024-11-04&sp=racwl&sig={FAKE_SIG}"},
            "not a container SAS URL",
        ),
        ({"azure_sas_url": "https://acct.blob.core.windows.net/exports"}, "carries no SAS token"),
        ({}, "set exactly one of azure_sas_url or azure_connection_string"),
        (
            {
                "azure_sas_url": f"https://acct.blob.core.windows.net/exports?sig={FAKE_SIG}",
                "azure_connection_string": "AccountName=a;AccountKey=c2VjcmV0",
            },
            "set exactly one",
        ),
        ({"azure_connection_string": "AccountKey=c2VjcmV0;nonsense"}, "azure_connection_string is unusable"),
    ],
    ids=["other-container", "account-sas", "no-token", "no-credentials", "both-credentials", "bad-connection-string"],
)
def test_azure_bad_settings_are_one_line_config_errors_without_secrets(config: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        AzureStorage.from_config("azure://exports/cio", config)

    assert_one_line_without(str(caught.value), FAKE_SIG, "c2VjcmV0LXNpZ25hdHVyZQ", "c2VjcmV0")
    assert caught.value.__cause__ is None


# --- GCS --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["inline", "file"])
def test_gcs_service_account_key_is_used_and_never_leaks_into_errors(
    gcs_service: GCSService, tmp_path: Path, form: str
) -> None:
    key = service_account_key(token_uri=f"http://127.0.0.1:{free_port()}/token")  # nothing listens there
    key_json = json.dumps(key)
    (tmp_path / "key.json").write_text(key_json)
    (tmp_path / "f").write_bytes(b"x")
    storage = GCSStorage.from_config(
        f"gs://{gcs_service.create_bucket()}",
        {
            "gcs_endpoint_url": gcs_service.endpoint_url,
            "gcs_service_account_json": key_json if form == "inline" else str(tmp_path / "key.json"),
            "gcs_retry_timeout_s": 1,
        },
    )

    with pytest.raises(OSError, match="GCS bucket") as caught:
        storage.put("a.parquet", tmp_path / "f")

    private_key_body = key["private_key"].splitlines()[1]
    assert_one_line_without(str(caught.value) + repr(storage) + storage.display_url, private_key_body, key_json)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{"type": "service_account", "private_key": "-----BEGIN', "not valid JSON"),
        ('{"type": "service_account", "private_key": "k3y-m4terial"}', "not a usable service-account key"),
        ("k3y-m4terial-not-a-path", "neither inline JSON nor the path of a readable file"),
    ],
)
def test_gcs_bad_service_account_key_is_a_one_line_error_that_does_not_echo_it(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        GCSStorage.from_config("gs://bucket", {"gcs_service_account_json": value})

    assert_one_line_without(str(caught.value), "k3y-m4terial", "BEGIN")


def test_gcs_missing_bucket_is_a_one_line_error(gcs_service: GCSService, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    storage = GCSStorage.from_config("gs://no-such-bucket-here/p", {"gcs_endpoint_url": gcs_service.endpoint_url})

    with pytest.raises(FileNotFoundError, match=r"GCS bucket 'no-such-bucket-here'.*does not exist"):
        storage.put("a.parquet", tmp_path / "f")


def test_gcs_emulator_host_environment_variable_is_honoured(
    gcs_service: GCSService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_service.endpoint_url)
    bucket = gcs_service.create_bucket()
    (tmp_path / "f").write_bytes(b"via env")

    GCSStorage.from_config(f"gs://{bucket}/p", {}).put("a.parquet", tmp_path / "f")

    assert gcs_service.client().bucket(bucket).blob("p/a.parquet").download_as_bytes() == b"via env"


def gcs_config(gcs: GCSService, **overrides: t.Any) -> dict[str, t.Any]:
    return {"gcs_endpoint_url": gcs.endpoint_url, **overrides}


def test_gcs_file_goes_up_in_chunks_while_it_is_written_and_appears_whole_when_finished(
    gcs_service: GCSService, tmp_path: Path
) -> None:
    bucket = gcs_service.create_bucket()
    storage = GCSStorage.from_config(f"gs://{bucket}/exports", gcs_config(gcs_service, gcs_chunk_size_mb=1))
    growing = tmp_path / "f.part"
    first, second, last = os.urandom(MIB + MIB // 2), os.urandom(MIB), os.urandom(1024)
    growing.write_bytes(first)

    upload = storage.start_upload("f.parquet")
    upload.send(growing, len(first))  # one whole 1 MiB chunk; the last half MiB waits for more
    append(growing, second)
    upload.send(growing, len(first) + len(second))  # one more chunk: 2 MiB sent, half a MiB waiting
    assert gcs_service.bytes_in_open_uploads(bucket) == [2 * MIB]
    assert not storage.exists("f.parquet")

    append(growing, last)
    upload.finish(growing)

    assert gcs_service.client().bucket(bucket).blob("exports/f.parquet").download_as_bytes() == first + second + last
    assert gcs_service.bytes_in_open_uploads(bucket) == []


def test_gcs_upload_in_chunks_dropped_before_it_is_finished_never_becomes_an_object(
    gcs_service: GCSService, tmp_path: Path
) -> None:
    """As when a run fails while a file goes up: the chunks sent stay in an open session, no object."""
    bucket = gcs_service.create_bucket()
    storage = GCSStorage.from_config(f"gs://{bucket}", gcs_config(gcs_service, gcs_chunk_size_mb=1))
    (tmp_path / "f").write_bytes(os.urandom(MIB + MIB // 2))
    upload = storage.start_upload("f.parquet")
    upload.send(tmp_path / "f", MIB + MIB // 2)

    upload.abort()
    del upload
    gc.collect()

    assert not storage.exists("f.parquet")
    assert gcs_service.bytes_in_open_uploads(bucket) == [MIB]


def test_gcs_upload_in_chunks_never_overwrites_a_key_taken_before_it_starts(
    gcs_service: GCSService, tmp_path: Path
) -> None:
    """Taken before the upload starts: refused before any chunk is sent. (Taken while it runs: GCS refuses
    the last chunk by `ifGenerationMatch=0`, which the emulator ignores; test_bucket_faults.py gives GCS's
    answer through the fault proxy.)"""
    bucket = gcs_service.create_bucket()
    storage = GCSStorage.from_config(f"gs://{bucket}", gcs_config(gcs_service))
    (tmp_path / "theirs").write_bytes(b"theirs")
    storage.put("taken.parquet", tmp_path / "theirs")

    with pytest.raises(ObjectExistsError, match=f"gs://{bucket}/taken.parquet already exists"):
        storage.start_upload("taken.parquet")

    assert storage.get_bytes("taken.parquet") == b"theirs"
    assert gcs_service.bytes_in_open_uploads(bucket) == []


# --- Settings fragments -----------------------------------------------------------------------------

SECRET_SETTINGS = {
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "azure_sas_url",
    "azure_connection_string",
    "gcs_service_account_json",
}


def test_backend_settings_are_documented_and_secrets_are_marked_secret() -> None:
    properties = [prop for cls in (S3Storage, AzureStorage, GCSStorage) for prop in cls.settings]
    schema = th.PropertiesList(*properties).to_dict()["properties"]

    assert len(schema) == len(properties)  # no name collides across backends
    assert all(spec.get("description") for spec in schema.values())
    assert {name for name, spec in schema.items() if spec.get("secret")} == SECRET_SETTINGS
    assert all(schema[name].get("writeOnly") for name in SECRET_SETTINGS)
