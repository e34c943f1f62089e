"""Running tap-customerio against the simulator and reading what it emitted.

Two ways, one for each kind of question: `run_tap` syncs in-process (records, state, schemas, log);
`run_tap_process` runs the installed `tap-customerio` console script as a process (exit code, the
stderr a user reads, what reaches stdout), for failures and for what a real orchestrator sees.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fixtures.outcome import last_line

from tap_customerio.tap import TapCustomerIO

API_KEY = "sim-key"
TAP_EXECUTABLE = Path(sys.executable).with_name("tap-customerio")
PROCESS_TIMEOUT_S = 300


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
    error: Exception | None = None  # what ended a `may_fail` sync early

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
    metadata_of: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The discovered catalog with only `streams` selected; `metadata` is merged into the root metadata of
    each selected stream, or of the streams in `metadata_of` when given (e.g.
    `{"replication-method": "FULL_TABLE"}`, as Meltano's `metadata:` extra writes it)."""
    wanted = set(streams)
    described = wanted if metadata_of is None else set(metadata_of)
    tap = TapCustomerIO(config=config, setup_mapper=False)
    catalog = copy.deepcopy(tap.catalog_dict)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] in wanted
                if metadata and entry["tap_stream_id"] in described:
                    item["metadata"].update(metadata)
    return catalog


def run_tap(
    config: dict[str, Any],
    streams: Iterable[str] | None = None,
    *,
    state: dict | None = None,
    catalog: dict[str, Any] | None = None,
    may_fail: bool = False,
) -> TapRun:
    """Sync in-process, capturing stdout (Singer messages) and the tap's log.

    With `may_fail`, an error ending the sync is kept in `TapRun.error` with what was emitted before it,
    as a pipeline would have delivered it (records, and the last state the target would have stored).
    """
    if catalog is None and streams is not None:
        catalog = catalog_for(config, streams)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    root = logging.getLogger()
    root.addHandler(handler)
    error = None
    try:
        with contextlib.redirect_stdout(out):
            tap = TapCustomerIO(config=config, catalog=catalog, state=copy.deepcopy(state or {}))
            try:
                tap.sync_all()
            except Exception as exc:
                if not may_fail:
                    raise
                error = exc
            out.flush()
    finally:
        root.removeHandler(handler)
    text = out.buffer.getvalue().decode()
    messages = [json.loads(line) for line in text.splitlines() if line.strip()]
    return TapRun(messages=messages, log=log.getvalue(), stdout=text, error=error)


@dataclass
class TapProcessRun:
    """Exit code and output of one `tap-customerio` process."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def stdout_lines(self) -> list[str]:
        """Non-empty stdout lines."""
        return [line for line in self.stdout.splitlines() if line.strip()]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """stdout parsed as JSON lines (the Singer messages)."""
        return [json.loads(line) for line in self.stdout_lines]

    @property
    def last_stderr_line(self) -> str:
        """The line a user reads first when a run fails."""
        return last_line(self.stderr)


def run_tap_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None, wrapper: Sequence[str] = ()
) -> TapProcessRun:
    """Run `tap-customerio <args>` to completion in `cwd`; its stderr is also kept there for post-mortems.

    `wrapper` is a command prefix the tap runs under, given the tap's command line as its last arguments.
    """
    result = subprocess.run(  # our own console script
        [*wrapper, str(TAP_EXECUTABLE), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=PROCESS_TIMEOUT_S,
        check=False,
    )
    runs = len(list(cwd.glob("tap-customerio.*.stderr")))
    (cwd / f"tap-customerio.{runs + 1}.stderr").write_bytes(result.stderr)
    return TapProcessRun(
        result.returncode, result.stdout.decode("utf-8", "replace"), result.stderr.decode("utf-8", "replace")
    )
