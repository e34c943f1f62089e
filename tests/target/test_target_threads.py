"""How the `target-parquet-bucket` command's threads share the interpreter lock: a thread waiting for it gets it
within 0.2 ms, not CPython's default 5 ms, so the upload threads keep files travelling to the bucket while the main
thread parses (measured in `cli.py`). The target names the interval in its DEBUG log."""

from __future__ import annotations

import os
from pathlib import Path

from target.target_runs import record_message, run_target, schema_message


def test_threads_take_turns_with_the_interpreter_lock_every_fifth_of_a_millisecond(tmp_path: Path) -> None:
    messages = [schema_message("events", {"id": {"type": "integer"}}), record_message("events", {"id": 1})]

    run = run_target(messages, {"bucket_url": str(tmp_path)}, env={**os.environ, "LOGLEVEL": "DEBUG"})

    assert run.exit_code == 0, run.stderr[-2000:]
    assert "thread switch interval: 0.2 ms" in run.stderr
