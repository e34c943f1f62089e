"""The target end to end on every backend: two runs of two streams land as complete, never-overwritten
parquet files whose rows and state are exactly what was sent; a missing bucket fails cleanly."""

from __future__ import annotations

import io
import re
import typing as t

import pyarrow.parquet as pq
import pytest
from fixtures import bucket_audit
from target.target_runs import run_target

if t.TYPE_CHECKING:
    from storage.conftest import Backend

SCHEMAS = {
    "deliveries": {
        "type": "SCHEMA",
        "stream": "deliveries",
        "key_properties": ["id"],
        "schema": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "created_at": {"type": ["string", "null"], "format": "date-time"},
            },
        },
    },
    "people": {
        "type": "SCHEMA",
        "stream": "people",
        "key_properties": ["id"],
        "schema": {"type": "object", "properties": {"id": {"type": "string"}, "email": {"type": ["string", "null"]}}},
    },
}


def delivery(n: int) -> dict[str, t.Any]:
    return {"type": "RECORD", "stream": "deliveries", "record": {"id": n, "created_at": f"2026-11-2{n % 10}T10:00:00Z"}}


def person(pid: str) -> dict[str, t.Any]:
    return {"type": "RECORD", "stream": "people", "record": {"id": pid, "email": f"{pid}@example.com"}}


def state(deliveries: int) -> dict[str, t.Any]:
    return {"type": "STATE", "value": {"bookmarks": {"deliveries": {"id": deliveries}}}}


def column(objects: dict[str, bytes], stream: str, name: str) -> list[t.Any]:
    values = []
    for key, data in objects.items():
        if key.rsplit("/", 1)[-1].startswith(f"{stream}_"):
            values += pq.read_table(io.BytesIO(data)).column(name).to_pylist()
    return sorted(values)


def sequences(objects: t.Iterable[str], stream: str) -> list[int]:
    pattern = re.compile(rf"(?:^|/){stream}_v4_42_(\d+)\.parquet$")
    return sorted(int(match.group(1)) for key in objects if (match := pattern.search(key)))


@pytest.mark.parametrize("backend", ["local", "s3", "azure-sas", "gcs"], indirect=True)
def test_two_runs_of_two_streams_land_complete_and_never_overwrite(backend: Backend) -> None:
    config = {**backend.config, "bucket_url": backend.url("customerio"), "workspace_id": "42"}
    first = run_target(
        [SCHEMAS["deliveries"], SCHEMAS["people"], *map(delivery, (1, 2, 3)), person("a"), person("b"), state(3)],
        config,
    )
    assert first.exit_code == 0, first.stderr
    assert first.states[-1] == state(3)["value"]
    after_first = bucket_audit.parquet_objects(backend.view("customerio"))

    second = run_target([SCHEMAS["deliveries"], *map(delivery, (4, 5)), state(5)], config)

    assert second.exit_code == 0, second.stderr
    assert second.states[-1] == state(5)["value"]
    after_second = bucket_audit.parquet_objects(backend.view("customerio"))
    assert {key: after_second[key] for key in after_first} == after_first  # nothing overwritten
    assert column(after_second, "deliveries", "id") == [1, 2, 3, 4, 5]
    assert column(after_second, "people", "email") == ["a@example.com", "b@example.com"]
    assert min(sequences(set(after_second) - set(after_first), "deliveries")) > max(
        sequences(after_first, "deliveries")
    )


@pytest.mark.parametrize("backend", ["s3", "azure-connection-string", "gcs"], indirect=True)
def test_missing_bucket_fails_in_one_line_without_state_or_secrets(backend: Backend) -> None:
    scheme = backend.root_url.split("://")[0]
    config = {**backend.config, "bucket_url": f"{scheme}://no-such-bucket-e2e/customerio"}

    run = run_target([SCHEMAS["people"], person("a"), state(1)], config)

    assert run.exit_code != 0
    assert run.states == []
    assert any("no-such-bucket-e2e" in line for line in run.error_lines), run.stderr
    for secret in ("moto-secret-access-key", "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq"):
        assert secret not in run.stderr + run.stdout
