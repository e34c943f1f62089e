"""A slow or demanding server costs a bounded wait, never a hang: each request has a total deadline, and a
`Retry-After` is obeyed (and said) up to `max_retry_after_seconds`, past which the stream fails clearly.

The real `tap-customerio` process reads the Customer.io simulator over loopback HTTP; a slow-drip server
and a fault proxy with canned `Retry-After` answers stand in for the misbehaving API.
"""

from __future__ import annotations

import threading
import time
import typing as t
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fixtures.outcome import TRACEBACK, stderr_line_naming
from tap.tap_harness import TapProcessRun, run_tap_process

from resilience.fault_proxy import FaultProxy
from resilience.pipeline import discover_catalog, write_json

if t.TYPE_CHECKING:
    from pathlib import Path

API_KEY = "sim-key-network-0001"


@pytest.fixture
def sim(make_cio_sim: t.Callable[..., t.Any]) -> t.Any:
    """A small simulated workspace with a generous rate budget."""
    return make_cio_sim(seed=12, scale=0.1, api_key=API_KEY, requests_per_second=1000)


def settings(sim: t.Any, **overrides: t.Any) -> dict[str, t.Any]:
    return {
        "app_api_key": API_KEY,
        "api_url": sim.base_url,
        "workspace_id": 123456,
        "max_requests_per_second": 1000,
        "max_retries": 1,
        "retry_backoff_ms": 10,
        **overrides,
    }


def sync(sim: t.Any, workdir: Path, env: dict[str, str], streams: set[str], **overrides: t.Any) -> TapProcessRun:
    """Sync `streams` (discovered against the simulator itself) with `overrides` applied to the settings."""
    catalog = discover_catalog(write_json(workdir / "discover.json", settings(sim)), workdir, streams, env)
    config = write_json(workdir / "tap_config.json", settings(sim, **overrides))
    return run_tap_process("--config", str(config), "--catalog", str(catalog), cwd=workdir, env=env)


def records(outcome: TapProcessRun, stream: str) -> list[dict[str, t.Any]]:
    return [m["record"] for m in outcome.messages if m.get("type") == "RECORD" and m["stream"] == stream]


class DripServer:
    """Answers every request with complete headers announcing a 1 MB JSON body, then sends the body one
    byte every `interval` seconds, until the client hangs up."""

    def __init__(self, interval: float) -> None:
        stop = self.stopped = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # BaseHTTPRequestHandler API
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(1 << 20))
                self.end_headers()
                try:
                    while not stop.is_set():
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(interval)
                except OSError:
                    return

            def log_message(self, format: str, *args: t.Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_server_dripping_its_body_byte_by_byte_fails_the_stream_at_the_request_deadline(
    sim: t.Any, workdir: Path, env: dict[str, str]
) -> None:
    drip = DripServer(interval=0.3)  # every read gets a byte well within request_timeout
    try:
        outcome = sync(sim, workdir, env, {"campaigns"}, api_url=drip.api_url, request_timeout=2)
    finally:
        drip.stop()

    assert outcome.exit_code != 0
    assert TRACEBACK not in outcome.stderr
    assert "campaigns" in outcome.last_stderr_line
    assert "request_timeout" in outcome.last_stderr_line


@pytest.fixture
def proxy(sim: t.Any) -> t.Iterator[FaultProxy]:
    fault_proxy = FaultProxy(sim.base_url).start()
    yield fault_proxy
    fault_proxy.stop()


@pytest.mark.parametrize("retry_after", ["3600", "100000000000000000000"])
def test_a_retry_after_beyond_the_cap_fails_that_stream_at_once_naming_the_wait(
    sim: t.Any, proxy: FaultProxy, workdir: Path, env: dict[str, str], retry_after: str
) -> None:
    proxy.override(r"^/v1/campaigns", 429, b'{"errors":[{"detail":"slow down"}]}', headers={"Retry-After": retry_after})
    api_url = proxy.url + urllib.parse.urlsplit(sim.base_url).path

    outcome = sync(sim, workdir, env, {"campaigns", "topics"}, api_url=api_url)

    assert outcome.exit_code != 0
    assert TRACEBACK not in outcome.stderr
    for word in ("campaigns", "/v1/campaigns", "429", "Retry-After", retry_after, "max_retry_after_seconds=300"):
        assert word in outcome.last_stderr_line, f"{word!r} missing from {outcome.last_stderr_line!r}"
    assert [e.path for e in proxy.log if e.path.startswith("/v1/campaigns")] == ["/v1/campaigns"], "it retried"
    assert {r["id"] for r in records(outcome, "topics")} == {c["id"] for c in sim.data.subscription_topics}


def test_a_retry_after_within_the_cap_is_obeyed_and_said(sim: t.Any, workdir: Path, env: dict[str, str]) -> None:
    catalog = discover_catalog(write_json(workdir / "discover.json", settings(sim)), workdir, {"campaigns"}, env)
    config = write_json(workdir / "tap_config.json", settings(sim))
    sim.faults.configure(rate=0.0, only_paths=["/v1/campaigns"])
    sim.faults.inject_next("429")  # the simulator's 429 carries `Retry-After: 1`

    outcome = run_tap_process("--config", str(config), "--catalog", str(catalog), cwd=workdir, env=env)

    assert outcome.exit_code == 0, outcome.last_stderr_line
    assert stderr_line_naming(outcome, "/v1/campaigns", "429", "Retry-After 1 s")
    assert {r["id"] for r in records(outcome, "campaigns")} == {c["id"] for c in sim.data.campaigns}
