"""The target's settings: their schema (what `--about` and Meltano show) and the checks that make a
setting that cannot work fail at start, naming the setting, before any input is read.

The schema carries every per-value rule (types, ranges, choices) and every default, so singer-sdk's
config validation refuses those; `check_settings` adds the rules that span settings or need the
environment. The target reads its settings through `Settings`, built once from the validated config,
whose defaults are the schema's.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t
from pathlib import Path

from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import TARGET_LOAD_METHOD_CONFIG

from target_parquet_bucket.naming import DEFAULT_TEMPLATE
from target_parquet_bucket.storage import DEFAULT_BUCKET_URL, backend_settings
from target_parquet_bucket.table_settings import TABLE_SETTINGS
from target_parquet_bucket.writers import COMPRESSIONS, FORMATS

#: The only `load_method` (a singer-sdk setting) that files can honour: every file is new data.
APPEND_ONLY = TARGET_LOAD_METHOD_CONFIG["properties"]["load_method"]["default"].value

#: singer-sdk reports schema violations as "<reason> in config['<setting>']".
_SDK_ERROR = re.compile(r"^(?P<reason>.*) in config\[(?P<path>.+)\]$", re.DOTALL)


class SettingsError(ValueError):
    """A setting that cannot work; the message starts with the setting's name."""


SETTINGS = th.PropertiesList(
    th.Property(
        "bucket_url",
        th.StringType,
        default=DEFAULT_BUCKET_URL,
        description=(
            "Where files go: a local folder (path or `file://`), `s3://bucket/prefix`, "
            "`azure://container/path` or `gs://bucket/prefix`."
        ),
    ),
    th.Property(
        "format",
        th.StringType,
        default="parquet",
        allowed_values=list(FORMATS),
        description="File format: `parquet`, `csv` or `jsonl`.",
    ),
    th.Property(
        "compression",
        th.StringType,
        default="snappy",
        allowed_values=list(COMPRESSIONS),
        description=(
            "Parquet codec (`snappy`, `zstd`, `gzip`, `none`). For csv/jsonl, `gzip`/`zstd` compress "
            "the whole file (`.csv.gz`, `.jsonl.zst`); `snappy`/`none` leave it uncompressed."
        ),
    ),
    th.Property(
        "file_name_template",
        th.StringType,
        default=DEFAULT_TEMPLATE,
        description=(
            "Object name relative to the bucket prefix. Tokens: `{stream}`, `{version}`, "
            "`{workspace_id}`, `{sequence}`, `{date}`, `{timestamp}`, `{format}`; "
            "`{stream}` and `{sequence}` are required. "
            "The default is Customer.io's export naming (flat); "
            "`{stream}/{stream}_v{version}_{workspace_id}_{sequence}.{format}` gives each stream its own "
            "folder, for dataset readers. Partition folders go just above the file name."
        ),
    ),
    th.Property(
        "split_initial_sync_streams",
        th.ArrayType(th.StringType),
        default=[],
        description=(
            "Streams whose first run (no `_meta/sequences/` marker yet) is named with two sequence numbers, "
            "as Customer.io splits the initial metrics history: `{sequence}` renders `<sequence1>_<sequence2>` "
            "(one sequence for the run, then part 1, 2, ... per file), e.g. `metrics_v4_123_1_1.parquet`. "
            "Later runs use one sequence, above the first run's."
        ),
    ),
    th.Property(
        "workspace_id",
        th.CustomType({"type": ["string", "integer"], "pattern": "^[0-9]+$", "minimum": 0}),
        default="0",
        description="Customer.io workspace id (an integer, or digits as a string), for the `{workspace_id}` token. "
        "Unset (`0`): a stream whose records carry `workspace_id` is named with that value, the others with `0`.",
    ),
    th.Property(
        "version",
        th.StringType(pattern="^[A-Za-z0-9_-][A-Za-z0-9._-]*$"),
        default="4",
        description="Export schema version, for the `{version}` token (Customer.io's current is 4).",
    ),
    th.Property(
        "partition_by",
        th.StringType,
        description=(
            "Record field for Hive-style folders `<field>=<value>/` (dates of date-time fields, e.g. "
            "`created_at=2026-11-22/`). Streams without the field are not partitioned."
        ),
    ),
    th.Property(
        "partition_by_load_date",
        th.BooleanType,
        default=False,
        description="Put files in a `dt=<UTC load date>/` folder.",
    ),
    th.Property(
        "native_nested",
        th.BooleanType,
        default=False,
        description=(
            "Write objects/arrays whose schema declares properties/items as native parquet "
            "structs/lists instead of JSON strings (the default, as Customer.io does)."
        ),
    ),
    th.Property(
        "allow_case_colliding_columns",
        th.BooleanType,
        default=False,
        description=(
            "Accept streams with columns differing only in case (`id`, `Id`). Off by default: "
            "case-insensitive readers (DuckDB, Snowflake) rename or merge such columns."
        ),
    ),
    th.Property(
        "max_file_size_mb",
        th.IntegerType(minimum=1),
        default=100,
        description="Roll to a new file once a file reaches about this size.",
    ),
    th.Property(
        "max_file_rows",
        th.IntegerType(minimum=0),
        default=0,
        description="Roll to a new file after this many rows (0: no row limit).",
    ),
    th.Property(
        "row_group_rows",
        th.IntegerType(minimum=1),
        default=100_000,
        description=(
            "Rows per parquet row group, at most ~48 MB of data (memory holds about one row group per open file)."
        ),
    ),
    th.Property(
        "batch_size_mb",
        th.IntegerType(minimum=1),
        default=8,
        description=(
            "Decode a stream's buffered records once they reach this many MB (or `batch_size_rows` "
            "records): bounds the memory used by decoding, however wide the records."
        ),
    ),
    th.Property(
        "state_interval_seconds",
        th.IntegerType(minimum=0),
        default=300,
        description=(
            "Longest wait (seconds) before a received STATE is passed on. Passing one on closes and uploads "
            "every open file first, so a longer interval means fewer, larger files; without a new STATE, "
            "files grow to `max_file_size_mb`."
        ),
    ),
    th.Property(
        "temp_dir",
        th.StringType,
        description="Local folder for files being written (default: the system temp folder).",
    ),
    *TABLE_SETTINGS,
    *backend_settings(),
)


#: Each setting's default: the schema's, and singer-sdk's for its built-in `load_method`.
_DEFAULTS: dict[str, t.Any] = {
    name: prop.get("default")
    for name, prop in {**TARGET_LOAD_METHOD_CONFIG["properties"], **SETTINGS.to_dict()["properties"]}.items()
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The settings the target reads (the backends' credentials and options are read by `storage`)."""

    bucket_url: str
    format: str
    compression: str
    file_name_template: str
    split_initial_sync_streams: t.Sequence[str]
    workspace_id: str
    version: str
    partition_by: str | None
    partition_by_load_date: bool
    native_nested: bool
    allow_case_colliding_columns: bool
    max_file_size_mb: int
    max_file_rows: int
    row_group_rows: int
    batch_size_mb: int
    state_interval_seconds: int
    temp_dir: str | None
    table_format: str
    iceberg_catalog_uri: str | None
    iceberg_namespace: str
    table_compact_every_commits: int
    table_retention_hours: int
    delta_upsert_commit_mb: int
    #: singer-sdk's built-in target settings (`batch_size_rows` as given: `check_settings` checks it).
    load_method: str
    batch_size_rows: t.Any
    stream_maps: t.Mapping[str, t.Any] | None
    flattening_enabled: bool

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """Each setting from the (validated) config; one unset, null or empty takes its default."""
        values = {field.name: _setting(config, field.name) for field in dataclasses.fields(cls)}
        values["workspace_id"] = str(values["workspace_id"])
        values["load_method"] = str(getattr(values["load_method"], "value", values["load_method"]))
        values["flattening_enabled"] = bool(values["flattening_enabled"])
        return cls(**values)

    @property
    def uses_sdk_record_path(self) -> bool:
        """Stream maps and flattening transform records one by one; only singer-sdk's path does that."""
        return bool(self.stream_maps) or self.flattening_enabled


def _setting(config: t.Mapping[str, t.Any], name: str) -> t.Any:
    value = config.get(name)
    return _DEFAULTS.get(name) if value is None or value == "" else value


def check_settings(settings: Settings) -> None:
    """Refuse, at start, settings whose values pass the schema but cannot work together or here."""
    if settings.table_format == "files" and settings.load_method != APPEND_ONLY:
        msg = (
            f"load_method: '{settings.load_method}' is not supported; only '{APPEND_ONLY}' applies to file output "
            "(every run adds new files; nothing is updated or replaced)"
        )
        raise SettingsError(msg)
    batch_size_rows = settings.batch_size_rows
    if batch_size_rows is not None and (
        isinstance(batch_size_rows, bool) or not isinstance(batch_size_rows, int) or batch_size_rows < 1
    ):
        msg = f"batch_size_rows: must be a positive integer, got {batch_size_rows!r}"
        raise SettingsError(msg)
    temp_dir = settings.temp_dir
    if temp_dir and not Path(temp_dir).expanduser().is_dir():
        msg = f"temp_dir: '{temp_dir}' is not an existing folder"
        raise SettingsError(msg)


def describe_config_errors(errors: t.Iterable[str]) -> str:
    """singer-sdk's config validation errors as one line, each starting with the setting it is about."""
    described = []
    for error in errors:
        match = _SDK_ERROR.match(error)
        if match:
            setting = ".".join(part.strip("'\"") for part in match["path"].split("]["))
            described.append(f"{setting}: {match['reason']}")
        else:
            described.append(error)
    return "; ".join(" ".join(text.split()) for text in described)
