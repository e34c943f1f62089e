"""Uploads through a faulty network: a fault-injecting proxy sits between the SDK and moto/Azurite/GCS.

Transient faults (5xx, throttling, connection resets, answers lost after the store handled the request) at
a high rate are absorbed by the SDKs' own retry policies (and, for GCS chunks, by asking the session where
to go on); a persistent outage ends in one clean, secret-free error and leaves no object behind.
"""

from __future__ import annotations

import os
import typing as t

import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError
from resilience.fault_proxy import FaultProxy

from target_parquet_bucket.storage.base import ObjectExistsError

if t.TYPE_CHECKING:
    from pathlib import Path

    from fixtures.storage_services import S3Service
    from storage.conftest import Backend

    from target_parquet_bucket.storage.base import Storage

MIB = 1024 * 1024
AWS_SECRET = "aws-secret-7d3e"  # a known fake secret the tests look for
TRANSIENT_FAULTS = ["500", "502", "503", "reset", "lost_answer"]
PERSISTENT_RETRIES = {"s3_max_attempts": 10, "azure_max_attempts": 10}
FEW_RETRIES = {"s3_max_attempts": 2, "azure_max_attempts": 2, "gcs_retry_timeout_s": 2}


def files(tmp_path: Path) -> dict[str, bytes]:
    """Three small files and one that takes the multipart/block/chunked path (parts of 5/4/4 MiB)."""
    contents = {f"deliveries/deliveries_v4_42_{n}.parquet": os.urandom(64 * 1024) for n in (1, 2, 3)}
    contents["deliveries/deliveries_v4_42_4.parquet"] = os.urandom(12 * MIB)
    for key, data in contents.items():
        (tmp_path / key.replace("/", "_")).write_bytes(data)
    return contents


@pytest.mark.parametrize("backend", ["s3", "azure-sas", "gcs"], indirect=True)
def test_uploads_complete_intact_through_frequent_transient_faults(
    backend: Backend, proxied: tuple[FaultProxy, dict[str, t.Any]], tmp_path: Path
) -> None:
    proxy, through_proxy = proxied
    proxy.inject(0.3, TRANSIENT_FAULTS)
    storage = backend.open("exports", **through_proxy, **PERSISTENT_RETRIES, gcs_chunk_size_mb=4)
    contents = files(tmp_path)

    for key in contents:
        storage.put(key, tmp_path / key.replace("/", "_"))

    direct = backend.view("exports")
    assert {key: direct.read(key) for key in contents} == contents
    assert len(proxy.faults_injected()) >= 3


def test_a_lost_answer_belongs_to_a_request_the_store_handled(s3_service: S3Service) -> None:
    """What the tests below rely on: the proxy drops the answer, not the request."""
    bucket = s3_service.create_bucket()
    proxy = FaultProxy(s3_service.endpoint_url).start()
    proxy.inject(1.0, ["lost_answer"], methods=["PUT"], limit=1)
    client = s3_service.client(endpoint_url=proxy.url, config=Config(retries={"total_max_attempts": 1}))

    try:
        with pytest.raises(ConnectionClosedError):
            client.put_object(Bucket=bucket, Key="k", Body=b"handled")
    finally:
        proxy.stop()

    assert s3_service.client().get_object(Bucket=bucket, Key="k")["Body"].read() == b"handled"


@pytest.mark.parametrize(
    ("backend", "parts", "completion"),
    [
        ("s3", r"partNumber=", ("POST", r"uploadId=")),
        ("azure-sas", r"comp=block&", ("PUT", r"comp=blocklist")),
        ("gcs", r"upload_id=", ("PUT", r"upload_id=")),  # the request that sends the size makes the object
    ],
    indirect=["backend"],
)
def test_a_file_sent_in_parts_while_it_is_written_lands_whole_when_answers_are_lost(
    backend: Backend,
    proxied: tuple[FaultProxy, dict[str, t.Any]],
    tmp_path: Path,
    parts: str,
    completion: tuple[str, str],
) -> None:
    """The store handled a part, or the request that makes the object, but its answer never came back, so
    the SDK sends it again: the object still holds each part once, in order."""
    proxy, through_proxy = proxied
    storage = backend.open("exports", **through_proxy, **PERSISTENT_RETRIES, gcs_chunk_size_mb=4)
    source, written = tmp_path / "growing", b""

    proxy.inject(1.0, ["lost_answer"], methods=["PUT"], path=parts, limit=2)
    upload = storage.start_upload("a.parquet")
    for _ in range(4):  # the file grows by 3 MiB at a time; each step sends the whole parts it now holds
        chunk = os.urandom(3 * MIB)
        with source.open("ab") as stream:
            stream.write(chunk)
        written += chunk
        upload.send(source, len(written))
    method, path = completion
    proxy.inject(1.0, ["lost_answer"], methods=[method], path=path, limit=1)
    upload.finish(source)

    assert backend.view("exports").read("a.parquet") == written
    assert [e.outcome for e in proxy.faults_injected()] == ["lost_answer"] * 3


@pytest.mark.parametrize("backend", ["gcs"], indirect=True)
def test_gcs_refusing_the_last_chunk_of_an_upload_by_its_generation_condition_means_the_key_is_taken(
    backend: Backend, proxied: tuple[FaultProxy, dict[str, t.Any]], tmp_path: Path
) -> None:
    """GCS answers 412 to the request that would make the object when another one took the key meanwhile
    (`ifGenerationMatch=0`); gcp-storage-emulator ignores the condition, so the proxy gives GCS's answer."""
    proxy, through_proxy = proxied
    proxy.override(r"upload_id=", 412, b'{"error": {"code": 412, "message": "conditionNotMet"}}', methods=["PUT"])
    storage = backend.open("exports", **through_proxy)
    (tmp_path / "f").write_bytes(b"ours")
    upload = storage.start_upload("a.parquet")

    with pytest.raises(ObjectExistsError, match=r"exports/a\.parquet already exists"):
        upload.finish(tmp_path / "f")

    assert backend.view("exports").object_keys() == []


@pytest.mark.parametrize("backend", ["azure-sas"], indirect=True)
def test_azure_max_attempts_holds_for_lost_answers_beyond_the_sdks_three(
    backend: Backend, proxied: tuple[FaultProxy, dict[str, t.Any]], tmp_path: Path
) -> None:
    """azure-storage-blob caps retries of each kind (connection, answer, status) at three unless told
    otherwise, whatever the total: four lost answers in a row would fail the upload despite azure_max_attempts."""
    proxy, through_proxy = proxied
    storage = backend.open("exports", **through_proxy, azure_max_attempts=5)
    (tmp_path / "f").write_bytes(data := os.urandom(1024))
    proxy.inject(1.0, ["lost_answer"], methods=["PUT"], limit=4)

    storage.put("a.parquet", tmp_path / "f")

    assert backend.view("exports").read("a.parquet") == data
    assert [e.outcome for e in proxy.faults_injected()] == ["lost_answer"] * 4


@pytest.mark.parametrize(
    ("backend", "fault", "methods", "size", "error"),
    [
        ("s3", "503", ["PUT", "POST"], 12 * MIB, r"S3 bucket '{name}' \(upload exports/a.parquet\) failed: .*SlowDown"),
        ("azure-sas", "reset", ["PUT"], 1024, r"Azure container '{name}' \(upload exports/a.parquet\) failed"),
        ("gcs", "503", ["POST", "PUT"], 1024, r"GCS bucket '{name}' \(upload exports/a.parquet\) failed: .*503"),
    ],
    indirect=["backend"],
)
def test_a_persistent_upload_failure_is_one_clean_error_without_secrets_and_leaves_no_object(
    backend: Backend,
    proxied: tuple[FaultProxy, dict[str, t.Any]],
    tmp_path: Path,
    fault: str,
    methods: list[str],
    size: int,
    error: str,
) -> None:
    proxy, through_proxy = proxied
    proxy.inject(1.0, [fault], methods=methods)
    storage = backend.open("exports", **through_proxy, **FEW_RETRIES, aws_secret_access_key=AWS_SECRET)
    (tmp_path / "f").write_bytes(os.urandom(size))

    with pytest.raises(OSError, match=error.format(name=backend.root_url.split("://")[1])) as caught:
        storage.put("a.parquet", tmp_path / "f")

    assert "\n" not in str(caught.value)
    for secret in (AWS_SECRET, "sig="):
        assert secret not in str(caught.value)
    assert backend.view("").object_keys() == []


def upload_closed_file(storage: Storage, source: Path) -> None:
    storage.put("a.parquet", source)


def upload_file_still_being_written(storage: Storage, source: Path) -> None:
    upload = storage.start_upload("a.parquet")
    upload.send(source, source.stat().st_size)


@pytest.mark.parametrize("backend", ["s3"], indirect=True)
@pytest.mark.parametrize("upload", [upload_closed_file, upload_file_still_being_written], ids=["closed", "growing"])
def test_s3_failed_multipart_upload_leaves_no_incomplete_upload_behind(
    backend: Backend,
    proxied: tuple[FaultProxy, dict[str, t.Any]],
    s3_service: S3Service,
    tmp_path: Path,
    upload: t.Callable[[Storage, Path], None],
) -> None:
    """An incomplete multipart upload is invisible to listings but its parts are stored (and billed)."""
    proxy, through_proxy = proxied
    proxy.inject(1.0, ["503"], methods=["PUT"], path=r"partNumber=2")
    (tmp_path / "f").write_bytes(os.urandom(12 * MIB))
    storage = backend.open("exports", **through_proxy, **FEW_RETRIES)

    with pytest.raises(OSError, match=r"upload exports/a.parquet\) failed: .*SlowDown"):
        upload(storage, tmp_path / "f")

    bucket = backend.root_url.removeprefix("s3://")
    assert s3_service.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert backend.view("").object_keys() == []
