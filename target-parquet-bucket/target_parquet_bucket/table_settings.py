"""Settings of the table formats (`table_format` = `delta` / `iceberg`) and their start-up checks.

Kept apart from the files-layout settings: with a table format, `load_method` `upsert` and
`overwrite` are supported (the table writer merges or replaces), so they must be accepted here.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

if t.TYPE_CHECKING:
    from target_parquet_bucket.settings import Settings

TABLE_FORMATS = ("files", "delta", "iceberg")
TABLE_LOAD_METHODS = ("append-only", "upsert", "overwrite")

TABLE_SETTINGS = (
    th.Property(
        "table_format",
        th.StringType,
        default="files",
        allowed_values=list(TABLE_FORMATS),
        description=(
            "`files`: loose files named like Customer.io's export (the default). `delta`: one Delta Lake "
            "table per stream at `<bucket_url>/<stream>/`. `iceberg`: one Apache Iceberg table per stream "
            "in `iceberg_catalog_uri`. Table formats honour `load_method` (append-only, upsert, overwrite)."
        ),
    ),
    th.Property(
        "iceberg_catalog_uri",
        th.StringType,
        description=(
            "Iceberg catalog: a SQLAlchemy URI (`sqlite:////path/catalog.db`, `postgresql://…`) or an "
            "`http(s)://` Iceberg REST catalog. Default: `sqlite` file `_iceberg_catalog.db` inside a "
            "local bucket_url (required for remote buckets)."
        ),
    ),
    th.Property(
        "iceberg_catalog_token",
        th.StringType,
        secret=True,
        description="Bearer token for an Iceberg REST catalog (pyiceberg's `token`), e.g. a personal access token.",
    ),
    th.Property(
        "iceberg_catalog_credential",
        th.StringType,
        secret=True,
        description=(
            "OAuth2 client credentials `<client_id>:<client_secret>` for an Iceberg REST catalog (pyiceberg's "
            "`credential`), exchanged for a token at the catalog's token endpoint (Polaris, Lakekeeper)."
        ),
    ),
    th.Property(
        "iceberg_catalog_properties",
        th.ObjectType(additional_properties=th.StringType),
        description=(
            "Further pyiceberg catalog properties, e.g. a REST catalog's `warehouse` (Polaris: the catalog "
            "name; default: bucket_url), `prefix`, `scope`, `oauth2-server-uri` or `header.<name>`. "
            "Put secrets in iceberg_catalog_token / iceberg_catalog_credential, which are kept out of logs."
        ),
    ),
    th.Property(
        "iceberg_namespace",
        th.StringType,
        default="customerio",
        description="Iceberg namespace holding the stream tables.",
    ),
    th.Property(
        "table_compact_every_commits",
        th.IntegerType,
        default=0,
        description=(
            "Compact small files (Delta `optimize`) every N commits of a table; 0 (default): never. "
            "Iceberg: not available in pyiceberg, ignored with a warning."
        ),
    ),
    th.Property(
        "delta_upsert_commit_mb",
        th.IntegerType,
        default=10,
        description=(
            "Delta `upsert`: merge the waiting rows into the table every this many MB of Arrow data (at most "
            "`max_file_size_mb`). Each delta-rs MERGE holds several times its rows and, with random keys, scans "
            "the whole table: smaller merges need less memory, larger ones scan the table fewer times (1M "
            "`messages` upserted into their table: 10 MB peaks ~400 MiB, 100 MB ~1.3 GiB)."
        ),
    ),
    th.Property(
        "table_retention_hours",
        th.IntegerType,
        default=0,
        description=(
            "After each compaction or at the end of the run, expire table versions (Delta `vacuum`, "
            "Iceberg snapshot expiry) older than this many hours; 0 (default): keep every version."
        ),
    ),
)


class TableSettingsError(ValueError):
    """A table setting that cannot work: one line naming the setting."""


def check_table_settings(settings: Settings) -> None:
    """Refuse at start what cannot work with the chosen table format."""
    fmt = settings.table_format
    if fmt not in TABLE_FORMATS:
        msg = f"table_format: '{fmt}' is not one of {', '.join(TABLE_FORMATS)}"
        raise TableSettingsError(msg)
    if fmt == "files":
        return
    if settings.load_method not in TABLE_LOAD_METHODS:
        msg = f"load_method: '{settings.load_method}' is not one of {', '.join(TABLE_LOAD_METHODS)}"
        raise TableSettingsError(msg)
    if settings.format != "parquet":
        msg = f"format: table_format '{fmt}' stores parquet files; remove format '{settings.format}'"
        raise TableSettingsError(msg)
    if settings.partition_by_load_date:
        msg = f"partition_by_load_date: not supported with table_format '{fmt}' (use partition_by)"
        raise TableSettingsError(msg)
    for name in ("table_compact_every_commits", "table_retention_hours"):
        if getattr(settings, name) < 0:
            msg = f"{name}: must be 0 (off) or a positive number"
            raise TableSettingsError(msg)
    if settings.delta_upsert_commit_mb < 1:
        msg = f"delta_upsert_commit_mb: must be a positive number of MB, got {settings.delta_upsert_commit_mb}"
        raise TableSettingsError(msg)
