"""Which allocator Arrow's buffers come from in the `target-parquet-bucket` command: jemalloc on Linux (it hands
freed batches back, where the wheels' mimalloc keeps them: see `cli.py`), the operator's
`ARROW_DEFAULT_MEMORY_POOL` when it is set. The target names the allocator in its DEBUG log. And memory the C
library keeps after freeing it: a Delta commit hands it back first."""

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


#: A Delta upsert commit after a run of freed input lines: how many MiB of glibc's heap it handed back.
HEAP_CHURN = """
import sys
import pyarrow as pa
from target_parquet_bucket.tables import Commit, DeltaStore

def heap_rss_mib():
    with open("/proc/self/smaps") as smaps:
        lines = iter(smaps)
        for line in lines:
            if line.rstrip().endswith("[heap]"):
                return next(int(l.split()[1]) for l in lines if l.startswith("Rss:")) / 1024

store = DeltaStore(sys.argv[1], {}, upsert_commit_mb=10)
rows = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]})
store.commit("events", Commit(rows, "append", ("id",), None), partition_by=None)
lines = [b"x" * 1000 + str(n).encode() for n in range(100_000)]  # about 100 MiB from malloc
kept = lines[::100]  # one line in a hundred still in use, all along the heap: free() alone keeps the pages
del lines
held = heap_rss_mib()
store.commit("events", Commit(rows, "upsert", ("id",), None), partition_by=None)
print(round(held - heap_rss_mib()))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_a_delta_commit_first_hands_the_pages_of_freed_input_lines_back_to_the_system(tmp_path: Path) -> None:
    """delta-rs allocates from its own jemalloc and cannot reuse them (see `tables._release_free_heap`)."""
    released = subprocess.run(
        [sys.executable, "-c", HEAP_CHURN, str(tmp_path / "tables")], capture_output=True, text=True, check=True
    )

    assert int(released.stdout) >= 80
