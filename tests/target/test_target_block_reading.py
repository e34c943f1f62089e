"""The target reads its input in large blocks and hands runs of RECORD lines over whole: lines are
still counted one by one (errors name the right line), and every line shape is read as before."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq

from target.target_runs import (
    TARGET_EXECUTABLE,
    data_files,
    record_message,
    run_target,
    schema_message,
    singer_lines,
    state_message,
)

SCHEMA = schema_message("s", {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}, key_properties=["id"])
OTHER = schema_message("t", {"id": {"type": "integer"}}, key_properties=["id"])


def rows_by_stream(root: Path) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for key in data_files(root):
        rows.setdefault(key.split("_v4_")[0], []).extend(pq.read_table(root / key).column("id").to_pylist())
    return rows


def test_a_bad_record_deep_in_a_long_run_is_named_by_its_input_line(tmp_path: Path) -> None:
    # ~120 bytes a line: line 4321 lies several 64 KiB pipe reads into one run of RECORD lines.
    records = [record_message("s", {"id": i, "name": "x" * 60}) for i in range(2, 6000)]
    records[4321 - 2] = record_message("s", {"id": 2.5, "name": "x" * 60})
    run = run_target([SCHEMA, *records, state_message({"done": True})], {"bucket_url": str(tmp_path)})
    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "stream 's', input line 4321:" in run.error_lines[0], run.error_lines[0]
    assert run.states == []


def test_interleaved_streams_states_blank_lines_and_crlf_are_read_line_by_line(tmp_path: Path) -> None:
    messages: list[dict | str | bytes] = [SCHEMA, OTHER]
    for i in range(3000):
        messages.append(record_message("s" if i % 7 else "t", {"id": i}))
        if i % 500 == 0:
            messages += [state_message({"at": i}), ""]
        if i % 250 == 0:
            messages.append(b'{"type":"RECORD","stream":"s","record":{"id":' + str(10_000 + i).encode() + b"}}\r")
    last = b'{"type": "RECORD", "stream": "t", "record": {"id": 99999}}'  # no final newline
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"bucket_url": str(tmp_path / "bucket")}))
    completed = subprocess.run(  # noqa: S603 - our own console script
        [str(TARGET_EXECUTABLE), "--config", str(config)],
        input=singer_lines(messages) + last, capture_output=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-800:]
    assert json.loads(completed.stdout.splitlines()[-1]) == {"at": 2500}
    rows = rows_by_stream(tmp_path / "bucket")
    expected_s = [i for i in range(3000) if i % 7] + [10_000 + i for i in range(0, 3000, 250)]
    assert sorted(rows["s"]) == sorted(expected_s)
    assert sorted(rows["t"]) == [*(i for i in range(3000) if not i % 7), 99999]


def test_a_record_longer_than_a_read_block_is_read_whole(tmp_path: Path) -> None:
    long_name = "é" * 1_500_000  # 3 MB of UTF-8, beyond one read of the input
    messages = [SCHEMA, record_message("s", {"id": 1}), record_message("s", {"id": 2, "name": long_name}), record_message("s", {"id": 3})]
    run = run_target(messages, {"bucket_url": str(tmp_path)})
    assert run.exit_code == 0, run.stderr[-800:]
    (key,) = data_files(tmp_path)
    table = pq.read_table(tmp_path / key)
    assert table.column("id").to_pylist() == [1, 2, 3]
    assert table.column("name").to_pylist() == [None, long_name, None]
