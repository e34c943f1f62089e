"""A failing bucket never costs data: faults are retried, and a bucket that stays down stops the target
before it emits state for what it could not write.

The target writes to moto (S3) and Azurite (Azure Blob) through a fault-injecting proxy on loopback:
requests fail with 500/503, throttling, connections reset before the request is handled, answers lost
after the request was handled, and slow answers. What landed is read back directly from the service,
bypassing the proxy.
"""

from __future__ import annotations

import json
import typing as t

import pytest

from fixtures import bucket_audit
from resilience.fault_proxy import FaultProxy
from fixtures.outcome import Outcome, assert_one_line_error, run_plugin
from resilience.pipeline import TARGET, write_json

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

STREAMS = ("orders", "events")
RECORDS_PER_STREAM = 6_000
STATE_EVERY = 1_000
TRANSIENT = ("500", "503", "reset", "lost_answer", "slow")
ORDERS_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "amount": {"type": ["number", "null"]},
        "note": {"type": ["string", "null"]},
    },
}


def singer_input() -> bytes:
    """Two interleaved streams; every STATE says how many records of each stream came before it."""
    lines = [
        json.dumps({"type": "SCHEMA", "stream": s, "schema": ORDERS_SCHEMA, "key_properties": ["id"]}) for s in STREAMS
    ]
    for n in range(1, RECORDS_PER_STREAM + 1):
        for stream in STREAMS:
            lines.append(
                json.dumps(
                    {"type": "RECORD", "stream": stream, "record": {"id": n, "amount": n / 4, "note": f"{stream} {n}"}}
                )
            )
        if n % STATE_EVERY == 0:
            lines.append(json.dumps({"type": "STATE", "value": {"written": {s: n for s in STREAMS}}}))
    return ("\n".join(lines) + "\n").encode()


class Destination(t.NamedTuple):
    proxy: FaultProxy
    settings: dict[str, t.Any]
    bucket: bucket_audit.BucketView


@pytest.fixture(params=["s3", "azure"])
def destination(request: pytest.FixtureRequest) -> Iterator[Destination]:
    """A fresh bucket behind a fault proxy, with the target settings that reach it through the proxy."""
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_service")
        name = s3.create_bucket()
        proxy = FaultProxy(s3.endpoint_url, seed=11).start()
        settings = {
            "bucket_url": f"s3://{name}/sync",
            "s3_endpoint_url": proxy.url,
            "s3_region": s3.region,
            "aws_access_key_id": s3.access_key_id,
            "aws_secret_access_key": s3.secret_access_key,
            "s3_addressing_style": "path",
        }
        view: bucket_audit.BucketView = bucket_audit.S3Prefix(s3.client(), name, "sync")
    else:
        azurite = request.getfixturevalue("azurite_service")
        container = azurite.create_container()
        proxy = FaultProxy(azurite.blob_endpoint, seed=11).start()
        sas_url = azurite.container_sas_url(container).replace(azurite.blob_endpoint.rsplit("/", 1)[0], proxy.url)
        settings = {"bucket_url": "azure://" + container + "/sync", "azure_sas_url": sas_url}
        view = bucket_audit.AzurePrefix(azurite.service_client().get_container_client(container), "sync")
    yield Destination(proxy, settings, view)
    proxy.stop()


def run_target(workdir: Path, env: dict[str, str], destination: Destination, **settings: t.Any) -> Outcome:
    config = write_json(
        workdir / "target_config.json",
        {"workspace_id": "123456", "max_file_rows": 1_500, "batch_size_rows": 500, **destination.settings, **settings},
    )
    return run_plugin(TARGET, ["--config", str(config)], cwd=workdir, env=env, stdin=singer_input())


def ids_by_stream(bucket: bucket_audit.BucketView) -> dict[str, list[int]]:
    """Every id in every data file (each must be readable), per stream."""
    bucket_audit.assert_every_file_readable(bucket)
    found: dict[str, list[int]] = {s: [] for s in STREAMS}
    for key in bucket_audit.data_files(bucket):
        found[key.split("_v4_")[0]].extend(bucket_audit.column_values(bucket, [key], "id"))
    return found


def assert_states_cover_only_written_records(outcome: Outcome, bucket: bucket_audit.BucketView) -> None:
    written = ids_by_stream(bucket)
    for state in outcome.messages:
        for stream, count in state["written"].items():
            missing = set(range(1, count + 1)) - set(written[stream])
            assert not missing, (
                f"state {state} emitted but {len(missing)} of its {stream} records are not in the bucket"
            )


def test_transient_bucket_faults_are_retried_and_every_record_lands_once(
    destination: Destination, workdir: Path, env: dict[str, str]
) -> None:
    destination.proxy.inject(0.2, TRANSIENT, seed=5, slow_seconds=1.0)

    outcome = run_target(workdir, env, destination)

    assert outcome.returncode == 0, outcome.last_stderr_line
    assert len(destination.proxy.faults_injected()) >= 5, "the proxy hardly injected anything; the test proves nothing"
    for stream, ids in ids_by_stream(destination.bucket).items():
        assert sorted(ids) == list(range(1, RECORDS_PER_STREAM + 1)), f"{stream}: records lost or duplicated"
    assert outcome.messages[-1] == {"written": {s: RECORDS_PER_STREAM for s in STREAMS}}


@pytest.mark.parametrize("kind", ["503", "500", "reset"])
def test_persistently_failing_uploads_exit_non_zero_without_state_for_unwritten_data(
    destination: Destination, workdir: Path, env: dict[str, str], kind: str
) -> None:
    destination.proxy.inject(1.0, [kind], methods=["PUT", "POST"], path=r"events_v4_\w+_3\.parquet")

    outcome = run_target(workdir, env, destination, s3_max_attempts=3, azure_max_attempts=3)

    assert_one_line_error(outcome, "events_v4_123456_3.parquet")
    assert destination.proxy.faults_injected(), "no upload was attempted through the failing path"
    assert_states_cover_only_written_records(outcome, destination.bucket)
