"""Run target-parquet-bucket as a real subprocess on given Singer messages, and read its output.

Reusable by any test (fixture `run_target`, registered in the root `pytest_plugins`, or
`from target.target_runs import run_target`):

    run = run_target([schema_msg, record_msg, state_msg], {"bucket_url": str(tmp_path)})
    assert run.exit_code == 0 and run.states == [{"bookmarks": ...}]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

TARGET_EXECUTABLE = Path(sys.executable).with_name("target-parquet-bucket")

Message = dict | str | bytes


@dataclass
class TargetRun:
    """What one run of the target produced."""

    exit_code: int
    states: list[dict]  # every STATE line the target wrote to stdout, parsed, in order
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        """The target's one-line error reports (`target-parquet-bucket: error: ...`)."""
        return [line for line in self.stderr.splitlines() if line.startswith("target-parquet-bucket: error:")]


def singer_lines(messages: t.Iterable[Message]) -> bytes:
    """Dicts become JSON lines; str/bytes are passed through verbatim (for malformed input)."""
    out = bytearray()
    for message in messages:
        if isinstance(message, dict):
            out += json.dumps(message).encode()
        elif isinstance(message, str):
            out += message.encode()
        else:
            out += message
        out += b"\n"
    return bytes(out)


def run_target(
    messages: t.Iterable[Message],
    config: dict,
    *,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    preexec_fn: t.Callable[[], None] | None = None,
    wrapper: t.Sequence[str] = (),
) -> TargetRun:
    """Pipe `messages` into `target-parquet-bucket --config <config>`; never raises on failure.

    `preexec_fn` runs in the child before the target starts (e.g. to lower a resource limit);
    `wrapper` is a command prefix the target runs under (e.g. `unshare ...`), given the target's
    command line as its last arguments.
    """
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "config.json"
        config_path.write_text(json.dumps(config))
        completed = subprocess.run(  # our own console script; preexec_fn only sets limits
            [*wrapper, str(TARGET_EXECUTABLE), "--config", str(config_path)],
            input=singer_lines(messages),
            capture_output=True,
            timeout=timeout,
            env=env,
            preexec_fn=preexec_fn,
            check=False,
        )
    stdout = completed.stdout.decode()
    states = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return TargetRun(completed.returncode, states, stdout, completed.stderr.decode(errors="replace"))


def data_files(root: Path) -> list[str]:
    """Keys (relative, `/`-separated, sorted) of the data files in a local bucket, without `_meta/`."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not p.relative_to(root).as_posix().startswith("_meta/")
    )


def read_parquet(root: Path, key: str) -> pa.Table:
    """One parquet object of a local bucket, read with pyarrow (no dataset/partition inference)."""
    return pq.read_table(root / key, partitioning=None)


@pytest.fixture
def target_runner() -> t.Callable[..., TargetRun]:
    """The `run_target` function, as a fixture."""
    return run_target


def schema_message(stream: str, properties: dict, *, key_properties: list[str] | None = None, **schema: t.Any) -> dict:
    """A SCHEMA message for `stream` with the given JSON Schema properties."""
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": properties, **schema},
        "key_properties": key_properties or [],
    }


def record_message(stream: str, record: dict, **extra: t.Any) -> dict:
    """A RECORD message."""
    return {"type": "RECORD", "stream": stream, "record": record, **extra}


def state_message(value: dict) -> dict:
    """A STATE message."""
    return {"type": "STATE", "value": value}
