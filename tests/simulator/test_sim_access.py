"""Auth (401), key scope (403), unknown and deleted resources (404) and the 10 requests/second budget (429)."""

from __future__ import annotations

import requests
from cio_simulator import Simulator
from simulator.sim_api import Api


def test_requests_without_the_bearer_key_are_a_401_with_an_errors_body(cio_sim: Simulator) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "sim-key"}):
        response = requests.get(cio_sim.base_url + "/campaigns", headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["errors"][0]["status"] == "401"


def test_forbidden_paths_answer_403_for_that_resource_only(make_cio_sim) -> None:
    api = Api(make_cio_sim(forbidden_paths=("/v1/exports",)))
    assert api.get("/exports").status_code == 403
    assert api.get("/exports/900").status_code == 403
    assert api.get("/exports").json()["errors"][0]["status"] == "403"
    assert api.get("/campaigns").status_code == 200


def test_unknown_paths_and_records_are_a_404(api: Api) -> None:
    for path in (
        "/no_such_resource",
        "/campaigns/999999",
        "/campaigns/999999/actions",
        "/newsletters/0/contents",
        "/segments/999/membership",
        "/broadcasts/1/actions",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["status"] == "404"


def test_over_ten_requests_per_second_get_429_with_and_without_retry_after(make_cio_sim) -> None:
    simulator = make_cio_sim(requests_per_second=10)
    api = Api(simulator)
    limited = []
    for _ in range(200):
        response = api.get("/workspaces")
        if response.status_code == 429:
            limited.append(response)
        if len(limited) >= 4:
            break
    assert len(limited) >= 4
    assert all(r.json()["errors"][0]["status"] == "429" for r in limited)
    with_header = [r for r in limited if "Retry-After" in r.headers]
    assert with_header and len(with_header) < len(limited)
    assert all(int(r.headers["Retry-After"]) >= 1 for r in with_header)


def test_admitted_requests_never_exceed_the_budget_in_any_second(make_cio_sim) -> None:
    simulator = make_cio_sim(requests_per_second=10)
    api = Api(simulator)
    while sum(r.status == 429 for r in simulator.request_log) < 3:
        api.get("/workspaces")
    admitted = [r.time for r in simulator.request_log if r.status == 200]
    assert len(admitted) >= 10
    assert all(sum(1 for t in admitted if first <= t < first + 0.9) <= 10 for first in admitted)


def test_retry_after_policy_always_and_never(make_cio_sim) -> None:
    for policy, expect_header in (("always", True), ("never", False)):
        api = Api(make_cio_sim(requests_per_second=10, retry_after=policy))
        limited = [r for r in (api.get("/workspaces") for _ in range(30)) if r.status_code == 429]
        assert limited and all(("Retry-After" in r.headers) is expect_header for r in limited)


def test_request_log_records_method_path_query_and_status(api: Api, cio_sim: Simulator) -> None:
    cio_sim.reset_log()
    api.get("/newsletters", limit=100)
    api.post("/customers", {"filter": {"segment": {"id": 1}}}, limit=10)
    first, second = cio_sim.request_log
    assert (first.method, first.path, first.query, first.status) == ("GET", "/v1/newsletters", {"limit": "100"}, 200)
    assert (second.method, second.path, second.body) == ("POST", "/v1/customers", {"filter": {"segment": {"id": 1}}})
