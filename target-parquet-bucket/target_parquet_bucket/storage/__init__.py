"""Pick the bucket backend from `bucket_url`; backends are imported lazily so a user of one
cloud does not need the SDKs of the others installed.

Why not obstore (Rust `object_store`), which has create-only puts, retries and multipart for all four
kinds: tried against the same services the contract tests start (obstore 0.12), its create-only puts
refused an overwrite on a local folder, moto S3 and Azurite, single-part and multipart alike; but its GCS
store speaks GCS's XML API, which gcp-storage-emulator answers with 501, so the GCS backend could not be
tested at all here. Replacing three backends would leave two storage stacks and an untested fourth, so
each backend stays on its cloud's own SDK (boto3, azure-storage-blob, google-cloud-storage), which the
contract tests exercise on every kind.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

from target_parquet_bucket.storage.base import ObjectExistsError, Storage

if t.TYPE_CHECKING:
    from singer_sdk import typing as th

__all__ = ["ObjectExistsError", "Storage", "backend_settings", "open_storage"]

DEFAULT_BUCKET_URL = "./output"


def open_storage(config: t.Mapping[str, t.Any]) -> Storage:
    """Return the `Storage` for `config["bucket_url"]` (a local folder by default)."""
    url = str(config.get("bucket_url") or DEFAULT_BUCKET_URL)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "s3":
        from target_parquet_bucket.storage.s3 import S3Storage

        return S3Storage.from_config(url, config)
    if scheme == "azure":
        from target_parquet_bucket.storage.azure import AzureStorage

        return AzureStorage.from_config(url, config)
    if scheme == "gs":
        from target_parquet_bucket.storage.gcs import GCSStorage

        return GCSStorage.from_config(url, config)
    if scheme in {"", "file"} or len(scheme) == 1:  # one letter: a Windows drive, e.g. C:\out
        from target_parquet_bucket.storage.local import LocalStorage

        return LocalStorage.from_url(url)
    msg = f"bucket_url: unsupported scheme '{scheme}://' (use a path, file://, s3://, azure:// or gs://)"
    raise ValueError(msg)


def backend_settings() -> list[th.Property]:
    """Every backend's own settings, for the target's config schema and `--about`.

    The backend modules import their cloud SDKs only inside `from_config`, so importing them
    here to read their `settings` stays cheap.
    """
    from target_parquet_bucket.storage.azure import AzureStorage
    from target_parquet_bucket.storage.gcs import GCSStorage
    from target_parquet_bucket.storage.s3 import S3Storage

    return [*S3Storage.settings, *AzureStorage.settings, *GCSStorage.settings]
