"""Table writers: one Delta Lake (delta-rs) or Apache Iceberg (pyiceberg) table per stream.

The sink hands over Arrow data already decoded to the stream's schema; each `commit` is one table
commit (append, merge on the key properties, or an atomic overwrite) whose commit metadata holds
the Singer state it completes, so an operator can see which input a table version holds.
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import functools
import json
import logging
import os
import sys
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from target_parquet_bucket import iceberg_upsert
from target_parquet_bucket.redaction import redact_logs
from target_parquet_bucket.storage.azure import AzureStorage
from target_parquet_bucket.storage.s3 import S3Storage
from target_parquet_bucket.writers import MEBIBYTE

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from target_parquet_bucket.settings import Settings

logger = logging.getLogger("target-parquet-bucket")

#: Key under which each commit's metadata carries the Singer state it completes.
STATE_METADATA_KEY = "singer_state"
_ROW = "__target_parquet_bucket_row"
#: Widenings both formats allow on an existing column (Delta type widening / Iceberg promotion).
_WIDENINGS = {
    (pa.int8(), pa.int16()), (pa.int8(), pa.int32()), (pa.int8(), pa.int64()),
    (pa.int16(), pa.int32()), (pa.int16(), pa.int64()), (pa.int32(), pa.int64()),
    (pa.float32(), pa.float64()),
}  # fmt: skip


class TableSchemaError(Exception):
    """A SCHEMA change the table format cannot apply (one line: stream and column)."""


class IcebergCatalogError(Exception):
    """An Iceberg catalog or FileIO call failed; the message is one line without the catalog's secrets."""


class IcebergSettingError(ValueError):
    """An Iceberg setting that cannot work, named in one line."""


class Commit(t.NamedTuple):
    """One commit's input: the rows and how they enter the table."""

    rows: pa.Table
    mode: str  # "append" | "upsert" | "overwrite"
    keys: tuple[str, ...]
    state: dict | None


def last_per_key(rows: pa.Table, keys: t.Sequence[str]) -> pa.Table:
    """Keep, for every key, only the last row in input order (what an upsert batch means)."""
    if rows.num_rows < 2:  # nothing to deduplicate
        return rows
    numbered = rows.append_column(_ROW, pa.array(range(rows.num_rows), pa.int64()))
    last = numbered.group_by(list(keys), use_threads=False).aggregate([(_ROW, "max")])
    if last.num_rows == rows.num_rows:  # every key once (the usual case): no copy of the rows
        return rows
    rows_kept = last.column(f"{_ROW}_max")
    return rows.take(pc.take(rows_kept, pc.sort_indices(rows_kept)))


def nullable(schema: pa.Schema) -> pa.Schema:
    """Every column nullable in the table: a later SCHEMA may relax `required`, and both formats
    refuse turning a non-nullable column nullable."""
    return pa.schema([f.with_nullable(True) for f in schema], metadata=schema.metadata)


def check_evolution(stream: str, table_schema: pa.Schema, new_schema: pa.Schema) -> None:
    """New columns are fine, widenings are applied; any other type change is refused naming it."""
    for field in new_schema:
        index = table_schema.get_field_index(field.name)
        if index < 0:
            continue
        old = table_schema.field(index).type
        if _same_type(old, field.type) or (old, field.type) in _WIDENINGS:
            continue
        msg = (
            f"stream '{stream}', column '{field.name}': the table holds {old} and the new SCHEMA "
            f"says {field.type}; only new columns and int->long / float->double widening can be applied"
        )
        raise TableSchemaError(msg)


def _same_type(old: pa.DataType, new: pa.DataType) -> bool:
    """Equal up to the spelling of string/timestamp types the readers hand back."""
    if old == new:
        return True
    text = {pa.string(), pa.large_string(), pa.string_view()}
    if old in text and new in text:
        return True
    if pa.types.is_timestamp(old) and pa.types.is_timestamp(new):
        return True  # Delta/Iceberg store µs UTC; readers may report the zone as "UTC" or "+00:00"
    return pa.types.is_nested(old) and pa.types.is_nested(new)  # nested: the format merges fields


class TableStore(abc.ABC):
    """Where the stream tables live; one `commit` per call."""

    kind: str
    #: The most Arrow data an upsert commit may hold (None: `max_file_size_mb`, as for the other modes).
    max_upsert_bytes: int | None = None

    @abc.abstractmethod
    def commit(self, stream: str, commit: Commit, *, partition_by: str | None) -> None:
        """Write `commit.rows` into the stream's table as one commit."""

    @abc.abstractmethod
    def commit_count(self, stream: str) -> int:
        """How many commits the table holds (counts across runs, for compaction every N)."""

    @abc.abstractmethod
    def existing_schema(self, stream: str) -> pa.Schema | None:
        """The table's current Arrow schema, or None when it does not exist yet."""

    @abc.abstractmethod
    def housekeep(self, stream: str, *, compact: bool, retention_hours: int) -> None:
        """Compact small files and/or expire old versions of the stream's table."""


class DeltaStore(TableStore):
    """Delta tables at `<bucket_url>/<stream>/` through delta-rs."""

    kind = "delta"

    def __init__(self, root: str, storage_options: dict[str, str], *, upsert_commit_mb: int) -> None:
        """`root`: a local folder or an object-store URL delta-rs understands. `upsert_commit_mb`: a delta-rs
        merge holds, beside its source, the target rows it rewrites and the parquet it writes (measured with
        delta-rs 1.6, docs/benchmarks.md: upserting 1M `messages` peaks 1,290 MiB with 100 MiB commits and
        about 400 MiB with 10 MiB ones), so upserts commit this often."""
        self.root = root.rstrip("/")
        self.storage_options = storage_options
        self.max_upsert_bytes = upsert_commit_mb * MEBIBYTE
        _return_freed_memory_at_once()

    def uri(self, stream: str) -> str:
        """The table's location."""
        return f"{self.root}/{stream}"

    def _table(self, stream: str) -> t.Any:  # deltalake.DeltaTable
        from deltalake import DeltaTable  # optional dependency

        uri = self.uri(stream)
        if not DeltaTable.is_deltatable(uri, storage_options=self.storage_options or None):
            return None
        return DeltaTable(uri, storage_options=self.storage_options or None)

    def existing_schema(self, stream: str) -> pa.Schema | None:
        """Arrow schema of the Delta table (None before its first commit)."""
        table = self._table(stream)
        if table is None:
            return None
        return pa.schema(table.schema().to_arrow())

    def commit(self, stream: str, commit: Commit, *, partition_by: str | None) -> None:
        """Append, merge on the keys (last row per key wins) or overwrite, as one Delta commit."""
        from deltalake import CommitProperties, WriterProperties, write_deltalake

        # delta-rs buffers a whole row group (by default up to 1M rows) before encoding it, and reads
        # a target file's row group whole when a merge scans it: small row groups bound both.
        writer = WriterProperties(max_row_group_size=_DELTA_ROW_GROUP_ROWS)

        properties = CommitProperties(custom_metadata=_commit_metadata(commit.state))
        _release_free_heap()
        rows = commit.rows.cast(nullable(commit.rows.schema))
        rows, partition_by = _delta_partitioning(rows, partition_by)
        table = self._table(stream)
        if commit.mode == "upsert" and table is not None:
            source = last_per_key(rows, commit.keys)
            predicate = " AND ".join(f'target."{k}" = source."{k}"' for k in commit.keys)
            (
                table.merge(
                    source,
                    predicate=predicate,
                    source_alias="source",
                    target_alias="target",
                    merge_schema=True,
                    # The source is an Arrow table in memory already, so streaming it buys nothing;
                    # measured with delta-rs 1.6, a 1,000-row merge into a 1M-row table peaks 280 MiB
                    # above its start instead of 1,000 MiB, and delta-rs may skip target files by
                    # the source keys' min/max (which it cannot derive from a stream).
                    streamed_exec=False,
                    writer_properties=writer,
                    commit_properties=properties,
                )
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute()
            )
            return
        if commit.mode == "upsert":
            rows = last_per_key(rows, commit.keys)
        write_deltalake(
            table if table is not None else self.uri(stream),
            rows,
            mode="overwrite" if commit.mode == "overwrite" else "append",
            schema_mode="overwrite" if commit.mode == "overwrite" else "merge",
            partition_by=[partition_by] if partition_by and table is None else None,
            storage_options=None if table is not None else (self.storage_options or None),
            commit_properties=properties,
            writer_properties=writer,
            target_file_size=_DELTA_TARGET_FILE_BYTES,
            # Merges take their file size from the table's configuration only (`merge` has no such
            # argument), so a new table records it; a merge rewrites whole files, so smaller files are
            # less to hold and rewrite per merge.
            configuration=None if table is not None else {"delta.targetFileSize": str(_DELTA_TARGET_FILE_BYTES)},
        )

    def commit_count(self, stream: str) -> int:
        """Delta versions start at 0."""
        table = self._table(stream)
        return 0 if table is None else table.version() + 1

    def housekeep(self, stream: str, *, compact: bool, retention_hours: int) -> None:
        """`optimize.compact()`, then `vacuum` of files unreferenced for `retention_hours`."""
        table = self._table(stream)
        if table is None:
            return
        if compact:
            metrics = table.optimize.compact()
            logger.info("Compacted Delta table '%s': %s", stream, metrics)
        if retention_hours:
            removed = table.vacuum(retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False)
            logger.info("Vacuumed Delta table '%s': %d old files removed", stream, len(removed))


#: Rows per parquet row group and bytes per data file of Delta tables (see `DeltaStore.commit`).
_DELTA_ROW_GROUP_ROWS = 16_384
_DELTA_TARGET_FILE_BYTES = 8 * MEBIBYTE


def _return_freed_memory_at_once() -> None:
    """delta-rs allocates through its own jemalloc, which by default keeps freed pages for 10 s
    (`dirty_decay_ms`): merges a few seconds apart then each add their peak on top of the last
    one's leftovers. Decay 0 hands the pages back as soon as a merge frees them, so memory
    returns to the baseline between commits. jemalloc reads `_RJEM_MALLOC_CONF` (the prefixed
    `MALLOC_CONF` of delta-rs's jemalloc) once, when deltalake is first imported, so it is set
    before that; an operator's own value wins."""
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")


def _release_free_heap() -> None:
    """Hand the C heap's free pages back to the system before delta-rs takes a commit's memory.

    Input lines and batches of more than 512 bytes come from the C library's malloc, which keeps
    the pages of freed ones for reuse (20 of the 44 MiB of glibc's heap before each merge of a 1M
    `messages` upsert). delta-rs allocates from its own jemalloc, so a merge cannot reuse them and
    its peak comes on top. glibc's `malloc_trim` returns them (no library wraps it; Dask's docs have
    workers call it the same way). Measured on that upsert, five alternating runs: peak RSS 355-370
    MiB against 380-402 without, at the same wall time. Other C libraries have no such call.
    """
    if (trim := _malloc_trim()) is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> t.Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    return getattr(ctypes.CDLL(None), "malloc_trim", None)  # absent from musl


def _delta_partitioning(rows: pa.Table, field: str | None) -> tuple[pa.Table, str | None]:
    """Delta partitions by column values: a date-time field is partitioned by its UTC date, held
    in an added column `<field>_date` (one folder per day, not per instant)."""
    if not field or field not in rows.column_names:
        return rows, None
    if not pa.types.is_timestamp(rows.schema.field(field).type):
        return rows, field
    day = f"{field}_date"
    return rows.append_column(pa.field(day, pa.date32()), pc.cast(rows.column(field), pa.date32())), day


class IcebergStore(TableStore):
    """Iceberg tables `<namespace>.<stream>` in a SQL or REST catalog through pyiceberg."""

    kind = "iceberg"

    def __init__(self, catalog: t.Any, namespace: str, redact: Callable[[str], str] = str) -> None:
        """`catalog`: a loaded pyiceberg catalog; the namespace is created when missing. `redact`
        removes the catalog's secrets from the errors of every catalog call."""
        self.catalog = catalog
        self.namespace = namespace
        self.redact = redact
        with self._catalog_errors():
            catalog.create_namespace_if_not_exists(namespace)

    @contextlib.contextmanager
    def _catalog_errors(self) -> Iterator[None]:
        """A catalog call's error as one redacted line: a REST catalog may echo the token it was sent."""
        try:
            yield
        except TableSchemaError:
            raise
        except Exception as exc:  # noqa: BLE001 - any pyiceberg/HTTP error text may hold a secret
            reason = self.redact(" ".join(str(exc).split()))
            raise IcebergCatalogError(f"{type(exc).__name__}: {reason}") from None

    def _identifier(self, stream: str) -> tuple[str, str]:
        return (self.namespace, stream)

    def _table(self, stream: str) -> t.Any:  # pyiceberg Table
        with self._catalog_errors():
            if not self.catalog.table_exists(self._identifier(stream)):
                return None
            return self.catalog.load_table(self._identifier(stream))

    def existing_schema(self, stream: str) -> pa.Schema | None:
        """Arrow schema of the Iceberg table (None before it exists)."""
        table = self._table(stream)
        return None if table is None else table.schema().as_arrow()

    def commit(self, stream: str, commit: Commit, *, partition_by: str | None) -> None:
        """Append, upsert on the keys (last row per key wins) or overwrite, as one snapshot."""
        with self._catalog_errors():
            self._commit(stream, commit, partition_by)

    def _commit(self, stream: str, commit: Commit, partition_by: str | None) -> None:
        rows = commit.rows.cast(nullable(commit.rows.schema))
        properties = _commit_metadata(commit.state)
        table = self._table(stream)
        if table is None:
            table = self._create(stream, rows.schema, partition_by)
        elif set(rows.schema.names) - set(table.schema().column_names):
            with table.update_schema() as update:  # types were checked at SCHEMA time
                update.union_by_name(rows.schema)
        if commit.mode == "upsert":
            iceberg_upsert.upsert(table, last_per_key(rows, commit.keys), commit.keys, properties)
            return
        if commit.mode == "overwrite":
            table.overwrite(rows, snapshot_properties=properties)
        else:
            table.append(rows, snapshot_properties=properties)

    def _create(self, stream: str, schema: pa.Schema, partition_by: str | None) -> t.Any:
        from pyiceberg.transforms import DayTransform, IdentityTransform, Transform

        table = self.catalog.create_table(self._identifier(stream), schema=schema)
        if partition_by and partition_by in schema.names:
            transform: Transform[t.Any, t.Any] = (
                DayTransform() if pa.types.is_timestamp(schema.field(partition_by).type) else IdentityTransform()
            )
            with table.update_spec() as update:
                update.add_field(partition_by, transform, f"{partition_by}_{transform}")
        return self.catalog.load_table(self._identifier(stream))

    def commit_count(self, stream: str) -> int:
        """Snapshots in the table's metadata log."""
        table = self._table(stream)
        return 0 if table is None else len(table.snapshots())

    def housekeep(self, stream: str, *, compact: bool, retention_hours: int) -> None:
        """Expire snapshots older than the retention; pyiceberg has no compaction to call."""
        import datetime

        table = self._table(stream)
        if table is None:
            return
        if compact:
            logger.warning("table_compact_every_commits: pyiceberg cannot compact Iceberg tables; skipped")
        if retention_hours:
            cutoff = datetime.datetime.now(tz=datetime.timezone.utc) - datetime.timedelta(hours=retention_hours)
            with self._catalog_errors():
                table.maintenance.expire_snapshots().older_than(cutoff).commit()


def _commit_metadata(state: dict | None) -> dict[str, str]:
    """The Singer state a commit completes, as commit metadata (JSON text; `null` mid-input)."""
    return {STATE_METADATA_KEY: json.dumps(state, separators=(",", ":"), default=str)}


def open_table_store(settings: Settings, config: t.Mapping[str, t.Any]) -> TableStore:
    """The Delta or Iceberg store for `bucket_url` and the backend settings (read from `config`)."""
    url = settings.bucket_url
    root, options = object_store_location(url, config)
    if settings.table_format == "delta":
        return DeltaStore(root, options, upsert_commit_mb=settings.delta_upsert_commit_mb)
    redact = _secret_redactor(_catalog_secrets(config))
    redact_logs(redact)
    uri = settings.iceberg_catalog_uri
    properties = _iceberg_catalog_properties(url, options, config)
    try:
        return IcebergStore(_iceberg_catalog(root, properties, uri), settings.iceberg_namespace, redact)
    except IcebergSettingError:
        raise
    except Exception as exc:  # noqa: BLE001 - the REST handshake's error text may echo the token
        reason = redact(" ".join(str(exc).split()))
        if not isinstance(exc, IcebergCatalogError):
            reason = f"{type(exc).__name__}: {reason}"
        msg = f"iceberg_catalog_uri: cannot open the Iceberg catalog at {_display_uri(uri)}: {reason}"
        raise IcebergCatalogError(msg) from None


def object_store_location(url: str, config: t.Mapping[str, t.Any]) -> tuple[str, dict[str, str]]:
    """`bucket_url` as the URL and options the Rust object_store / fsspec clients take."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "s3":
        return url.rstrip("/"), _s3_options(config) | _retries(S3Storage.setting(config, "s3_max_attempts"))
    if scheme == "azure":
        options = _azure_options(config) | _retries(AzureStorage.setting(config, "azure_max_attempts"))
        return f"az://{parts.netloc}{parts.path}".rstrip("/"), options
    if scheme == "gs":
        options = {}
        if config.get("gcs_service_account_json"):
            options["google_service_account_key"] = str(config["gcs_service_account_json"])
        return url.rstrip("/"), options
    path = parts.path if scheme == "file" else url
    folder = Path(path).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder), {}


def _retries(max_attempts: int) -> dict[str, str]:
    """object_store's retries for the attempts the files mode makes per request (its own default is ten
    retries, whatever the backend's `*_max_attempts` says)."""
    return {"max_retries": str(max(int(max_attempts) - 1, 0))}


def _s3_options(config: t.Mapping[str, t.Any]) -> dict[str, str]:
    options = {
        "AWS_ACCESS_KEY_ID": config.get("aws_access_key_id"),
        "AWS_SECRET_ACCESS_KEY": config.get("aws_secret_access_key"),
        "AWS_SESSION_TOKEN": config.get("aws_session_token"),
        "AWS_REGION": config.get("s3_region") or ("us-east-1" if config.get("s3_endpoint_url") else None),
        "AWS_ENDPOINT_URL": config.get("s3_endpoint_url"),
        "AWS_PROFILE": config.get("aws_profile"),
        # Commits are made safe by S3's conditional writes (If-None-Match on the log entry).
        "AWS_CONDITIONAL_PUT": "etag",
    }
    if str(config.get("s3_endpoint_url") or "").startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    if config.get("s3_addressing_style") == "virtual":
        options["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] = "true"
    return {k: str(v) for k, v in options.items() if v}


def _azure_options(config: t.Mapping[str, t.Any]) -> dict[str, str]:
    """Connection string or SAS URL as object_store's Azure options."""
    if config.get("azure_connection_string"):
        fields = dict(part.split("=", 1) for part in str(config["azure_connection_string"]).split(";") if "=" in part)
        options = {
            "azure_storage_account_name": fields.get("AccountName", ""),
            "azure_storage_account_key": fields.get("AccountKey", ""),
        }
        if fields.get("BlobEndpoint"):
            options["azure_storage_endpoint"] = fields["BlobEndpoint"]
            options["azure_allow_http"] = str(fields["BlobEndpoint"].startswith("http://")).lower()
        return {k: v for k, v in options.items() if v}
    if config.get("azure_sas_url"):
        sas = urlsplit(str(config["azure_sas_url"]))
        segments = sas.path.strip("/").split("/")
        if len(segments) > 1:  # path style (Azurite, Azure Stack): /<account>/<container>
            account, endpoint = segments[0], f"{sas.scheme}://{sas.netloc}/{segments[0]}"
        else:  # https://<account>.blob.core.windows.net/<container>
            account, endpoint = sas.netloc.split(".")[0], f"{sas.scheme}://{sas.netloc}"
        return {
            "azure_storage_account_name": account,
            "azure_storage_sas_key": sas.query,
            "azure_storage_endpoint": endpoint,
            "azure_allow_http": str(sas.scheme == "http").lower(),
        }
    return {}


def _iceberg_catalog(root: str, properties: dict[str, str], uri: str | None) -> t.Any:
    """SQL catalog (default: sqlite next to a local bucket) or a REST catalog."""
    from pyiceberg.catalog import load_catalog  # optional dependency

    if not uri:
        if "://" in root:
            msg = "iceberg_catalog_uri: required for a remote bucket_url (a SQLAlchemy URI or an Iceberg REST URL)"
            raise IcebergSettingError(msg)
        uri = f"sqlite:///{Path(root) / '_iceberg_catalog.db'}"
    warehouse = root if "://" in root else Path(root).as_uri()
    if warehouse.startswith("az://"):  # pyiceberg names Azure Blob locations abfs://<container>/<path>
        warehouse = "abfs://" + warehouse.removeprefix("az://")
    properties = {"warehouse": warehouse, **properties}
    if str(uri).startswith(("http://", "https://")):
        return load_catalog("default", type="rest", uri=str(uri), **properties)
    rest_only = sorted({"token", "credential"} & set(properties))
    if rest_only:
        msg = (
            f"iceberg_catalog_{rest_only[0]}: only an http(s):// REST catalog takes it; iceberg_catalog_uri is not one"
        )
        raise IcebergSettingError(msg)
    return load_catalog("default", type="sql", uri=str(uri), **properties)


def _iceberg_catalog_properties(url: str, options: dict[str, str], config: t.Mapping[str, t.Any]) -> dict[str, str]:
    """FileIO properties for the bucket, the REST catalog's `token` / `credential` (OAuth2 client
    credentials `<client_id>:<client_secret>`), then `iceberg_catalog_properties` as given (they win)."""
    properties = _iceberg_io_options(url, options, config)
    for setting, name in (("iceberg_catalog_token", "token"), ("iceberg_catalog_credential", "credential")):
        if config.get(setting):
            properties[name] = str(config[setting])
    extra = config.get("iceberg_catalog_properties") or {}
    properties.update({str(k): str(v) for k, v in extra.items()})
    return properties


def _catalog_secrets(config: t.Mapping[str, t.Any]) -> list[str]:
    """The catalog credentials to keep out of logs and errors (an OAuth2 secret also on its own)."""
    secrets = [str(config.get("iceberg_catalog_token") or ""), str(config.get("iceberg_catalog_credential") or "")]
    secrets.append(secrets[1].partition(":")[2])
    return sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first: no partial leftovers


def _secret_redactor(secrets: list[str]) -> Callable[[str], str]:
    def redact(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    return redact


def _display_uri(uri: str | None) -> str:
    """The catalog URI without any user:password part (a SQLAlchemy URI may carry one)."""
    parts = urlsplit(str(uri or ""))
    if parts.password is None:
        return str(uri)
    return parts._replace(
        netloc=f"{parts.username}:***@{parts.hostname}{f':{parts.port}' if parts.port else ''}"
    ).geturl()


def _iceberg_io_options(url: str, options: dict[str, str], config: t.Mapping[str, t.Any]) -> dict[str, str]:
    """pyiceberg FileIO properties for the bucket's credentials (the same ones Delta's object_store takes)."""
    if url.startswith("s3://"):
        mapping = {
            "AWS_ACCESS_KEY_ID": "s3.access-key-id",
            "AWS_SECRET_ACCESS_KEY": "s3.secret-access-key",
            "AWS_SESSION_TOKEN": "s3.session-token",
            "AWS_REGION": "s3.region",
            "AWS_ENDPOINT_URL": "s3.endpoint",
        }
        properties = {mapping[k]: v for k, v in options.items() if k in mapping}
        properties["s3.retry-strategy-impl"] = _s3_retry_strategy(S3Storage.setting(config, "s3_max_attempts"))
        return properties
    if url.startswith("azure://"):
        return _iceberg_azure_options(options)
    if url.startswith("gs://"):
        return _iceberg_gcs_options(config)
    return {}


def _s3_retry_strategy(max_attempts: int) -> str:
    """The dotted name of a pyarrow S3 retry strategy making `max_attempts` attempts per request, for
    pyiceberg's `s3.retry-strategy-impl`: pyiceberg builds the strategy from a class name, without
    arguments (and pyarrow's default makes 3 attempts), so the count lives in a class made here."""
    from pyarrow.fs import AwsStandardS3RetryStrategy

    name = f"_S3Attempts{int(max_attempts)}"
    if name not in globals():

        def __init__(self: AwsStandardS3RetryStrategy) -> None:
            AwsStandardS3RetryStrategy.__init__(self, max_attempts=int(max_attempts))

        globals()[name] = type(name, (AwsStandardS3RetryStrategy,), {"__init__": __init__})
    return f"{__name__}.{name}"


def _iceberg_gcs_options(config: t.Mapping[str, t.Any]) -> dict[str, str]:
    """GCS through fsspec's gcsfs, which speaks the JSON API (pyarrow's GCS client waits on Google's
    metadata server first). gcsfs takes a service-account key as a file path only: inline key JSON is
    refused rather than written to disk. An endpoint without a key means anonymous requests (an emulator),
    as for file output."""
    # gcsfs's default file system first asks the gRPC storage-control API for each bucket's layout (for
    # zonal buckets), again on every call while it has no answer; an emulator or a JSON-only endpoint never
    # answers. The plain JSON-API file system serves Iceberg's whole-object reads and writes.
    os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    key = str(config.get("gcs_service_account_json") or "").strip()
    if key.startswith("{"):
        msg = "gcs_service_account_json: table_format iceberg on GCS needs the key file's path, not the key's JSON text"
        raise IcebergSettingError(msg)
    properties = {"py-io-impl": "pyiceberg.io.fsspec.FsspecFileIO"}
    if config.get("gcs_project"):
        properties["gcs.project-id"] = str(config["gcs_project"])
    if config.get("gcs_endpoint_url"):
        properties["gcs.service.host"] = str(config["gcs_endpoint_url"])
    if key or config.get("gcs_endpoint_url"):
        properties["gcs.oauth2.token"] = key or "anon"
    return properties


def _iceberg_azure_options(options: dict[str, str]) -> dict[str, str]:
    """Azure Blob through pyarrow's AzureFileSystem (pyiceberg would otherwise pick fsspec's adlfs, which the
    target does not install). An endpoint other than `<account>.blob.core.windows.net` (Azurite, Azure Stack)
    is passed as the blob and DFS authority, which pyarrow addresses path-style like the emulator expects."""
    mapping = {
        "azure_storage_account_name": "adls.account-name",
        "azure_storage_account_key": "adls.account-key",
        "azure_storage_sas_key": "adls.sas-token",
    }
    properties = {mapping[k]: v for k, v in options.items() if k in mapping}
    if "adls.sas-token" in properties:  # pyarrow sends a token without its leading "?" as part of the path
        properties["adls.sas-token"] = "?" + properties["adls.sas-token"].lstrip("?")
    properties["py-io-impl"] = "pyiceberg.io.pyarrow.PyArrowFileIO"
    endpoint = urlsplit(options.get("azure_storage_endpoint", ""))
    account = options.get("azure_storage_account_name", "")
    if endpoint.netloc and endpoint.netloc != f"{account}.blob.core.windows.net":
        for service in ("blob", "dfs"):  # pyarrow asks the DFS endpoint whether the account has folders
            properties[f"adls.{service}-storage-authority"] = endpoint.netloc
            properties[f"adls.{service}-storage-scheme"] = endpoint.scheme
    return properties
