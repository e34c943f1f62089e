"""`backend`: one fresh, empty bucket per test on each storage backend, opened the way the target
opens it (`open_storage(config)`, which dispatches on `bucket_url`), and read back independently of
the target's storage code (`view(prefix)`: the service's own SDK, or the file system).

Part/block/chunk sizes are lowered so a 20 MiB file already takes the multipart/chunked path.
"""

from __future__ import annotations

import dataclasses
import typing as t

import pytest
from fixtures import bucket_audit
from resilience.fault_proxy import FaultProxy

from target_parquet_bucket.storage import open_storage

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from target_parquet_bucket.storage.base import Storage

SMALL_PARTS = {
    "s3_part_size_mb": 5,
    "s3_multipart_threshold_mb": 5,
    "azure_block_size_mb": 4,
    "azure_stage_threshold_mb": 4,
    "gcs_chunk_size_mb": 1,
}


@dataclasses.dataclass
class Backend:
    """A fresh bucket on one backend; `open(prefix)` gives a Storage rooted at that prefix inside it,
    `view(prefix)` the objects under that prefix as the service lists them."""

    name: str
    root_url: str
    config: dict[str, t.Any]
    view: t.Callable[[str], bucket_audit.BucketView]

    def url(self, prefix: str = "") -> str:
        """The `bucket_url` for `prefix` inside this bucket."""
        return f"{self.root_url}/{prefix}".rstrip("/")

    def open(self, prefix: str = "", **overrides: t.Any) -> Storage:
        """A Storage for `prefix` in this bucket, with extra settings merged over the defaults."""
        return open_storage({**self.config, **overrides, "bucket_url": self.url(prefix)})


def _local(_request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    return Backend("local", str(bucket), {}, lambda prefix: bucket_audit.LocalFolder(bucket / prefix))


def _s3(request: pytest.FixtureRequest, _tmp: Path) -> Backend:
    s3 = request.getfixturevalue("s3_service")
    config = {
        "s3_endpoint_url": s3.endpoint_url,
        "s3_region": s3.region,
        "aws_access_key_id": s3.access_key_id,
        "aws_secret_access_key": s3.secret_access_key,
        **SMALL_PARTS,
    }
    name = s3.create_bucket()
    return Backend("s3", f"s3://{name}", config, lambda prefix: bucket_audit.S3Prefix(s3.client(), name, prefix))


def azure_view(azurite: t.Any, container: str) -> t.Callable[[str], bucket_audit.BucketView]:
    """Views of `container` read with Azurite's own client."""
    client = azurite.service_client().get_container_client(container)
    return lambda prefix: bucket_audit.AzurePrefix(client, prefix)


def _azure_sas(request: pytest.FixtureRequest, _tmp: Path) -> Backend:
    azurite = request.getfixturevalue("azurite_service")
    container = azurite.create_container()
    config = {"azure_sas_url": azurite.container_sas_url(container), **SMALL_PARTS}
    return Backend("azure-sas", f"azure://{container}", config, azure_view(azurite, container))


def _azure_connection_string(request: pytest.FixtureRequest, _tmp: Path) -> Backend:
    azurite = request.getfixturevalue("azurite_service")
    config = {"azure_connection_string": azurite.connection_string, **SMALL_PARTS}
    container = azurite.create_container()
    return Backend("azure-connection-string", f"azure://{container}", config, azure_view(azurite, container))


def _gcs(request: pytest.FixtureRequest, _tmp: Path) -> Backend:
    gcs = request.getfixturevalue("gcs_service")
    config = {"gcs_endpoint_url": gcs.endpoint_url, "gcs_project": gcs.project, **SMALL_PARTS}
    name = gcs.create_bucket()
    return Backend(
        "gcs", f"gs://{name}", config, lambda prefix: bucket_audit.GCSPrefix(gcs.client().bucket(name), prefix)
    )


BACKENDS = {
    "local": _local,
    "s3": _s3,
    "azure-sas": _azure_sas,
    "azure-connection-string": _azure_connection_string,
    "gcs": _gcs,
}


def upstream_and_settings(backend: Backend, proxy_url: str) -> tuple[str, dict[str, t.Any]]:
    """The service URL a fault proxy forwards to, and the settings that send `backend`'s traffic through
    the proxy at `proxy_url` instead."""
    if backend.name == "s3":
        return backend.config["s3_endpoint_url"], {"s3_endpoint_url": proxy_url}
    if backend.name == "gcs":
        return backend.config["gcs_endpoint_url"], {"gcs_endpoint_url": proxy_url}
    if backend.name == "azure-sas":
        sas_url = backend.config["azure_sas_url"]
        upstream = sas_url.split("/devstoreaccount1/")[0]
        return upstream, {"azure_sas_url": sas_url.replace(upstream, proxy_url)}
    msg = f"no fault proxy for backend {backend.name}"
    raise ValueError(msg)


@pytest.fixture
def proxied(backend: Backend) -> Iterator[tuple[FaultProxy, dict[str, t.Any]]]:
    """A fault proxy in front of the backend's service, and the settings that send the traffic through it."""
    upstream, _ = upstream_and_settings(backend, "")
    proxy = FaultProxy(upstream, seed=11).start()
    yield proxy, upstream_and_settings(backend, proxy.url)[1]
    proxy.stop()


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Every backend in turn, each with its own empty bucket."""
    return BACKENDS[request.param](request, tmp_path)
