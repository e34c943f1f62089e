"""The simulator process: a stdlib threading HTTP server on loopback in front of the endpoints.

Every request goes through the same gate, in the order the live API applies them: bearer auth (401),
key scope (403 for `forbidden_paths`), the per-key request budget (429), injected faults, then the endpoint.
stdlib `http.server` is enough: the simulator needs raw socket control (drop, truncate) that a framework
would hide, and no extra dependency.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .dataset import Dataset
from .endpoints import dispatch
from .faults import API_PREFIX, FaultInjector, api_path
from .protocol import QUIRKS, ApiError, Request
from .ratelimit import SlidingWindowLimiter

GATEWAY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass
class LoggedRequest:
    """One request as the simulator saw it: `time` is its arrival (`time.monotonic()`), `status` is 0 when the
    connection was dropped, `fault` the injected fault kind if any, `body` the parsed JSON body."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    time: float
    fault: str | None = None
    body: Any = None


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None


def json_response(status: int, payload: Any, **headers: str) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": "application/json; charset=utf-8", **headers})


class Simulator:
    """A Customer.io App API v1 on `http://127.0.0.1:<port>/v1`, with deterministic data and injectable faults.

    - `seed`, `scale`, `anchor` (unix "now" the data is relative to; default the current hour), `workspace_id`
      determine the data (`self.data`, a `Dataset`).
    - `api_key`: the only accepted `Authorization: Bearer <key>`; anything else is a 401.
    - `requests_per_second`: the per-key sliding one-second budget (0 = unlimited), settable while running;
      `retry_after` chooses which 429s carry `Retry-After` (`alternate`, `always`, `never`).
    - `latency`: seconds added to every response, settable while running.
    - `forbidden_paths`: path prefixes this key may not read (403), e.g. `("/v1/exports",)`.
    - `faults`: a `FaultInjector` (`configure(rate, kinds, seed, only_paths)`, `inject_next(*kinds)`).
    - `quirks`: optional live pagination quirks (`"empty_pages"`, `"sticky_end"`) and alternative response
      shapes the public sources show (`"spec_people"`, `"string_sender_ids"`, `"hidden_ignored"`), see
      `protocol.py`.
    """

    def __init__(
        self,
        seed: int = 7,
        scale: float = 1.0,
        api_key: str = "sim-key",
        requests_per_second: float = 10,
        latency: float = 0.0,
        anchor: int | None = None,
        workspace_id: int = 123456,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        forbidden_paths: Iterable[str] = (),
        retry_after: str = "alternate",
        quirks: Iterable[str] = (),
    ) -> None:
        self.data = Dataset(seed=seed, scale=scale, anchor=anchor, workspace_id=workspace_id)
        self.api_key = api_key
        self.latency = latency
        self.forbidden_paths = tuple(api_path(p).rstrip("/") for p in forbidden_paths)
        self.quirks = frozenset(quirks)
        if self.quirks - set(QUIRKS):
            raise ValueError(f"quirks must be a subset of {QUIRKS}, got {sorted(self.quirks)}")
        self.rate_limiter = SlidingWindowLimiter(requests_per_second, retry_after)
        self.faults = FaultInjector()
        self.request_log: list[LoggedRequest] = []
        self._host, self._port = host, port
        self._data_lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self, port: int | None = None) -> Simulator:
        """Bind (port 0 = a free one) and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._server = _Server((self._host, self._port if port is None else port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"cio-simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (clients then see refused/reset connections)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The App API base URL, as the tap's `api_url` setting expects it."""
        return self.url + API_PREFIX

    # -- controls -----------------------------------------------------------------------------------------------

    @property
    def requests_per_second(self) -> float:
        return self.rate_limiter.per_second

    @requests_per_second.setter
    def requests_per_second(self, value: float) -> None:
        self.rate_limiter.per_second = value

    def mutate(self) -> dict[str, Any]:
        """Apply the next deterministic set of changes (see `mutations.py`); returns the affected ids."""
        with self._data_lock:
            return self.data.mutate()

    def reset_log(self) -> None:
        self.request_log.clear()

    # -- request handling ---------------------------------------------------------------------------------------

    def respond(self, method: str, target: str, authorization: str | None, raw_body: bytes) -> Response:
        """Decide the response to one request (everything except socket-level behaviour)."""
        arrived = time.monotonic()
        parts = urlsplit(target)
        path, query = parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
        body = _parse_json(raw_body)
        response = self._gate(method, path, query, authorization, body)
        self.request_log.append(
            LoggedRequest(
                method,
                path,
                query,
                0 if response.fault == "drop" else response.status,
                arrived,
                response.fault,
                None if body is _INVALID else body,
            )
        )
        return response

    def _gate(self, method: str, path: str, query: dict[str, str], authorization: str | None, body: Any) -> Response:
        if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            return json_response(404, ApiError(404, f"{path} not found").body())
        if authorization != f"Bearer {self.api_key}":
            detail = "Unauthorized request: check that the App API key is valid and belongs to this region"
            return json_response(401, ApiError(401, detail).body())
        if any(path == p or path.startswith(p + "/") for p in self.forbidden_paths):
            return json_response(403, ApiError(403, "This App API key does not have access to this resource").body())
        admitted, retry_after = self.rate_limiter.admit(self.api_key)
        if not admitted:
            headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
            return json_response(429, ApiError(429, "Your request is over the 10-per-second limit").body(), **headers)
        fault = self.faults.pick(path)
        if fault and fault not in ("truncate", "garble", "slow"):
            return _fault_response(fault)
        if body is _INVALID:
            response = json_response(400, ApiError(400, "request body is not valid JSON").body())
        else:
            response = self._dispatch(Request(method, path, query, body, quirks=self.quirks))
        response.fault = fault
        return response

    def _dispatch(self, request: Request) -> Response:
        try:
            with self._data_lock:
                return json_response(200, dispatch(request, self.data))
        except ApiError as error:
            return json_response(error.status, error.body())


_INVALID = object()


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return _INVALID


def _fault_response(kind: str) -> Response:
    if kind == "drop":
        return Response(0, b"", fault=kind)
    if kind == "502":
        return Response(502, GATEWAY_PAGE, {"Content-Type": "text/html"}, fault=kind)
    if kind.startswith("429"):
        headers = {"Retry-After": "1"} if kind == "429" else {}
        response = json_response(429, ApiError(429, "Your request is over the 10-per-second limit").body(), **headers)
    elif kind == "400":
        response = json_response(400, ApiError(400, "invalid parameter").body())
    else:
        response = json_response(int(kind), ApiError(int(kind), "Internal error, please retry").body())
    response.fault = kind
    return response


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, dropped and truncated faults) are normal here, not errors to print."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            for connection in list(self.connections):
                _hang_up(connection)


def _garbled(body: bytes) -> bytes:
    """`body` with the first character of a string value in its second half replaced by 0xFF: the JSON is
    still well-formed, but the text is not UTF-8. A body without such a value has its last byte replaced instead."""
    start = body.find(b'":"', len(body) // 2)
    at = start + 3 if start >= 0 and start + 3 < len(body) and body[start + 3 : start + 4] != b'"' else len(body) - 1
    return body[:at] + b"\xff" + body[at + 1 :]


def _hang_up(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients with connection pools expect
    timeout = 30
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle + delayed ACK add ~40 ms to each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the request log is `Simulator.request_log`, and stderr noise would drown test output."""

    def _serve(self) -> None:
        simulator = self.server.simulator
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        response = simulator.respond(self.command, self.path, self.headers.get("Authorization"), raw_body)
        delay = simulator.latency + (simulator.faults.slow_seconds if response.fault == "slow" else 0.0)
        if delay:
            time.sleep(delay)
        if response.fault == "drop":
            self.close_connection = True
            _hang_up(self.connection)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.fault == "truncate":
            self.wfile.write(response.body[: max(1, len(response.body) // 2)])
            self.wfile.flush()
            self.close_connection = True
            _hang_up(self.connection)
            return
        self.wfile.write(_garbled(response.body) if response.fault == "garble" else response.body)
