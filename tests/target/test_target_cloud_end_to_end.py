"""The target end to end against real bucket APIs (moto S3 server, Azurite, gcp-storage-emulator):
several streams, several runs, files read back with pyarrow."""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import signal
import struct
import subprocess
import termios
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from target.target_runs import (
    TARGET_EXECUTABLE,
    record_message,
    run_target,
    schema_message,
    singer_lines,
    state_message,
)

MIB = 1024 * 1024


@dataclass
class Bucket:
    """A target config for one backend, and a way to read what landed there."""

    config: dict[str, t.Any]
    secret: str | None
    keys: t.Callable[[], list[str]]
    read: t.Callable[[str], bytes]
    #: Parts (S3), blocks (Azure) or `LargeFile`'s 5 MiB chunks (GCS) sent for objects that do not exist yet.
    parts_in_progress: t.Callable[[], int] = lambda: 0


def s3_bucket(request: pytest.FixtureRequest) -> Bucket:
    s3 = request.getfixturevalue("s3_service")
    name = s3.create_bucket()
    client = s3.client()
    return Bucket(
        config={
            "bucket_url": f"s3://{name}/exports/cio",
            "s3_endpoint_url": s3.endpoint_url,
            "s3_region": s3.region,
            "aws_access_key_id": s3.access_key_id,
            "aws_secret_access_key": s3.secret_access_key,
        },
        secret=s3.secret_access_key,
        keys=lambda: sorted(o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"]),
        read=lambda key: client.get_object(Bucket=name, Key=key)["Body"].read(),
        parts_in_progress=lambda: sum(
            len(client.list_parts(Bucket=name, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", []))
            for u in client.list_multipart_uploads(Bucket=name).get("Uploads", [])
        ),
    )


def azure_bucket(request: pytest.FixtureRequest) -> Bucket:
    azurite = request.getfixturevalue("azurite_service")
    container = azurite.create_container()
    sas_url = azurite.container_sas_url(container)
    client = azurite.service_client().get_container_client(container)
    return Bucket(
        config={"bucket_url": f"azure://{container}/exports/cio", "azure_sas_url": sas_url},
        secret=sas_url.split("sig=")[1].split("&")[0],
        keys=lambda: sorted(client.list_blob_names()),
        read=lambda key: client.download_blob(key).readall(),
        parts_in_progress=lambda: sum(
            len(client.get_blob_client(blob.name).get_block_list("uncommitted")[1])
            for blob in client.list_blobs(include=["uncommittedblobs"])
        ),
    )


def gcs_bucket(request: pytest.FixtureRequest) -> Bucket:
    gcs = request.getfixturevalue("gcs_service")
    name = gcs.create_bucket()
    client = gcs.client()
    return Bucket(
        config={"bucket_url": f"gs://{name}/exports/cio", "gcs_endpoint_url": gcs.endpoint_url},
        secret=None,
        keys=lambda: sorted(b.name for b in client.list_blobs(name)),
        read=lambda key: client.bucket(name).blob(key).download_as_bytes(),
        parts_in_progress=lambda: sum(received // (5 * MIB) for received in gcs.bytes_in_open_uploads(name)),
    )


@pytest.mark.parametrize("make_bucket", [s3_bucket, azure_bucket, gcs_bucket], ids=["s3", "azure", "gcs"])
def test_two_runs_land_customerio_named_files_and_markers_in_the_bucket(
    request: pytest.FixtureRequest, make_bucket: t.Callable[[pytest.FixtureRequest], Bucket]
) -> None:
    bucket = make_bucket(request)
    config = {**bucket.config, "workspace_id": "42"}
    for run_number in (1, 2):
        messages = [
            schema_message("deliveries", {"id": {"type": "string"}, "n": {"type": "integer"}}),
            schema_message("metrics", {"event_id": {"type": "string"}}),
            record_message("deliveries", {"id": f"d{run_number}", "n": run_number}),
            record_message("metrics", {"event_id": f"e{run_number}"}),
            state_message({"run": run_number}),
        ]
        run = run_target(messages, config)
        assert run.exit_code == 0, run.stderr
        assert run.states == [{"run": run_number}]
        if bucket.secret:
            assert bucket.secret not in run.stderr

    keys = bucket.keys()
    assert [k for k in keys if "/_meta/" not in k] == [
        "exports/cio/deliveries_v4_42_1.parquet",
        "exports/cio/deliveries_v4_42_2.parquet",
        "exports/cio/metrics_v4_42_1.parquet",
        "exports/cio/metrics_v4_42_2.parquet",
    ]
    table = pq.read_table(io.BytesIO(bucket.read("exports/cio/deliveries_v4_42_2.parquet")))
    assert table.to_pylist() == [{"id": "d2", "n": 2}]
    assert json.loads(bucket.read("exports/cio/_meta/sequences/deliveries.json"))["last"] == 2
    assert sum(k.startswith("exports/cio/_meta/manifests/") for k in keys) == 2


@dataclass
class LargeFile:
    """A bucket, and input whose one file outgrows its 5 MiB part threshold well before the input ends."""

    bucket: Bucket
    config: dict[str, t.Any]
    config_path: Path  # `config`, for the target started by `start_target`
    stderr_path: Path
    payloads: list[str]
    messages: list[dict]  # SCHEMA, then one RECORD per payload

    @classmethod
    def for_bucket(cls, bucket: Bucket, tmp_path: Path) -> LargeFile:
        small_parts = {
            **{"s3_part_size_mb": 5, "s3_multipart_threshold_mb": 5},
            **{"azure_block_size_mb": 5, "azure_stage_threshold_mb": 5},
            **{"gcs_chunk_size_mb": 5, "gcs_upload_threshold_mb": 5},
            **{"row_group_rows": 20, "batch_size_mb": 1},
        }
        config = {**bucket.config, **small_parts, "workspace_id": "42"}
        config_path = tmp_path / "config.json"
        config_path.write_text(json.dumps(config))
        # ~100 kB of incompressible text per record: 200 records are ~20 MB of parquet, four parts.
        payloads = [base64.b64encode(os.urandom(75_000)).decode() for _ in range(220)]
        schema = schema_message("events", {"id": {"type": "integer"}, "payload": {"type": "string"}})
        records = [record_message("events", {"id": n, "payload": p}) for n, p in enumerate(payloads)]
        return cls(bucket, config, config_path, tmp_path / "stderr", payloads, [schema, *records])

    def start_target(self) -> subprocess.Popen[bytes]:
        """The target (our own console script) fed the first 200 records, once two parts of their
        file are in the bucket; its input stays open."""
        with self.stderr_path.open("wb") as stderr:
            target = subprocess.Popen(
                [str(TARGET_EXECUTABLE), "--config", str(self.config_path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        assert target.stdin is not None
        target.stdin.write(singer_lines(self.messages[:201]))
        target.stdin.flush()
        assert parts_sent(self.bucket, at_least=2, timeout=60) >= 2
        return target

    def stderr_tail(self) -> str:
        return self.stderr_path.read_text()[-800:]

    def payloads_in(self, key: str) -> list[str]:
        return pq.read_table(io.BytesIO(self.bucket.read(key))).column("payload").to_pylist()


@pytest.fixture(params=[s3_bucket, azure_bucket, gcs_bucket], ids=["s3", "azure", "gcs"])
def large_file(request: pytest.FixtureRequest, tmp_path: Path) -> LargeFile:
    return LargeFile.for_bucket(request.param(request), tmp_path)


def test_a_large_file_is_in_the_bucket_in_parts_before_the_input_ends(large_file: LargeFile) -> None:
    """So the end of a run waits for the last part of each file, not for whole files of up to 100 MiB."""
    target = large_file.start_target()
    data_before_the_end = data_keys(large_file.bucket)
    rest = singer_lines([*large_file.messages[201:], state_message({"done": True})])
    stdout, _ = target.communicate(rest, timeout=120)

    assert target.returncode == 0, large_file.stderr_tail()
    assert data_before_the_end == []
    assert [json.loads(line) for line in stdout.splitlines()] == [{"done": True}]
    assert data_keys(large_file.bucket) == ["exports/cio/events_v4_42_1.parquet"]
    assert large_file.payloads_in("exports/cio/events_v4_42_1.parquet") == large_file.payloads
    assert large_file.bucket.parts_in_progress() == 0


def test_a_target_killed_while_a_file_goes_up_in_parts_leaves_no_object_and_its_rerun_lands_every_record(
    large_file: LargeFile,
) -> None:
    """SIGKILL leaves no time to drop the parts: they stay invisible (an S3 incomplete upload, Azure
    uncommitted blocks, a GCS resumable upload) under a key the rerun never uses, since the killed run
    reserved its number."""
    target = large_file.start_target()
    parts_when_killed = large_file.bucket.parts_in_progress()
    target.kill()
    killed_stdout, _ = target.communicate(timeout=30)
    rerun = run_target([*large_file.messages, state_message({"done": True})], large_file.config)

    assert killed_stdout == b""
    assert rerun.exit_code == 0, rerun.stderr[-800:]
    assert rerun.states == [{"done": True}]
    assert data_keys(large_file.bucket) == ["exports/cio/events_v4_42_2.parquet"]
    assert large_file.payloads_in("exports/cio/events_v4_42_2.parquet") == large_file.payloads
    assert large_file.bucket.parts_in_progress() >= parts_when_killed  # the killed run's, left to expire


def test_sigterm_while_a_file_goes_up_in_parts_finishes_that_file_with_every_record_read_and_exits_143(
    large_file: LargeFile,
) -> None:
    target = large_file.start_target()
    wait_until_all_input_is_handled(target, timeout=60)
    target.send_signal(signal.SIGTERM)
    stdout, _ = target.communicate(timeout=120)

    assert target.returncode == 128 + signal.SIGTERM, large_file.stderr_tail()
    assert stdout == b""  # no STATE was received, so none is written
    assert data_keys(large_file.bucket) == ["exports/cio/events_v4_42_1.parquet"]
    assert large_file.payloads_in("exports/cio/events_v4_42_1.parquet") == large_file.payloads[:200]
    assert large_file.bucket.parts_in_progress() == 0


def data_keys(bucket: Bucket) -> list[str]:
    """The bucket's keys outside the target's `_meta/` folder."""
    listed = bucket.keys()
    return [key for key in listed if "/_meta/" not in key]


def wait_until_all_input_is_handled(target: subprocess.Popen[bytes], timeout: float) -> None:
    """Until the target has taken every byte written to it and waits for more: nothing is left unread in
    the pipe, and its main thread is blocked reading it, which it does only once every line read before
    was handled (Linux reports both: a pipe's unread bytes, and where a thread waits in the kernel)."""
    assert target.stdin is not None
    deadline = time.monotonic() + timeout
    while not (unread(target.stdin) == 0 and "pipe" in kernel_wait(target.pid)):
        assert time.monotonic() < deadline, f"input not handled within {timeout}s"
        time.sleep(0.05)


def unread(pipe: t.IO[bytes]) -> int:
    return struct.unpack("i", fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


def kernel_wait(pid: int) -> str:
    """The kernel function the process's main thread sleeps in (`anon_pipe_read`, `pipe_read`, …)."""
    return Path(f"/proc/{pid}/wchan").read_text()


def parts_sent(bucket: Bucket, *, at_least: int, timeout: float) -> int:
    """How many parts are in the bucket for objects not yet there, once at least `at_least` (0 on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (sent := bucket.parts_in_progress()) >= at_least:
            return sent
        time.sleep(0.2)
    return 0
