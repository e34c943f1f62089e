"""A tiny App API client for the simulator's own tests: real HTTP over loopback with `requests`."""

from __future__ import annotations

from typing import Any

import requests
from cio_simulator import Simulator

MATCH_ALL = {"filter": {"and": [{"attribute": {"field": "cio_id", "operator": "exists"}}]}}


class Api:
    """Authenticated requests against one simulator, plus a cursor-following reader."""

    def __init__(self, simulator: Simulator, api_key: str = "sim-key") -> None:
        self.base_url = simulator.base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.base_url + path, params=params, timeout=10)

    def post(self, path: str, body: Any, **params: Any) -> requests.Response:
        return self.session.post(self.base_url + path, json=body, params=params, timeout=10)

    def ok(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def read_all(self, path: str, envelope: str, body: Any = None, **params: Any) -> tuple[list[Any], int]:
        """Follow `next` → `start` until it is empty; returns (records, pages)."""
        found: list[Any] = []
        pages = 0
        token = None
        while True:
            query = {**params, **({"start": token} if token else {})}
            response = self.get(path, **query) if body is None else self.post(path, body, **query)
            assert response.status_code == 200, response.text
            payload = response.json()
            found.extend(payload[envelope] or [])
            pages += 1
            token = payload.get("next")
            if not token:
                return found, pages
