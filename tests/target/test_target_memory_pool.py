"""Which allocator Arrow's buffers come from in the `target-parquet-bucket` command: jemalloc on Linux (it hands
freed batches back, where the wheels' mimalloc keeps them: see `cli.py`), the operator's
`ARROW_DEFAULT_MEMORY_POOL` when it is set. The target names the allocator in its DEBUG log."""

from __future__ import annotations

import os
import subprocess
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


#: Freed input lines held in glibc's heap, then what a Delta commit's first step hands back, in MiB.
HEAP_CHURN = """
from target_parquet_bucket.tables import _release_free_heap

def rss_mib():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

lines = [b"x" * 1000 + str(n).encode() for n in range(100_000)]  # about 100 MiB from malloc
kept = lines[::100]  # one line in a hundred still in use, all along the heap: free() alone keeps the pages
del lines
held = rss_mib()
_release_free_heap()
print(round(held - rss_mib()))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_a_delta_commit_first_hands_the_pages_of_freed_input_lines_back_to_the_system() -> None:
    """delta-rs allocates from its own jemalloc and cannot reuse them (see `tables._release_free_heap`)."""
    released = subprocess.run([sys.executable, "-c", HEAP_CHURN], capture_output=True, text=True, check=True)

    assert int(released.stdout) >= 80
