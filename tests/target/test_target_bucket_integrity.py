"""What input cannot do to the bucket: ACTIVATE_VERSION and sequence markers name no other object,
a failed upload leaves no partial object, open files stay within the process's limit, and every
exit path removes the local temporary files."""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import subprocess
import typing as t

import pytest
from target.target_runs import data_files, read_parquet, record_message, run_target, schema_message, state_message

if t.TYPE_CHECKING:
    from pathlib import Path

USERS = schema_message("users", {"id": {"type": "integer"}})


def config(bucket: Path, **extra: object) -> dict:
    return {"bucket_url": str(bucket), "workspace_id": "123", **extra}


def first_run(bucket: Path, **extra: object) -> None:
    run = run_target([USERS, record_message("users", {"id": 1}), state_message({"run": 1})], config(bucket, **extra))
    assert run.exit_code == 0, run.stderr


# ACTIVATE_VERSION ---------------------------------------------------------------------------------


def test_an_activate_version_that_is_not_an_integer_stops_the_run_and_writes_nothing(tmp_path: Path) -> None:
    first_run(tmp_path)
    marker = (tmp_path / "_meta/sequences/users.json").read_bytes()
    messages = [
        USERS,
        record_message("users", {"id": 2}),
        state_message({"run": 2}),
        {"type": "ACTIVATE_VERSION", "stream": "users", "version": "../../sequences/users"},
        record_message("users", {"id": 3}),
        state_message({"run": 3}),
    ]

    run = run_target(messages, config(tmp_path))

    assert run.exit_code == 1
    assert run.states == []
    assert len(run.error_lines) == 1
    assert "input line 4: stream 'users': ACTIVATE_VERSION 'version' must be an integer" in run.error_lines[0]
    assert (tmp_path / "_meta/sequences/users.json").read_bytes() == marker
    assert not (tmp_path / "_meta/activate_version").exists()


def test_an_activate_version_cannot_replace_a_data_file_of_a_folder_template(tmp_path: Path) -> None:
    template = "{stream}/{sequence}.json"
    first_run(tmp_path, file_name_template=template)
    data = (tmp_path / "users/1.json").read_bytes()

    run = run_target(
        [USERS, {"type": "ACTIVATE_VERSION", "stream": "users", "version": "../../../users/1"}],
        config(tmp_path, file_name_template=template),
    )

    assert run.exit_code == 1
    assert "input line 2: stream 'users': ACTIVATE_VERSION 'version' must be an integer" in run.error_lines[0]
    assert (tmp_path / "users/1.json").read_bytes() == data


@pytest.mark.parametrize("version", [1.5, True, None, [1]])
def test_only_integer_versions_are_activated(tmp_path: Path, version: object) -> None:
    run = run_target([USERS, {"type": "ACTIVATE_VERSION", "stream": "users", "version": version}], config(tmp_path))

    assert run.exit_code == 1
    assert "input line 2: stream 'users': ACTIVATE_VERSION 'version' must be an integer" in run.error_lines[0]
    assert not (tmp_path / "_meta/activate_version").exists()


def test_a_version_activated_again_in_a_later_run_keeps_the_files_it_listed(tmp_path: Path) -> None:
    def activate_with(record_id: int) -> None:
        versioned = {**record_message("users", {"id": record_id}), "version": 7}
        run = run_target(
            [USERS, versioned, {"type": "ACTIVATE_VERSION", "stream": "users", "version": 7}], config(tmp_path)
        )
        assert run.exit_code == 0, run.error_lines

    activate_with(1)
    activate_with(2)

    marker = json.loads((tmp_path / "_meta/activate_version/users/7.json").read_bytes())
    assert marker["files"] == ["users_v4_123_1.parquet", "users_v4_123_2.parquet"]


# Sequence markers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "marker",
    [
        b'{"last": -5}',
        b'{"stream": "users", "last": -5}',
        b'{"stream": "users", "last": 0}',
        b'{"stream": "users", "last": "7"}',
        b'{"stream": "users", "last": 2.5}',
        b'{"stream": "other", "last": 3}',
        b"\x00\xffnot json",
    ],
)
def test_an_invalid_sequence_marker_stops_the_run_naming_the_marker(tmp_path: Path, marker: bytes) -> None:
    first_run(tmp_path)
    (tmp_path / "_meta/sequences/users.json").write_bytes(marker)

    run = run_target([USERS, record_message("users", {"id": 2}), state_message({"run": 2})], config(tmp_path))

    assert run.exit_code == 1
    assert run.states == []
    assert len(run.error_lines) == 1
    assert "sequence marker _meta/sequences/users.json" in run.error_lines[0]
    assert data_files(tmp_path) == ["users_v4_123_1.parquet"]


# Partial objects ----------------------------------------------------------------------------------


def _can_mount_in_a_user_namespace() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = [unshare, "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


#: Runs the target with `bucket` as a 64 KiB tmpfs (a disk that fills up), then copies what the bucket
#: holds to `after` for the test to look at (the tmpfs disappears with the namespace).
_ON_A_TINY_DISK = (
    'bucket=$0; after=$1; shift; mount -t tmpfs -o size=64k tmpfs "$bucket" || exit 99; '
    '"$@"; status=$?; cp -a "$bucket/." "$after/"; exit $status'
)


@pytest.mark.skipif(not _can_mount_in_a_user_namespace(), reason="needs unshare with user and mount namespaces")
def test_a_disk_full_upload_leaves_no_partial_object_and_names_the_key(tmp_path: Path) -> None:
    bucket, after = tmp_path / "bucket", tmp_path / "after"
    bucket.mkdir()
    after.mkdir()
    rows = [{"id": n, "blob": hashlib.sha512(str(n).encode()).hexdigest()} for n in range(3000)]
    messages = [schema_message("users", {"id": {"type": "integer"}, "blob": {"type": "string"}})]
    messages += [record_message("users", row) for row in rows] + [state_message({"run": 1})]
    wrapper = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", _ON_A_TINY_DISK, str(bucket), str(after)]

    run = run_target(messages, config(bucket), wrapper=wrapper)

    assert run.exit_code == 1, run.stderr
    assert sorted(p.name for p in after.rglob("*") if p.is_file()) == ["users.json"]  # the sequence marker only
    assert run.states == []
    assert len(run.error_lines) == 1
    assert "object 'users_v4_123_1.parquet'" in run.error_lines[0]
    assert "No space left on device" in run.error_lines[0]


# Open files ---------------------------------------------------------------------------------------


def limit_open_files(limit: int) -> t.Callable[[], None]:
    """A preexec_fn lowering RLIMIT_NOFILE (`ulimit -n`) in the target's process."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return apply


def test_many_streams_and_partitions_stay_within_the_open_files_limit(tmp_path: Path) -> None:
    bucket, work = tmp_path / "bucket", tmp_path / "work"
    work.mkdir()
    streams = [f"s{n}" for n in range(40)]
    messages: list = [schema_message(s, {"id": {"type": "integer"}, "p": {"type": "integer"}}) for s in streams]
    messages += [record_message(s, {"id": i, "p": i}) for s in streams for i in range(30)]
    messages.append(state_message({"done": True}))

    run = run_target(messages, config(bucket, partition_by="p", temp_dir=str(work)), preexec_fn=limit_open_files(1024))

    assert run.exit_code == 0, run.stderr[-2000:]
    assert run.states == [{"done": True}]
    keys = data_files(bucket)
    assert len(keys) == 40 * 30
    assert sorted(
        (key.split("/")[1].split("_v4")[0], read_parquet(bucket, key)["id"][0].as_py()) for key in keys
    ) == sorted((s, i) for s in streams for i in range(30))
    assert list(work.iterdir()) == []


def test_the_oldest_open_files_of_any_stream_are_uploaded_first_and_a_failure_leaves_no_temp_file(
    tmp_path: Path,
) -> None:
    """Under `ulimit -n 128` at most (128 - 64) / 2 = 32 files are open. Stream a opens 20 partition
    files, stream b 20 more: a's 8 oldest are uploaded to make room. Then stream c fails."""
    bucket, work = tmp_path / "bucket", tmp_path / "work"
    work.mkdir()
    schema = {"p": {"type": "integer"}}
    messages: list = [schema_message(s, schema) for s in ("a", "b", "c")]
    messages += [record_message("a", {"p": p}) for p in range(20)]
    messages += [record_message("b", {"p": p}) for p in range(20)]
    messages += [record_message("c", {"p": p}) for p in range(19)] + [record_message("c", {"p": "not a number"})]

    run = run_target(
        messages,
        config(bucket, partition_by="p", temp_dir=str(work), batch_size_rows=20),
        preexec_fn=limit_open_files(128),
    )

    assert run.exit_code == 1
    assert "stream 'c'" in run.error_lines[0]
    assert data_files(bucket) == sorted(f"p={p}/a_v4_123_{p + 1}.parquet" for p in range(8))
    assert list(work.iterdir()) == []


# Stream names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stream", "written_as"), [("../escape", "_escape"), ("a/b", "a_b")])
def test_a_stream_name_changed_for_object_names_is_logged_with_both_names(
    tmp_path: Path, stream: str, written_as: str
) -> None:
    run = run_target(
        [schema_message(stream, {"id": {"type": "integer"}}), record_message(stream, {"id": 1})], config(tmp_path)
    )

    assert run.exit_code == 0, run.stderr
    assert data_files(tmp_path) == [f"{written_as}_v4_123_1.parquet"]
    warnings = [line for line in run.stderr.splitlines() if "WARNING" in line and f"'{written_as}'" in line]
    assert len(warnings) == 1
    assert f"stream '{stream}' is written under the name '{written_as}'" in warnings[0]
