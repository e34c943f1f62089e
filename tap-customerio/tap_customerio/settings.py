"""The tap's settings: declared once, read once.

`CONFIG_SCHEMA` is what singer-sdk validates and documents (`--about`, `meltano.yml`), with each setting's
default; `Settings` is the typed, frozen view of one run's config that every module reads, built once by the
tap. A default is written only in the schema: `Settings.from_config` takes it from there.
"""

from __future__ import annotations

import dataclasses
import typing as t

from singer_sdk import typing as th

CONFIG_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    th.Property(
        "app_api_key",
        th.StringType,
        required=True,
        secret=True,
        description="Customer.io App API key (bearer token), from Settings > API Credentials > App API Keys.",
    ),
    th.Property(
        "region",
        th.StringType,
        default="us",
        allowed_values=["us", "eu"],
        description="Data center of the workspace: `us` (api.customer.io) or `eu` (api-eu.customer.io).",
    ),
    th.Property(
        "api_url",
        th.StringType,
        description="Base URL overriding `region`, e.g. a proxy or simulator (`http://127.0.0.1:8080/v1`).",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        description=(
            "Earliest time read by the event streams (`messages`, `activities`) on their first run. "
            "Without it `messages` starts 180 days back. Entity streams always emit every entity once."
        ),
    ),
    th.Property(
        "lookback_window_minutes",
        th.IntegerType(minimum=0),
        default=60,
        description=(
            "Client-side CDC re-emits records changed up to this many minutes before the bookmark, "
            "because list endpoints are not ordered by change time."
        ),
    ),
    th.Property(
        "messages_window_days",
        th.IntegerType(minimum=1, maximum=180),
        default=30,
        description=(
            "Width of each `start_ts`/`end_ts` window read from `/v1/messages`, at most 180 "
            "(the API silently caps a read at 6 months)."
        ),
    ),
    th.Property(
        "messages_lookback_days",
        th.IntegerType(minimum=0),
        default=30,
        description=(
            "Days before the `messages` bookmark that are read again, to pick up metrics recorded after delivery."
        ),
    ),
    th.Property(
        "activities_lookback_minutes",
        th.IntegerType(minimum=0),
        default=60,
        description="Minutes before the `activities` bookmark at which paging (newest first) stops.",
    ),
    th.Property(
        "include_deleted_people",
        th.BooleanType,
        default=False,
        description="Also read activities of deleted people (`deleted=true`).",
    ),
    th.Property(
        "metrics_days",
        th.IntegerType(minimum=2, maximum=3650),
        default=30,
        description="Days of daily metrics read per campaign and newsletter (newsletter metrics allow at most 45).",
    ),
    th.Property(
        "esp_suppression_domains",
        th.ArrayType(th.StringType),
        description=(
            "Sending domains whose ESP suppressions are read one by one (`domain=`), with the domain in "
            "the `eps_suppression` key; empty: one read per suppression type, without `domain`."
        ),
    ),
    th.Property(
        "max_requests_per_second",
        th.IntegerType(minimum=1),
        default=10,
        description="Request budget shared by every stream and thread of the process (the App API allows 10/s).",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=32),
        default=4,
        description=(
            "Streams synced at once, and worker threads fetching pages ahead (child streams' first "
            "pages, customer hydration, message windows), so latency does not leave the budget idle."
        ),
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0),
        default=8,
        description="Retries per request after 429, 5xx, timeouts, dropped connections or unreadable bodies.",
    ),
    th.Property(
        "retry_backoff_ms",
        th.IntegerType(minimum=0),
        default=500,
        description=(
            "Milliseconds to wait before the first retry when the server sends no `Retry-After`; "
            "doubles per retry (with jitter, at most 60 s)."
        ),
    ),
    th.Property(
        "request_timeout",
        th.IntegerType(minimum=1),
        default=60,
        description=(
            "Seconds a whole request may take (waiting for the answer and reading all of it) before it is retried."
        ),
    ),
    th.Property(
        "max_retry_after_seconds",
        th.IntegerType(minimum=0),
        default=300,
        description=(
            "Longest `Retry-After` (seconds) the tap waits after a 429; a longer one fails the stream "
            "with a message naming the wait instead of hanging."
        ),
    ),
    th.Property(
        "user_agent",
        th.StringType,
        default="tap-customerio",
        description="User-Agent header sent with every request.",
    ),
    th.Property(
        "workspace_id",
        th.CustomType({"type": ["integer", "string"], "minimum": 1, "pattern": "^[0-9]+$"}),
        description=(
            "Customer.io workspace id, an integer or a string of digits. Needed by the export streams "
            "when the key sees more than one workspace; names exported files like Customer.io's own export."
        ),
    ),
).to_dict()


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every setting of `CONFIG_SCHEMA`, typed; a setting missing from the config (or null) has its default."""

    app_api_key: str
    region: str
    api_url: str | None
    start_date: str | None
    lookback_window_minutes: int
    messages_window_days: int
    messages_lookback_days: int
    activities_lookback_minutes: int
    include_deleted_people: bool
    metrics_days: int
    esp_suppression_domains: tuple[str, ...]
    max_requests_per_second: float
    max_concurrency: int
    max_retries: int
    retry_backoff_ms: int
    request_timeout: int
    max_retry_after_seconds: int
    user_agent: str
    workspace_id: int | None

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """The settings of `config`, defaults from `CONFIG_SCHEMA`.

        singer-sdk fills the defaults into the config when it validates it; they are applied here too, so that
        a null value (the generated schema makes every optional setting nullable) means the default as well."""
        value: dict[str, t.Any] = {name: config.get(name) for name in CONFIG_SCHEMA["properties"]}
        for name, declared in CONFIG_SCHEMA["properties"].items():
            if value[name] is None:
                value[name] = declared.get("default")
        workspace_id = value["workspace_id"]
        return cls(
            **{name: int(value[name]) for name in INTEGER_SETTINGS},
            # A key pasted from a CRLF `.env` file ends in `\r`, which `requests` refuses in a header with an
            # error quoting the header, key included.
            app_api_key=str(value["app_api_key"] or "").strip(),
            region=str(value["region"]),
            api_url=value["api_url"] or None,
            start_date=value["start_date"],
            include_deleted_people=bool(value["include_deleted_people"]),
            esp_suppression_domains=tuple(value["esp_suppression_domains"] or ()),
            max_requests_per_second=float(value["max_requests_per_second"]),
            user_agent=str(value["user_agent"]),
            workspace_id=None if workspace_id in (None, "") else int(workspace_id),
        )


#: Settings read as integers.
INTEGER_SETTINGS = (
    "lookback_window_minutes",
    "messages_window_days",
    "messages_lookback_days",
    "activities_lookback_minutes",
    "metrics_days",
    "max_concurrency",
    "max_retries",
    "retry_backoff_ms",
    "request_timeout",
    "max_retry_after_seconds",
)
