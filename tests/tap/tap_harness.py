"""Running tap-customerio in-process against the simulator and reading what it emitted."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tap_customerio.tap import TapCustomerIO

API_KEY = "sim-key"


def tap_config(sim: Any, **overrides: Any) -> dict[str, Any]:
    """Config pointing the tap at `sim`, with the fast settings tests need (overridable)."""
    config = {
        "app_api_key": API_KEY,
        "api_url": sim.base_url,
        "max_requests_per_second": 1000,
        "request_timeout": 5,
        "max_retries": 10,
        "lookback_window_minutes": 0,
        "activities_lookback_minutes": 0,
        "messages_lookback_days": 0,
    }
    config.update(overrides)
    return config


@dataclass
class TapRun:
    """Messages one sync wrote to stdout, plus the log it produced."""

    messages: list[dict[str, Any]]
    log: str
    stdout: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for message in self.messages:
            if message["type"] == "RECORD":
                self.records.setdefault(message["stream"], []).append(message["record"])

    @property
    def final_state(self) -> dict[str, Any]:
        """The last STATE message's value."""
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else {}

    def keys(self, stream: str, *key: str) -> Counter:
        """How often each primary-key value of `stream` was emitted."""
        return Counter(
            tuple(record[k] for k in key) if len(key) > 1 else record[key[0]] for record in self.records.get(stream, [])
        )

    def schema(self, stream: str) -> dict[str, Any]:
        """The SCHEMA message of `stream`."""
        return next(m["schema"] for m in self.messages if m["type"] == "SCHEMA" and m["stream"] == stream)


def catalog_for(
    config: dict[str, Any],
    streams: Iterable[str],
    *,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The discovered catalog with only `streams` selected; `metadata` is merged into each selected stream's
    root metadata (e.g. `{"replication-method": "FULL_TABLE"}`, as Meltano's `metadata:` extra writes it)."""
    wanted = set(streams)
    tap = TapCustomerIO(config=config, setup_mapper=False)
    catalog = copy.deepcopy(tap.catalog_dict)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] in wanted
                if metadata and entry["tap_stream_id"] in wanted:
                    item["metadata"].update(metadata)
    return catalog


def run_tap(
    config: dict[str, Any],
    streams: Iterable[str] | None = None,
    *,
    state: dict | None = None,
    catalog: dict[str, Any] | None = None,
) -> TapRun:
    """Sync in-process, capturing stdout (Singer messages) and the tap's log."""
    if catalog is None and streams is not None:
        catalog = catalog_for(config, streams)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with contextlib.redirect_stdout(out):
            tap = TapCustomerIO(config=config, catalog=catalog, state=copy.deepcopy(state or {}))
            tap.sync_all()
            out.flush()
    finally:
        root.removeHandler(handler)
    text = out.buffer.getvalue().decode()
    messages = [json.loads(line) for line in text.splitlines() if line.strip()]
    return TapRun(messages=messages, log=log.getvalue(), stdout=text)
