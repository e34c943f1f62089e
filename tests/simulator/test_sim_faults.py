"""Injected faults: 5xx, 429 with/without Retry-After, dropped connections, truncated bodies, slow answers."""

from __future__ import annotations

import json

import pytest
import requests
from cio_simulator import FAULT_KINDS, Simulator
from simulator.sim_api import Api


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_carry_an_errors_body(api: Api, cio_sim: Simulator, kind: str) -> None:
    cio_sim.faults.inject_next(kind)
    response = api.get("/campaigns")
    assert response.status_code == int(kind)
    assert response.json()["errors"][0]["status"] == kind
    assert api.get("/campaigns").status_code == 200


def test_a_502_is_an_html_gateway_page(api: Api, cio_sim: Simulator) -> None:
    cio_sim.faults.inject_next("502")
    response = api.get("/campaigns")
    assert response.status_code == 502 and response.headers["Content-Type"] == "text/html"
    with pytest.raises(ValueError):
        response.json()


def test_injected_429s_with_and_without_retry_after(api: Api, cio_sim: Simulator) -> None:
    cio_sim.faults.inject_next("429", "429_no_retry_after")
    first, second = api.get("/campaigns"), api.get("/campaigns")
    assert (first.status_code, first.headers.get("Retry-After")) == (429, "1")
    assert second.status_code == 429 and "Retry-After" not in second.headers


def test_a_dropped_connection_sends_no_response(api: Api, cio_sim: Simulator) -> None:
    cio_sim.faults.inject_next("drop")
    with pytest.raises(requests.ConnectionError):
        api.get("/campaigns")
    assert api.get("/campaigns").status_code == 200
    assert [(r.status, r.fault) for r in cio_sim.request_log[-2:]] == [(0, "drop"), (200, None)]


def test_a_truncated_body_promises_more_bytes_than_it_sends(api: Api, cio_sim: Simulator) -> None:
    cio_sim.faults.inject_next("truncate")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.get("/campaigns")
    assert api.get("/campaigns").status_code == 200


def test_a_garbled_body_is_well_formed_json_of_full_length_but_not_utf8(api: Api, cio_sim: Simulator) -> None:
    clean = api.get("/campaigns").content
    cio_sim.faults.inject_next("garble")
    garbled = api.get("/campaigns").content

    assert len(garbled) == len(clean)
    with pytest.raises(UnicodeDecodeError):
        garbled.decode()
    assert json.loads(garbled.decode(errors="replace")).keys() == json.loads(clean).keys()


def test_a_slow_response_outlasts_a_short_client_timeout(api: Api, cio_sim: Simulator) -> None:
    cio_sim.faults.configure(rate=0.0, slow_seconds=2.0)
    cio_sim.faults.inject_next("slow")
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.session.get(api.base_url + "/campaigns", timeout=0.2)


def test_random_faults_are_deterministic_for_a_seed(make_cio_sim) -> None:
    def faults_seen(seed: int) -> list[str | None]:
        simulator = make_cio_sim()
        simulator.faults.configure(rate=0.5, kinds=("500", "503", "429"), seed=seed)
        api = Api(simulator)
        for _ in range(30):
            api.get("/workspaces")
        return [r.fault for r in simulator.request_log]

    first = faults_seen(3)
    assert first == faults_seen(3) != faults_seen(4)
    assert 5 < sum(f is not None for f in first) < 25


def test_faults_can_be_limited_to_some_paths(api: Api, cio_sim: Simulator) -> None:
    cio_sim.faults.configure(rate=1.0, kinds=("500",), only_paths=("/messages",))
    assert api.get("/campaigns").status_code == 200
    assert api.get("/messages").status_code == 500
    cio_sim.faults.configure(rate=0)
    assert api.get("/messages").status_code == 200


def test_unknown_fault_kinds_are_refused(cio_sim: Simulator) -> None:
    with pytest.raises(ValueError, match="fault kinds"):
        cio_sim.faults.configure(rate=0.1, kinds=("500", "teapot"))
    assert set(FAULT_KINDS) == {"500", "502", "503", "429", "429_no_retry_after", "drop", "truncate", "garble", "slow"}


def test_latency_can_be_changed_while_running(api: Api, cio_sim: Simulator) -> None:
    cio_sim.latency = 2.0
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.session.get(api.base_url + "/workspaces", timeout=0.2)
    cio_sim.latency = 0.0
    assert api.get("/workspaces").status_code == 200
