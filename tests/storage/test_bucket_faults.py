"""Uploads through a faulty network: a fault-injecting proxy sits between the SDK and moto/Azurite/GCS.

Transient faults (5xx, throttling, connection resets) at a high rate are absorbed by the SDKs' own
retry policies; a persistent outage ends in one clean, secret-free error and leaves no object behind.
"""

from __future__ import annotations

import os
import typing as t

import pytest
from resilience.fault_proxy import FaultProxy

from target_parquet_bucket.storage.azure import AzureStorage
from target_parquet_bucket.storage.gcs import GCSStorage
from target_parquet_bucket.storage.s3 import S3Storage

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from fixtures.storage_services import AzuriteService, GCSService, S3Service

MIB = 1024 * 1024
AWS_SECRET = "aws-secret-7d3e"  # a known fake secret the tests look for
TRANSIENT_FAULTS = ["500", "502", "503", "reset"]


@pytest.fixture
def proxy_to() -> Iterator[t.Callable[[str], FaultProxy]]:
    """Start fault proxies in front of upstream URLs; stopped after the test."""
    proxies: list[FaultProxy] = []

    def start(upstream: str) -> FaultProxy:
        proxies.append(FaultProxy(upstream, seed=11).start())
        return proxies[-1]

    yield start
    for proxy in proxies:
        proxy.stop()


def files(tmp_path: Path) -> dict[str, bytes]:
    """Three small files and one that takes the multipart/block path (parts of 5/4 MiB)."""
    contents = {f"deliveries/deliveries_v4_42_{n}.parquet": os.urandom(64 * 1024) for n in (1, 2, 3)}
    contents["deliveries/deliveries_v4_42_4.parquet"] = os.urandom(12 * MIB)
    for key, data in contents.items():
        (tmp_path / key.replace("/", "_")).write_bytes(data)
    return contents


def s3_storage(s3: S3Service, bucket: str, endpoint_url: str, attempts: int) -> S3Storage:
    config = {
        "s3_endpoint_url": endpoint_url,
        "s3_region": s3.region,
        "aws_access_key_id": s3.access_key_id,
        "aws_secret_access_key": AWS_SECRET,
        "s3_part_size_mb": 5,
        "s3_max_attempts": attempts,
    }
    return S3Storage.from_config(f"s3://{bucket}/exports", config)


def azure_storage(azurite: AzuriteService, container: str, proxy: FaultProxy, attempts: int) -> AzureStorage:
    sas_url = azurite.container_sas_url(container).replace(
        azurite.blob_endpoint.split("/devstoreaccount1")[0], proxy.url
    )
    config = {"azure_sas_url": sas_url, "azure_block_size_mb": 4, "azure_max_attempts": attempts}
    return AzureStorage.from_config(f"azure://{container}/exports", config)


def test_s3_uploads_complete_intact_through_frequent_transient_faults(
    s3_service: S3Service, proxy_to: t.Callable[[str], FaultProxy], tmp_path: Path
) -> None:
    bucket = s3_service.create_bucket()
    proxy = proxy_to(s3_service.endpoint_url)
    proxy.inject(0.3, TRANSIENT_FAULTS)
    through_faults = s3_storage(s3_service, bucket, proxy.url, attempts=10)
    contents = files(tmp_path)

    for key in contents:
        through_faults.put(key, tmp_path / key.replace("/", "_"))

    direct = s3_storage(s3_service, bucket, s3_service.endpoint_url, attempts=1)
    assert {key: direct.get_bytes(key) for key in contents} == contents
    assert len(proxy.faults_injected()) >= 3


def test_s3_persistent_upload_failure_is_one_clean_error_and_leaves_no_object(
    s3_service: S3Service, proxy_to: t.Callable[[str], FaultProxy], tmp_path: Path
) -> None:
    bucket = s3_service.create_bucket()
    proxy = proxy_to(s3_service.endpoint_url)
    proxy.inject(1.0, ["503"], methods=["PUT", "POST"])
    (tmp_path / "f").write_bytes(os.urandom(12 * MIB))

    with pytest.raises(
        OSError, match=rf"S3 bucket '{bucket}' \(upload exports/a.parquet\) failed: .*SlowDown"
    ) as caught:
        s3_storage(s3_service, bucket, proxy.url, attempts=2).put("a.parquet", tmp_path / "f")

    assert "\n" not in str(caught.value)
    assert AWS_SECRET not in str(caught.value)
    assert s3_service.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_azure_uploads_complete_intact_through_frequent_transient_faults(
    azurite_service: AzuriteService, proxy_to: t.Callable[[str], FaultProxy], tmp_path: Path
) -> None:
    container = azurite_service.create_container()
    proxy = proxy_to(azurite_service.blob_endpoint)
    proxy.inject(0.3, TRANSIENT_FAULTS)
    through_faults = azure_storage(azurite_service, container, proxy, attempts=10)
    contents = files(tmp_path)

    for key in contents:
        through_faults.put(key, tmp_path / key.replace("/", "_"))

    direct = azurite_service.service_client().get_container_client(container)
    assert {key: direct.download_blob(f"exports/{key}").readall() for key in contents} == contents
    assert len(proxy.faults_injected()) >= 3


def test_azure_persistent_connection_resets_end_in_one_clean_error_without_the_sas(
    azurite_service: AzuriteService, proxy_to: t.Callable[[str], FaultProxy], tmp_path: Path
) -> None:
    container = azurite_service.create_container()
    proxy = proxy_to(azurite_service.blob_endpoint)
    proxy.inject(1.0, ["reset"], methods=["PUT"])
    storage = azure_storage(azurite_service, container, proxy, attempts=2)
    (tmp_path / "f").write_bytes(b"x" * 1024)

    with pytest.raises(OSError, match=rf"Azure container '{container}' \(upload exports/a.parquet\) failed") as caught:
        storage.put("a.parquet", tmp_path / "f")

    assert "\n" not in str(caught.value)
    assert "sig=" not in str(caught.value)
    assert list(azurite_service.service_client().get_container_client(container).list_blob_names()) == []


def test_gcs_uploads_complete_intact_through_frequent_transient_faults(
    gcs_service: GCSService, proxy_to: t.Callable[[str], FaultProxy], tmp_path: Path
) -> None:
    bucket = gcs_service.create_bucket()
    proxy = proxy_to(gcs_service.endpoint_url)
    proxy.inject(0.3, TRANSIENT_FAULTS)
    config = {"gcs_endpoint_url": proxy.url, "gcs_chunk_size_mb": 4}
    through_faults = GCSStorage.from_config(f"gs://{bucket}/exports", config)
    contents = files(tmp_path)

    for key in contents:
        through_faults.put(key, tmp_path / key.replace("/", "_"))

    direct = gcs_service.client().bucket(bucket)
    assert {key: direct.blob(f"exports/{key}").download_as_bytes() for key in contents} == contents
    assert len(proxy.faults_injected()) >= 3


def test_gcs_persistent_upload_failure_is_one_clean_error_and_leaves_no_object(
    gcs_service: GCSService, proxy_to: t.Callable[[str], FaultProxy], tmp_path: Path
) -> None:
    bucket = gcs_service.create_bucket()
    proxy = proxy_to(gcs_service.endpoint_url)
    proxy.inject(1.0, ["503"], methods=["POST", "PUT"])
    storage = GCSStorage.from_config(
        f"gs://{bucket}/exports", {"gcs_endpoint_url": proxy.url, "gcs_retry_timeout_s": 2}
    )
    (tmp_path / "f").write_bytes(b"x" * 1024)

    with pytest.raises(OSError, match=rf"GCS bucket '{bucket}' \(upload exports/a.parquet\) failed: .*503") as caught:
        storage.put("a.parquet", tmp_path / "f")

    assert "\n" not in str(caught.value)
    assert list(gcs_service.client().list_blobs(bucket)) == []


def test_s3_failed_multipart_upload_leaves_no_incomplete_upload_behind(
    s3_service: S3Service, proxy_to: t.Callable[[str], FaultProxy], tmp_path: Path
) -> None:
    """An incomplete multipart upload is invisible to listings but its parts are stored (and billed)."""
    bucket = s3_service.create_bucket()
    proxy = proxy_to(s3_service.endpoint_url)
    proxy.inject(1.0, ["503"], methods=["PUT"], path=r"partNumber=2")
    (tmp_path / "f").write_bytes(os.urandom(12 * MIB))

    with pytest.raises(OSError, match=r"upload exports/a.parquet\) failed"):
        s3_storage(s3_service, bucket, proxy.url, attempts=2).put("a.parquet", tmp_path / "f")

    client = s3_service.client()
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
