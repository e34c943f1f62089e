"""Each emulated storage service answers real HTTP: an object written with the official SDK reads back."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from fixtures.storage_services import AzuriteService, GCSService, S3Service


def test_moto_server_round_trips_an_object_over_http(s3_service: S3Service) -> None:
    bucket = s3_service.create_bucket()
    client = s3_service.client()

    client.put_object(Bucket=bucket, Key="hello/world.txt", Body=b"hello s3")

    assert s3_service.endpoint_url.startswith("http://127.0.0.1:")
    assert client.get_object(Bucket=bucket, Key="hello/world.txt")["Body"].read() == b"hello s3"


def test_azurite_round_trips_a_blob_through_a_container_sas_url(azurite_service: AzuriteService) -> None:
    from azure.storage.blob import ContainerClient

    container = azurite_service.create_container()
    via_sas = ContainerClient.from_container_url(azurite_service.container_sas_url(container))

    via_sas.upload_blob("hello/world.txt", b"hello azure")

    via_key = azurite_service.service_client().get_container_client(container)
    assert via_key.download_blob("hello/world.txt").readall() == b"hello azure"


def test_gcs_emulator_round_trips_an_object(gcs_service: GCSService) -> None:
    bucket_name = gcs_service.create_bucket()
    bucket = gcs_service.client().bucket(bucket_name)

    bucket.blob("hello/world.txt").upload_from_string(b"hello gcs")

    assert gcs_service.endpoint_url.startswith("http://127.0.0.1:")
    assert bucket.blob("hello/world.txt").download_as_bytes() == b"hello gcs"
