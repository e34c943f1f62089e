"""The target end to end against real bucket APIs (moto S3 server, Azurite, gcp-storage-emulator):
several streams, several runs, files read back with pyarrow."""

from __future__ import annotations

import io
import json
import typing as t
from dataclasses import dataclass

import pyarrow.parquet as pq
import pytest
from target.target_runs import record_message, run_target, schema_message, state_message


@dataclass
class Bucket:
    """A target config for one backend, and a way to read what landed there."""

    config: dict[str, t.Any]
    secret: str | None
    keys: t.Callable[[], list[str]]
    read: t.Callable[[str], bytes]


def s3_bucket(request: pytest.FixtureRequest) -> Bucket:
    s3 = request.getfixturevalue("s3_service")
    name = s3.create_bucket()
    client = s3.client()
    return Bucket(
        config={
            "bucket_url": f"s3://{name}/exports/cio",
            "s3_endpoint_url": s3.endpoint_url,
            "s3_region": s3.region,
            "aws_access_key_id": s3.access_key_id,
            "aws_secret_access_key": s3.secret_access_key,
        },
        secret=s3.secret_access_key,
        keys=lambda: sorted(o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"]),
        read=lambda key: client.get_object(Bucket=name, Key=key)["Body"].read(),
    )


def azure_bucket(request: pytest.FixtureRequest) -> Bucket:
    azurite = request.getfixturevalue("azurite_service")
    container = azurite.create_container()
    sas_url = azurite.container_sas_url(container)
    client = azurite.service_client().get_container_client(container)
    return Bucket(
        config={"bucket_url": f"azure://{container}/exports/cio", "azure_sas_url": sas_url},
        secret=sas_url.split("sig=")[1].split("&")[0],
        keys=lambda: sorted(client.list_blob_names()),
        read=lambda key: client.download_blob(key).readall(),
    )


def gcs_bucket(request: pytest.FixtureRequest) -> Bucket:
    gcs = request.getfixturevalue("gcs_service")
    name = gcs.create_bucket()
    client = gcs.client()
    return Bucket(
        config={"bucket_url": f"gs://{name}/exports/cio", "gcs_endpoint_url": gcs.endpoint_url},
        secret=None,
        keys=lambda: sorted(b.name for b in client.list_blobs(name)),
        read=lambda key: client.bucket(name).blob(key).download_as_bytes(),
    )


@pytest.mark.parametrize("make_bucket", [s3_bucket, azure_bucket, gcs_bucket], ids=["s3", "azure", "gcs"])
def test_two_runs_land_customerio_named_files_and_markers_in_the_bucket(
    request: pytest.FixtureRequest, make_bucket: t.Callable[[pytest.FixtureRequest], Bucket]
) -> None:
    bucket = make_bucket(request)
    config = {**bucket.config, "workspace_id": "42"}
    for run_number in (1, 2):
        messages = [
            schema_message("deliveries", {"id": {"type": "string"}, "n": {"type": "integer"}}),
            schema_message("metrics", {"event_id": {"type": "string"}}),
            record_message("deliveries", {"id": f"d{run_number}", "n": run_number}),
            record_message("metrics", {"event_id": f"e{run_number}"}),
            state_message({"run": run_number}),
        ]
        run = run_target(messages, config)
        assert run.exit_code == 0, run.stderr
        assert run.states == [{"run": run_number}]
        if bucket.secret:
            assert bucket.secret not in run.stderr

    keys = bucket.keys()
    assert [k for k in keys if "/_meta/" not in k] == [
        "exports/cio/deliveries_v4_42_1.parquet",
        "exports/cio/deliveries_v4_42_2.parquet",
        "exports/cio/metrics_v4_42_1.parquet",
        "exports/cio/metrics_v4_42_2.parquet",
    ]
    table = pq.read_table(io.BytesIO(bucket.read("exports/cio/deliveries_v4_42_2.parquet")))
    assert table.to_pylist() == [{"id": "d2", "n": 2}]
    assert json.loads(bucket.read("exports/cio/_meta/sequences/deliveries.json"))["last"] == 2
    assert sum(k.startswith("exports/cio/_meta/manifests/") for k in keys) == 2
