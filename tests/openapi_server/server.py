"""The HTTP side: a stdlib threading server on loopback answering each request from the OpenAPI document.

A request is matched to its operation, checked against the operation's parameters and body (400 if it
breaks them, as the API would), and answered with a 200 body built from the operation's response schema:
every list holds the records `Generator.records` makes (after the records of the document's example for
the response or the list, where it has one), `next` is empty so cursor paging ends, and a top-level `oneOf`
answers with its branches in turn. Nothing here knows the tap or the simulator.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .instances import Generator, branches
from .spec import Operation, RequestRejected, Spec, merged


@dataclass
class Served:
    """One request and the answer it got."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    body: Any


class OpenAPIServer:
    """Serves the App API of the OpenAPI document at `spec_path` on `http://127.0.0.1:<port>/v1`.

    `identity`: property names that identify a record (see `instances.py`). `log` holds every request with
    its status and the body sent back.
    """

    def __init__(self, spec_path: Path, identity: tuple[str, ...] = (), host: str = "127.0.0.1") -> None:
        self.spec = Spec(spec_path)
        self.generator = Generator(identity)
        self.log: list[Served] = []
        self._answers: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._server = _Server((host, 0), _Handler)
        self._server.daemon_threads = True
        self._server.api = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> OpenAPIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str), "an AF_INET server's address is a (host, port) pair"
        return f"http://{host}:{port}/v1"

    def respond(self, method: str, target: str, authorization: str | None, raw: bytes) -> tuple[int, Any]:
        """Status and JSON body for one request."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        status, body = self._answer(method, parts.path, query, authorization, raw)
        with self._lock:
            self.log.append(Served(method, parts.path, query, status, body))
        return status, body

    def _answer(
        self, method: str, path: str, query: dict[str, str], authorization: str | None, raw: bytes
    ) -> tuple[int, Any]:
        if not (authorization or "").startswith("Bearer "):
            return 401, {"errors": [{"detail": "unauthorized", "status": "401"}]}
        found = self.spec.find(method, path)
        if found is None:
            return 404, {"errors": [{"detail": f"{method} {path} not found", "status": "404"}]}
        operation, path_params = found
        try:
            operation.check(path_params, query, json.loads(raw) if raw else None)
        except (RequestRejected, ValueError) as exc:
            return 400, {"errors": [{"detail": str(exc), "status": "400"}]}
        with self._lock:
            turn = self._answers[operation.template]
            self._answers[operation.template] += 1
        return 200, self.body(operation, turn)

    def body(self, operation: Operation, turn: int) -> Any:
        """The 200 body of `operation` for its `turn`-th request."""
        options = branches(operation.response)
        schema = merged(options[turn % len(options)])
        given = schema.get("example")
        example: dict[str, Any] = given if isinstance(given, dict) else {}
        body: dict[str, Any] = {}
        for name, prop in schema.get("properties", {}).items():
            prop = merged(prop)
            if name == "next":
                body[name] = ""
            elif prop.get("type") == "array":
                leading = list_of(example.get(name)) or list_of(prop.get("example"))
                body[name] = self.generator.records(prop.get("items", {}), leading=leading)
            else:
                body[name] = self.generator.value(prop, "full", turn)
        return body


def list_of(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class _Server(ThreadingHTTPServer):
    """The HTTP server, holding the OpenAPIServer its request handlers answer for."""

    api: OpenAPIServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the server's `log` is the record of requests."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        assert isinstance(self.server, _Server), "handlers run only in an OpenAPIServer's own server"
        api = self.server.api
        status, body = api.respond(self.command, self.path, self.headers.get("Authorization"), raw)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
