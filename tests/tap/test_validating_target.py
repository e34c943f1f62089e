"""A full sync of every stream piped into a Singer target we did not write, which validates each record
against the stream's SCHEMA: `target-jsonl` from PyPI (it validates with jsonschema's Draft 4 validator).

target-jsonl pins jsonschema 2.6 and singer-python 5, which conflict with singer-sdk, so it is installed in
a virtualenv of its own (with `uv`, installed next to this interpreter by `make install`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from cio_simulator import Simulator
from tap.tap_harness import API_KEY, catalog_for, tap_config

from tap_customerio.tap import STREAM_TYPES

ALL_STREAMS = [stream_type.name for stream_type in STREAM_TYPES]
TAP = Path(sys.executable).with_name("tap-customerio")
UV = Path(sys.executable).with_name("uv")
TARGET_JSONL = "target-jsonl==0.1.4"


@pytest.fixture(scope="module")
def target_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `target-jsonl` executable, installed from PyPI into its own virtualenv."""
    venv = tmp_path_factory.mktemp("target-jsonl") / "venv"
    subprocess.run([str(UV), "venv", "--quiet", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), TARGET_JSONL],
        check=True,
        timeout=600,
    )
    return venv / "bin" / "target-jsonl"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=11, scale=0.5, api_key=API_KEY, requests_per_second=1000) as simulator:
        yield simulator


def test_target_jsonl_rejects_a_record_that_does_not_match_its_schema(target_jsonl: Path, tmp_path: Path) -> None:
    lines = [
        {
            "type": "SCHEMA",
            "stream": "s",
            "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "key_properties": ["id"],
        },
        {"type": "RECORD", "stream": "s", "record": {"id": "abc"}},
    ]
    result = subprocess.run(
        [str(target_jsonl)],
        input="".join(json.dumps(m) + "\n" for m in lines),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ValidationError" in result.stderr


def test_a_full_sync_of_every_stream_piped_into_target_jsonl_exits_0_on_both_sides_with_every_row(
    sim: Simulator, target_jsonl: Path, tmp_path: Path
) -> None:
    config = tap_config(
        sim, start_date="2020-01-01T00:00:00Z", metrics_days=2, workspace_id=sim.data.workspaces[0]["id"]
    )
    (tmp_path / "tap.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog_for(config, ALL_STREAMS)))
    out = tmp_path / "out"
    (tmp_path / "target.json").write_text(json.dumps({"destination_path": str(out), "do_timestamp_file": False}))

    sent: Counter = Counter()
    with (tmp_path / "tap.log").open("w") as tap_log, (tmp_path / "target.log").open("w") as target_log:
        target = subprocess.Popen(
            [str(target_jsonl), "--config", str(tmp_path / "target.json")],
            stdin=subprocess.PIPE,
            stderr=target_log,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        tap = subprocess.Popen(
            [str(TAP), "--config", str(tmp_path / "tap.json"), "--catalog", str(tmp_path / "catalog.json")],
            stdout=subprocess.PIPE,
            stderr=tap_log,
            text=True,
        )
        assert tap.stdout is not None and target.stdin is not None, "both pipes were asked for"
        target_reading = True
        for line in tap.stdout:
            message = json.loads(line)
            if message["type"] == "RECORD":
                sent[message["stream"]] += 1
            if target_reading:
                target_reading = forward(line, target)
        if target_reading:
            target.stdin.close()
        tap_code, target_code = tap.wait(timeout=600), target.wait(timeout=600)

    assert tap_code == 0, (tmp_path / "tap.log").read_text()[-3000:]
    assert target_code == 0, (tmp_path / "target.log").read_text()[-3000:]
    written = {path.stem: sum(1 for _ in path.open()) for path in out.glob("*.jsonl")}
    assert set(sent) == set(ALL_STREAMS)
    assert written == dict(sent)


def forward(line: str, target: subprocess.Popen[str]) -> bool:
    """Write one line to the target; False once it has stopped reading (it failed: its exit code says how)."""
    assert target.stdin is not None, "the target was started with stdin=PIPE"
    try:
        target.stdin.write(line)
    except BrokenPipeError:
        return False
    return True
