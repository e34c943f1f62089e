"""The target behind a faulty bucket: transient upload faults are retried and the run completes with
every row; a persistent upload failure exits non-zero and emits no state for the unwritten data."""

from __future__ import annotations

import typing as t
from urllib.parse import unquote

import pytest
from resilience.fault_proxy import FaultProxy
from storage.test_target_on_buckets import SCHEMAS, column, delivery, parquet_objects, state
from target.target_runs import run_target

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from storage.conftest import Backend

MESSAGES = [SCHEMAS["deliveries"], *map(delivery, range(1, 201)), state(200)]


@pytest.fixture
def proxy_in_front(backend: Backend) -> Iterator[tuple[FaultProxy, dict[str, t.Any]]]:
    """A fault proxy in front of the backend's service, and the target config that goes through it."""
    if backend.name == "s3":
        upstream = backend.config["s3_endpoint_url"]
        proxy = FaultProxy(upstream, seed=5).start()
        config = {**backend.config, "s3_endpoint_url": proxy.url, "s3_max_attempts": 3}
    else:
        sas_url = backend.config["azure_sas_url"]
        upstream = sas_url.split("/devstoreaccount1/")[0]
        proxy = FaultProxy(upstream, seed=5).start()
        config = {**backend.config, "azure_sas_url": sas_url.replace(upstream, proxy.url), "azure_max_attempts": 3}
    yield proxy, {**config, "bucket_url": backend.url("customerio"), "workspace_id": "42"}
    proxy.stop()


@pytest.mark.parametrize("backend", ["s3", "azure-sas"], indirect=True)
def test_target_completes_with_every_row_through_frequent_transient_upload_faults(
    backend: Backend, proxy_in_front: tuple[FaultProxy, dict[str, t.Any]]
) -> None:
    proxy, config = proxy_in_front
    proxy.inject(0.4, ["500", "503", "reset"], methods=["PUT", "POST", "HEAD"])

    run = run_target(MESSAGES, {**config, "max_file_rows": 50, "s3_max_attempts": 10, "azure_max_attempts": 10})

    assert run.exit_code == 0, run.stderr
    assert run.states[-1] == state(200)["value"]
    assert column(parquet_objects(backend.open("customerio")), "deliveries", "id") == list(range(1, 201))
    assert proxy.faults_injected(), proxy.log


@pytest.mark.parametrize("backend", ["s3", "azure-sas"], indirect=True)
def test_target_exits_non_zero_without_state_when_data_uploads_keep_failing(
    backend: Backend, proxy_in_front: tuple[FaultProxy, dict[str, t.Any]]
) -> None:
    proxy, config = proxy_in_front
    proxy.inject(1.0, ["503", "reset"], methods=["PUT", "POST"], path=r"\.parquet")

    run = run_target(MESSAGES, config)

    assert run.exit_code != 0
    assert run.states == []
    assert len(run.error_lines) == 1
    assert "upload customerio/" in run.error_lines[0], run.error_lines
    assert parquet_objects(backend.open("customerio")) == {}
    signature = backend.config.get("azure_sas_url", "").partition("sig=")[2]
    for secret in (signature, unquote(signature), "moto-secret-access-key"):
        assert not secret or secret not in run.stderr
