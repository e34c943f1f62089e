"""A failing bucket never costs data: the target behind a faulty bucket retries transient faults and
lands every record once; a bucket that stays down stops it, in one line, before it emits state for what
it could not write; a slow upload holds up no other file.

The target writes to moto (S3) and Azurite (Azure Blob), and for transient faults and a failing chunk to
gcp-storage-emulator (GCS, whose small uploads name the object only in the request body, where the proxy
cannot pick one file), through a fault-injecting proxy on loopback:
requests fail with 500/503, connections reset before the request is handled, answers lost after the
request was handled, and slow answers. What landed is read back directly from the service, bypassing
the proxy.
"""

from __future__ import annotations

import base64
import os
import re
import typing as t
from urllib.parse import unquote

import pytest
from fixtures import bucket_audit
from fixtures.outcome import assert_one_line_error
from resilience.fault_proxy import ERROR_BODIES
from target.target_runs import TargetRun, record_message, run_target, schema_message, state_message

if t.TYPE_CHECKING:
    from fixtures.storage_services import S3Service
    from resilience.fault_proxy import FaultProxy
    from storage.conftest import Backend

STREAMS = ("orders", "events")
RECORDS_PER_STREAM = 2_000
STATE_EVERY = 500
TRANSIENT = ("500", "503", "reset", "lost_answer", "slow")
ORDERS = {"id": {"type": "integer"}, "amount": {"type": ["number", "null"]}, "note": {"type": ["string", "null"]}}


def singer_input() -> list[dict]:
    """Two interleaved streams; every STATE says how many records of each stream came before it."""
    messages = [schema_message(stream, ORDERS, key_properties=["id"]) for stream in STREAMS]
    for n in range(1, RECORDS_PER_STREAM + 1):
        messages += [record_message(s, {"id": n, "amount": n / 4, "note": f"{s} {n}"}) for s in STREAMS]
        if n % STATE_EVERY == 0:
            messages.append(state_message({"written": dict.fromkeys(STREAMS, n)}))
    return messages


@pytest.fixture
def proxy_in_front(
    backend: Backend, proxied: tuple[FaultProxy, dict[str, t.Any]]
) -> tuple[FaultProxy, dict[str, t.Any]]:
    """A fault proxy in front of the backend's service, and the target config that goes through it."""
    proxy, through_proxy = proxied
    settings = {"bucket_url": backend.url("sync"), "workspace_id": "123456", "max_file_rows": 500}
    return proxy, {**backend.config, **through_proxy, **settings, "batch_size_rows": 250}


def ids_by_stream(bucket: bucket_audit.BucketView) -> dict[str, list[int]]:
    """Every id in every data file (each must be readable), per stream."""
    bucket_audit.assert_every_file_readable(bucket)
    found: dict[str, list[int]] = {s: [] for s in STREAMS}
    for key in bucket_audit.data_files(bucket):
        found[key.split("_v4_")[0]].extend(bucket_audit.column_values(bucket, [key], "id"))
    return found


def assert_states_cover_only_written_records(run: TargetRun, bucket: bucket_audit.BucketView) -> None:
    written = ids_by_stream(bucket)
    for state in run.states:
        for stream, count in state["written"].items():
            missing = set(range(1, count + 1)) - set(written[stream])
            assert not missing, (
                f"state {state} emitted but {len(missing)} of its {stream} records are not in the bucket"
            )


@pytest.mark.parametrize("backend", ["s3", "azure-sas", "gcs"], indirect=True)
def test_transient_bucket_faults_are_retried_and_every_record_lands_once(
    backend: Backend, proxy_in_front: tuple[FaultProxy, dict[str, t.Any]]
) -> None:
    proxy, config = proxy_in_front
    proxy.inject(0.2, TRANSIENT, seed=5, slow_seconds=1.0)

    run = run_target(singer_input(), {**config, "s3_max_attempts": 10, "azure_max_attempts": 10})

    assert run.exit_code == 0, run.last_stderr_line
    assert len(proxy.faults_injected()) >= 5, "the proxy hardly injected anything; the test proves nothing"
    for stream, ids in ids_by_stream(backend.view("sync")).items():
        assert sorted(ids) == list(range(1, RECORDS_PER_STREAM + 1)), f"{stream}: records lost or duplicated"
    assert run.states[-1] == {"written": dict.fromkeys(STREAMS, RECORDS_PER_STREAM)}


@pytest.mark.parametrize("kind", ["503", "500", "reset"])
@pytest.mark.parametrize("backend", ["s3", "azure-sas"], indirect=True)
def test_persistently_failing_uploads_exit_in_one_line_without_state_for_unwritten_data_or_secrets(
    backend: Backend, proxy_in_front: tuple[FaultProxy, dict[str, t.Any]], kind: str
) -> None:
    proxy, config = proxy_in_front
    proxy.inject(1.0, [kind], methods=["PUT", "POST"], path=r"events_v4_\w+_3\.parquet")

    run = run_target(singer_input(), {**config, "s3_max_attempts": 3, "azure_max_attempts": 3})

    assert_one_line_error(run, "upload sync/events_v4_123456_3.parquet")
    assert proxy.faults_injected(), "no upload was attempted through the failing path"
    assert_states_cover_only_written_records(run, backend.view("sync"))
    assert "events_v4_123456_3.parquet" not in backend.view("sync").object_keys()
    assert_no_secret_in(run.stderr, backend)


def assert_no_secret_in(text: str, backend: Backend) -> None:
    """Neither the SAS signature (as sent, or URL-decoded) nor the S3 secret key appears in `text`."""
    signature = backend.config.get("azure_sas_url", "").partition("sig=")[2]
    for secret in (signature, unquote(signature), backend.config.get("aws_secret_access_key", "")):
        assert not secret or secret not in text


# Not GCS: its uploads name the object in the request body, where the proxy cannot pick one file to slow down.
@pytest.mark.parametrize("backend", ["s3", "azure-sas"], indirect=True)
def test_a_slow_upload_holds_up_no_file_closed_after_it_and_sequences_still_follow_the_rows(
    backend: Backend, proxy_in_front: tuple[FaultProxy, dict[str, t.Any]]
) -> None:
    proxy, config = proxy_in_front
    data_upload = re.compile(r"orders_v4_123456_(\d+)\.parquet")
    proxy.inject(1.0, ["slow"], methods=["PUT", "POST"], path=r"orders_v4_123456_1\.parquet", slow_seconds=3.0)
    messages = [schema_message("orders", ORDERS, key_properties=["id"])]
    messages += [record_message("orders", {"id": n, "amount": None, "note": None}) for n in range(1, 1201)]

    run = run_target([*messages, state_message({"written": 1200})], config)  # files of 500 rows: 3 files

    assert run.exit_code == 0, run.last_stderr_line
    # the proxy logs each request once the bucket answered it ("slow": forwarded 3 s late)
    uploads = [
        e for e in proxy.log if e.method in {"PUT", "POST"} and e.outcome in {"slow", "forwarded:200", "forwarded:201"}
    ]
    landed = [int(m[1]) for e in uploads if (m := data_upload.search(unquote(e.path)))]
    assert landed == [2, 3, 1]
    bucket = backend.view("sync")
    for number, first_id, last_id in [(1, 1, 500), (2, 501, 1000), (3, 1001, 1200)]:
        key = f"orders_v4_123456_{number}.parquet"
        assert bucket_audit.column_values(bucket, [key], "id") == list(range(first_id, last_id + 1))


@pytest.mark.parametrize("backend", ["s3", "azure-sas"], indirect=True)
def test_a_failing_run_names_the_upload_that_failed_not_a_file_skipped_because_of_it(
    backend: Backend, proxy_in_front: tuple[FaultProxy, dict[str, t.Any]]
) -> None:
    proxy, config = proxy_in_front
    # `orders`' four files hold every transfer thread for 3 s; meanwhile `events` cannot reserve its sequence,
    # so `notes`, named before that failure but still waiting for a thread, is skipped because of it
    proxy.inject(1.0, ["slow"], methods=["PUT", "POST"], path=r"orders_v4_123456_\d\.parquet", slow_seconds=3.0)
    content_type, body = ERROR_BODIES["503"]
    proxy.override(r"_meta/sequences/events\.json", 503, body, content_type, methods=["PUT"])
    messages = [schema_message(s, ORDERS) for s in ("notes", "events", "orders")]
    messages += [record_message(s, {"id": 1, "amount": None, "note": None}) for s in ("notes", "events")]
    messages += [record_message("orders", {"id": n, "amount": None, "note": None}) for n in range(1, 2001)]

    run = run_target(
        [*messages, state_message({"written": 2002})], {**config, "s3_max_attempts": 1, "azure_max_attempts": 1}
    )

    assert_one_line_error(run, "_meta/sequences/events.json")
    assert "earlier upload failed" not in run.stderr
    assert run.states == []


# S3 only: the proxy picks the first part by its number, and Azure's block ids carry none (GCS uploads once closed).
@pytest.mark.parametrize("backend", ["s3"], indirect=True)
def test_parts_of_a_file_being_written_hold_up_no_file_closed_while_they_go_up(
    backend: Backend, proxy_in_front: tuple[FaultProxy, dict[str, t.Any]]
) -> None:
    proxy, config = proxy_in_front
    # `events`' first part (its records are ~100 kB of incompressible text; parts of 5 MiB) is held for 3 s;
    # meanwhile `notes` fills a file of 500 rows, which must be named and land without waiting for that part
    first_part = re.compile(r"events_v4_123456_1\.parquet\?uploadId=[^&]+&partNumber=1$")
    proxy.inject(1.0, ["slow"], methods=["PUT"], path=first_part.pattern, slow_seconds=3.0)
    payloads = [base64.b64encode(os.urandom(75_000)).decode() for _ in range(130)]
    messages = [
        schema_message("events", {"id": {"type": "integer"}, "payload": {"type": "string"}}),
        schema_message("notes", ORDERS),
        *(record_message("events", {"id": n, "payload": p}) for n, p in enumerate(payloads)),
        *(record_message("notes", {"id": n, "amount": None, "note": None}) for n in range(1, 501)),
    ]

    run = run_target([*messages, state_message({"done": True})], {**config, "row_group_rows": 20, "batch_size_mb": 1})

    assert run.exit_code == 0, run.last_stderr_line
    # the proxy logs each request once the bucket answered it ("slow": forwarded 3 s late)
    answered = [unquote(e.path) for e in proxy.log if e.method == "PUT" and e.outcome in {"slow", "forwarded:200"}]
    landed = [
        "events part 1" if first_part.search(path) else "notes file"
        for path in answered
        if first_part.search(path) or path.endswith("/notes_v4_123456_1.parquet")
    ]
    assert landed == ["notes file", "events part 1"]
    bucket = backend.view("sync")
    assert bucket_audit.column_values(bucket, ["notes_v4_123456_1.parquet"], "id") == list(range(1, 501))
    assert bucket_audit.column_values(bucket, ["events_v4_123456_1.parquet"], "payload") == payloads


#: A part of `events`' first file sent while it is written: S3's second part, any of Azure's blocks, any
#: chunk of the GCS resumable upload (the emulator's upload ids name the object).
PART_OF_EVENTS_1 = {
    "s3": r"events_v4_123456_1\.parquet\?uploadId=[^&]+&partNumber=2$",
    "azure-sas": r"events_v4_123456_1\.parquet\?comp=block&",
    "gcs": r"upload_id=[^&]*events_v4_123456_1\.parquet",
}


@pytest.mark.parametrize("backend", ["s3", "azure-sas", "gcs"], indirect=True)
def test_a_part_that_cannot_be_sent_while_its_file_is_written_stops_the_run_without_state_or_leftover_parts(
    backend: Backend, proxy_in_front: tuple[FaultProxy, dict[str, t.Any]], request: pytest.FixtureRequest
) -> None:
    proxy, config = proxy_in_front
    content_type, body = ERROR_BODIES["503"]
    proxy.override(PART_OF_EVENTS_1[backend.name], 503, body, content_type, methods=["PUT"])
    payloads = [base64.b64encode(os.urandom(75_000)).decode() for _ in range(130)]
    messages = [
        schema_message("events", {"id": {"type": "integer"}, "payload": {"type": "string"}}),
        *(record_message("events", {"id": n, "payload": p}) for n, p in enumerate(payloads)),
        state_message({"events": 130}),
    ]
    settings = {
        **{"row_group_rows": 20, "batch_size_mb": 1, "gcs_upload_threshold_mb": 5, "gcs_chunk_size_mb": 5},
        **{"s3_max_attempts": 1, "azure_max_attempts": 1, "gcs_retry_timeout_s": 1},
    }

    run = run_target(messages, {**config, **settings})

    assert_one_line_error(run, "upload sync/events_v4_123456_1.parquet")
    assert_no_secret_in(run.stderr, backend)
    assert run.states == []
    assert "events_v4_123456_1.parquet" not in backend.view("sync").object_keys()
    if backend.name == "s3":  # Azure's staged blocks and GCS's open upload session expire unseen
        s3: S3Service = request.getfixturevalue("s3_service")
        uploads = s3.client().list_multipart_uploads(Bucket=backend.root_url.removeprefix("s3://"))
        assert uploads.get("Uploads", []) == []
