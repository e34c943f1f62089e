"""`split_initial_sync_streams`: a listed stream's first run is named `<sequence1>_<sequence2>`, as
Customer.io splits the initial metrics history; later runs use one sequence, above the first run's."""

from __future__ import annotations

import csv
import datetime
import json
import signal
import subprocess
import time
import typing as t
from pathlib import Path

import duckdb
import pytest
from target.target_runs import (
    TARGET_EXECUTABLE,
    assert_refused,
    data_files,
    record_message,
    run_target,
    schema_message,
    singer_lines,
    state_message,
)

from target_parquet_bucket.naming import FileNamer, FileSequence, NamingError

NOW = datetime.datetime(2026, 11, 22, 9, 8, 7, tzinfo=datetime.timezone.utc)
PROPERTIES = {"event_id": {"type": "string"}, "n": {"type": "integer"}, "day": {"type": "string"}}


def messages(stream: str, numbers: t.Iterable[int], *, bad_last: bool = False) -> list[dict]:
    rows = [record_message(stream, {"event_id": f"e{n}", "n": n, "day": f"d{n % 2}"}) for n in numbers]
    if bad_last:
        rows.append(record_message(stream, {"event_id": "bad", "n": "not a number", "day": "d0"}))
    return [schema_message(stream, PROPERTIES, key_properties=["event_id"]), *rows, state_message({"done": stream})]


def config(bucket: Path, **extra: t.Any) -> dict:
    return {
        "bucket_url": str(bucket),
        "workspace_id": "7",
        "max_file_rows": 2,
        "split_initial_sync_streams": ["metrics"],
        **extra,
    }


def marker(bucket: Path, stream: str) -> dict:
    return json.loads((bucket / "_meta" / "sequences" / f"{stream}.json").read_text())


def read_numbers(bucket: Path, key: str) -> list[int]:
    """`n` of every row of one parquet file, read by DuckDB."""
    relation = duckdb.sql(f"SELECT n FROM read_parquet('{bucket / key}') ORDER BY n")
    assert relation is not None, "a SELECT gives a relation"
    rows = relation.fetchall()
    return [n for (n,) in rows]


def test_the_first_run_of_a_listed_stream_is_split_and_the_next_run_takes_the_following_single_sequence(
    tmp_path: Path,
) -> None:
    first = run_target([*messages("metrics", range(5)), *messages("deliveries", range(3))], config(tmp_path))
    assert first.exit_code == 0, first.stderr[-800:]
    assert data_files(tmp_path) == [
        "deliveries_v4_7_1.parquet",
        "deliveries_v4_7_2.parquet",
        "metrics_v4_7_1_1.parquet",
        "metrics_v4_7_1_2.parquet",
        "metrics_v4_7_1_3.parquet",
    ]
    assert [read_numbers(tmp_path, f"metrics_v4_7_1_{part}.parquet") for part in (1, 2, 3)] == [[0, 1], [2, 3], [4]]
    assert marker(tmp_path, "metrics") == {"stream": "metrics", "last": 1}
    before = data_files(tmp_path)

    second = run_target(messages("metrics", range(5, 8)), config(tmp_path))
    assert second.exit_code == 0, second.stderr[-800:]
    new = sorted(set(data_files(tmp_path)) - set(before))
    assert new == ["metrics_v4_7_2.parquet", "metrics_v4_7_3.parquet"]
    assert [read_numbers(tmp_path, key) for key in new] == [[5, 6], [7]]
    assert marker(tmp_path, "metrics") == {"stream": "metrics", "last": 3}


def test_the_manifest_lists_each_split_file_with_its_sequence_and_part(tmp_path: Path) -> None:
    run = run_target(messages("metrics", range(3)), config(tmp_path))
    assert run.exit_code == 0, run.stderr[-800:]
    (manifest,) = (tmp_path / "_meta" / "manifests").iterdir()
    files = json.loads(manifest.read_text())["files"]
    assert [(f["key"], f["sequence"], f["part"], f["rows"]) for f in files] == [
        ("metrics_v4_7_1_1.parquet", 1, 1, 2),
        ("metrics_v4_7_1_2.parquet", 1, 2, 1),
    ]


def test_a_rerun_after_a_failed_first_run_overwrites_nothing_and_continues_above_its_sequence(tmp_path: Path) -> None:
    failed = run_target(messages("metrics", range(4), bad_last=True), config(tmp_path, batch_size_rows=2))
    assert_refused(failed, "metrics")
    written = {key: (tmp_path / key).read_bytes() for key in data_files(tmp_path)}
    assert sorted(written) == ["metrics_v4_7_1_1.parquet", "metrics_v4_7_1_2.parquet"]

    rerun = run_target(messages("metrics", range(4)), config(tmp_path, batch_size_rows=2))
    assert rerun.exit_code == 0, rerun.stderr[-800:]
    assert data_files(tmp_path) == [
        "metrics_v4_7_1_1.parquet",
        "metrics_v4_7_1_2.parquet",
        "metrics_v4_7_2.parquet",
        "metrics_v4_7_3.parquet",
    ]
    assert {key: (tmp_path / key).read_bytes() for key in written} == written
    assert [read_numbers(tmp_path, key) for key in ("metrics_v4_7_2.parquet", "metrics_v4_7_3.parquet")] == [
        [0, 1],
        [2, 3],
    ]


def test_a_rerun_after_the_first_run_was_killed_mid_history_overwrites_nothing(tmp_path: Path) -> None:
    bucket = tmp_path / "bucket"
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config(bucket, batch_size_rows=2)))
    split_files = ["metrics_v4_7_1_1.parquet", "metrics_v4_7_1_2.parquet"]
    with subprocess.Popen(
        [str(TARGET_EXECUTABLE), "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as killed:
        assert killed.stdin is not None
        killed.stdin.write(singer_lines(messages("metrics", range(4))[:-1]))  # no STATE; input stays open
        killed.stdin.flush()
        give_up = time.monotonic() + 120  # a bound on the wait, not a timing assertion
        while data_files(bucket) != split_files and killed.poll() is None and time.monotonic() < give_up:
            time.sleep(0.05)
        killed.send_signal(signal.SIGKILL)
    assert data_files(bucket) == split_files
    written = {key: (bucket / key).read_bytes() for key in split_files}

    rerun = run_target(messages("metrics", range(4)), config(bucket, batch_size_rows=2))
    assert rerun.exit_code == 0, rerun.stderr[-800:]
    assert data_files(bucket) == [*split_files, "metrics_v4_7_2.parquet", "metrics_v4_7_3.parquet"]
    assert {key: (bucket / key).read_bytes() for key in split_files} == written


def test_only_a_listed_stream_without_a_sequence_marker_is_split(tmp_path: Path) -> None:
    run_target(messages("metrics", range(1)), config(tmp_path, split_initial_sync_streams=[]))
    run = run_target(
        [*messages("metrics", range(3)), *messages("events", range(3))],
        config(tmp_path, split_initial_sync_streams=["metrics", "events"]),
    )
    assert run.exit_code == 0, run.stderr[-800:]
    assert data_files(tmp_path) == [
        "events_v4_7_1_1.parquet",
        "events_v4_7_1_2.parquet",
        "metrics_v4_7_1.parquet",
        "metrics_v4_7_2.parquet",
        "metrics_v4_7_3.parquet",
    ]


def test_split_csv_files_in_partition_folders_number_their_parts_across_the_run(tmp_path: Path) -> None:
    run = run_target(
        messages("metrics", range(4)),
        config(tmp_path, format="csv", compression="none", partition_by="day", max_file_rows=0),
    )
    assert run.exit_code == 0, run.stderr[-800:]
    files = data_files(tmp_path)
    assert sorted(Path(key).name for key in files) == ["metrics_v4_7_1_1.csv", "metrics_v4_7_1_2.csv"]
    rows = {key.split("/")[0]: [r["n"] for r in csv.DictReader((tmp_path / key).open())] for key in files}
    assert rows == {"day=d0": ["0", "2"], "day=d1": ["1", "3"]}


def test_a_folder_template_renders_the_pair_in_the_sequence_token(tmp_path: Path) -> None:
    run = run_target(
        messages("metrics", range(3)),
        config(tmp_path, format="jsonl", compression="none", file_name_template="{stream}/{sequence}.{format}"),
    )
    assert run.exit_code == 0, run.stderr[-800:]
    assert data_files(tmp_path) == ["metrics/1_1.jsonl", "metrics/1_2.jsonl"]
    assert [json.loads(line)["n"] for line in (tmp_path / "metrics/1_2.jsonl").read_text().splitlines()] == [2]


def test_a_template_where_a_split_sequence_could_read_as_part_of_the_stream_name_is_refused(tmp_path: Path) -> None:
    run = run_target(messages("metrics", range(1)), config(tmp_path, file_name_template="{stream}_{sequence}.{format}"))
    assert_refused(run, "file_name_template", "split_initial_sync_streams")
    assert data_files(tmp_path) == []


@pytest.mark.parametrize(
    ("template", "accepted"),
    [
        ("{stream}_v{version}_{workspace_id}_{sequence}.{format}", True),
        ("{stream}/{sequence}.{format}", True),
        ("{stream}-x{sequence}.{format}", True),
        ("{sequence}-{stream}.{format}", True),
        ("{stream}_{sequence}.{format}", False),
        ("{stream}_{workspace_id}_{sequence}.{format}", False),
        ("{stream}_{date}_{sequence}.{format}", False),
    ],
)
def test_templates_are_checked_for_split_sequences_only_when_streams_are_split(template: str, accepted: bool) -> None:
    FileNamer(template, workspace_id="12", version="4", extension="parquet")
    if accepted:
        FileNamer(template, workspace_id="12", version="4", extension="parquet", split=True)
    else:
        with pytest.raises(NamingError, match="split_initial_sync_streams"):
            FileNamer(template, workspace_id="12", version="4", extension="parquet", split=True)


def test_a_split_sequence_renders_as_two_numbers_joined_by_an_underscore() -> None:
    namer = FileNamer(
        "{stream}_v{version}_{workspace_id}_{sequence}.{format}",
        workspace_id="123",
        version="4",
        extension="parquet",
        split=True,
    )
    assert namer.key("metrics", FileSequence(3, 12), now=NOW) == "metrics_v4_123_3_12.parquet"
    assert namer.key("metrics", FileSequence(4), now=NOW) == "metrics_v4_123_4.parquet"
