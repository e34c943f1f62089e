"""A fault-injecting HTTP reverse proxy for resilience tests.

It sits on a loopback port in front of a real service (moto, Azurite, the Customer.io simulator) and
forwards every request unchanged, except that a seeded share of the requests it is told to target
fail the way real networks and buckets fail: 5xx answers, throttling, connections reset before an
answer, slow answers. It can also replace one endpoint's answer outright, to feed a client a response
with unexpected types or missing fields. The code under test is unchanged and talks real HTTP; only
the wire between it and the service misbehaves.

Hand-written on the standard library because no installed package offers a programmable faulty proxy
(moto's own fault injection only covers S3 errors, not resets or other services).
"""

from __future__ import annotations

import dataclasses
import http.client
import random
import re
import socket
import struct
import threading
import time
import typing as t
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: Headers that describe one hop, not the message: never forwarded (RFC 9110 section 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}

#: Error bodies in the shape each kind of service sends, so SDK retry logic sees the real thing.
ERROR_BODIES: dict[str, tuple[str, bytes]] = {
    "500": ("application/xml", b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"),
    "502": ("text/html", b"<html><body>502 Bad Gateway (injected)</body></html>"),
    "503": (
        "application/xml",
        b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
    ),
    "429": ("application/json", b'{"errors":[{"detail":"rate limited (injected)","status":"429"}]}'),
}

#: `reset`: the connection drops before the request reaches the service. `lost_answer`: the service
#: handles the request, then the connection drops before the answer arrives (the client cannot tell
#: whether its write happened). `slow`: the answer comes `slow_seconds` late.
FAULT_KINDS = (*ERROR_BODIES, "reset", "lost_answer", "slow")


@dataclasses.dataclass
class FaultPlan:
    """Which requests fail and how: a share `rate` of requests matching `methods` and `path`, while `limit`
    (how many more may fail, counted down; None: no limit) allows."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ("503",)
    methods: frozenset[str] = frozenset({"GET", "PUT", "POST", "HEAD", "DELETE"})
    path: re.Pattern[str] = re.compile("")
    slow_seconds: float = 1.0
    limit: int | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is a candidate for a fault."""
        return method in self.methods and self.path.search(path) is not None


@dataclasses.dataclass(frozen=True)
class Override:
    """A canned answer that replaces the upstream one for matching paths."""

    path: re.Pattern[str]
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    methods: frozenset[str] | None = None  # None: every method

    def matches(self, method: str, path: str) -> bool:
        """Whether this override answers the request."""
        return (self.methods is None or method in self.methods) and self.path.search(path) is not None


@dataclasses.dataclass(frozen=True)
class Exchange:
    """One request as the proxy saw it: what was asked and what was done with it."""

    method: str
    path: str
    outcome: str  # "forwarded:<status>", a fault kind, or "override:<status>"


class FaultProxy:
    """A reverse proxy to `upstream` (scheme://host:port) on a free loopback port."""

    def __init__(self, upstream: str, seed: int = 0) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream_host = parsed.hostname or "127.0.0.1"
        self.upstream_port = parsed.port or 80
        self.plan = FaultPlan()
        self.overrides: list[Override] = []
        self.log: list[Exchange] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        """Base URL clients use instead of the upstream's."""
        host, port = self._server.server_address[:2]
        assert isinstance(host, str), "an AF_INET server's address is a (host, port) pair"
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    def inject(
        self,
        rate: float,
        kinds: t.Iterable[str],
        *,
        methods: t.Iterable[str] | None = None,
        path: str = "",
        seed: int | None = None,
        slow_seconds: float = 1.0,
        limit: int | None = None,
    ) -> None:
        """Fail a share `rate` of matching requests with faults drawn from `kinds`, at most `limit` of them."""
        kinds = tuple(kinds)
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            msg = f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}"
            raise ValueError(msg)
        with self._lock:
            self.plan = FaultPlan(
                rate=rate,
                kinds=kinds,
                methods=frozenset(methods) if methods else FaultPlan().methods,
                path=re.compile(path),
                slow_seconds=slow_seconds,
                limit=limit,
            )
            if seed is not None:
                self._random = random.Random(seed)

    def override(
        self,
        path: str,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: t.Mapping[str, str] | None = None,
        methods: t.Iterable[str] | None = None,
    ) -> None:
        """Answer requests whose path matches `path` (and method is in `methods`, when given) with this
        response (and extra `headers`, e.g. `Retry-After`) instead of the upstream's."""
        self.overrides.append(
            Override(
                re.compile(path),
                status,
                body,
                content_type,
                tuple((headers or {}).items()),
                frozenset(methods) if methods is not None else None,
            )
        )

    def faults_injected(self) -> list[Exchange]:
        """The exchanges that were sabotaged."""
        return [e for e in self.log if e.outcome in FAULT_KINDS]

    def choose_fault(self, method: str, path: str) -> str | None:
        """One seeded draw per matching request: the fault to inject, or None to forward it."""
        with self._lock:
            plan = self.plan
            if not plan.matches(method, path) or self._random.random() >= plan.rate or plan.limit == 0:
                return None
            if plan.limit is not None:
                plan.limit -= 1
            return self._random.choice(plan.kinds)

    def record(self, method: str, path: str, outcome: str) -> None:
        """Remember what was done with a request (thread-safe: requests are served concurrently)."""
        with self._lock:
            self.log.append(Exchange(method, path, outcome))


class _QuietServer(ThreadingHTTPServer):
    """A threading server that does not print tracebacks for connections the proxy reset on purpose."""

    daemon_threads = True

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        """Ignore errors on sockets that were reset or dropped; they are the point of the exercise."""


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_ProxyHandler):
        owner = proxy

    return Handler


class _ProxyHandler(BaseHTTPRequestHandler):
    """Reads a whole request, then forwards it, fails it, or answers it from an override."""

    protocol_version = "HTTP/1.1"  # keep-alive and `Expect: 100-continue`, as SDKs use them
    owner: FaultProxy

    def log_message(self, format: str, *args: t.Any) -> None:  # signature of the base class
        """Silence the default per-request stderr logging; `FaultProxy.log` records exchanges."""

    def do_GET(self) -> None:  # name required by BaseHTTPRequestHandler
        self._serve()

    do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_GET

    def _serve(self) -> None:
        body = self._read_body()
        for override in self.owner.overrides:
            if override.matches(self.command, self.path):
                self.owner.record(self.command, self.path, f"override:{override.status}")
                self._respond(
                    override.status, [("Content-Type", override.content_type), *override.headers], override.body
                )
                return
        fault = self.owner.choose_fault(self.command, self.path)
        if fault == "reset":
            self.owner.record(self.command, self.path, fault)
            self._reset()
            return
        if fault == "slow":
            time.sleep(self.owner.plan.slow_seconds)
        elif fault in ERROR_BODIES:
            self.owner.record(self.command, self.path, fault)
            content_type, error_body = ERROR_BODIES[fault]
            headers = [("Content-Type", content_type)]
            if fault == "429":
                headers.append(("Retry-After", "1"))
            self._respond(int(fault), headers, error_body)
            return
        status, headers, answer = self._forward(body)
        self.owner.record(self.command, self.path, fault or f"forwarded:{status}")
        if fault == "lost_answer":
            self._reset()
            return
        self._respond(status, headers, answer)

    def _read_body(self) -> bytes:
        """The request body, de-chunked so it can be forwarded with a plain Content-Length."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers: dropped, the body is forwarded whole
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.owner.upstream_host, self.owner.upstream_port, timeout=120)
        try:
            # The body goes on with a Content-Length of its own, so the client's (in whatever case it spelled
            # it: object_store's is lowercase) is dropped rather than sent twice, which Node's server refuses.
            dropped = HOP_BY_HOP | {"expect", "content-length"}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
            if body or self.command in ("PUT", "POST", "PATCH"):
                headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
            if self.command == "HEAD":
                kept.append(("Content-Length", response.getheader("Content-Length", "0")))
            return response.status, kept, answer
        finally:
            connection.close()

    def _respond(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no answer, as a failing load balancer does."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
