"""Which allocator Arrow's buffers come from in the `target-parquet-bucket` command: jemalloc on Linux (it hands
freed batches back, where the wheels' mimalloc keeps them: see `cli.py`), the operator's
`ARROW_DEFAULT_MEMORY_POOL` when it is set. The target names the allocator in its DEBUG log."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from target.target_runs import record_message, run_target, schema_message

MESSAGES = [schema_message("events", {"id": {"type": "integer"}}), record_message("events", {"id": 1})]


def environment(**variables: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "ARROW_DEFAULT_MEMORY_POOL"}
    return {**env, "LOGLEVEL": "DEBUG", **variables}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pyarrow's Linux wheels are the ones with jemalloc")
def test_the_target_takes_arrows_buffers_from_jemalloc(tmp_path: Path) -> None:
    run = run_target(MESSAGES, {"bucket_url": str(tmp_path)}, env=environment())

    assert run.exit_code == 0, run.stderr[-2000:]
    assert "Arrow allocator: jemalloc" in run.stderr


def test_an_allocator_chosen_with_arrow_default_memory_pool_is_kept(tmp_path: Path) -> None:
    run = run_target(MESSAGES, {"bucket_url": str(tmp_path)}, env=environment(ARROW_DEFAULT_MEMORY_POOL="mimalloc"))

    assert run.exit_code == 0, run.stderr[-2000:]
    assert "Arrow allocator: mimalloc" in run.stderr
