"""How the `target-parquet-bucket` command ends: the objects still alive are frozen first (`gc.freeze`), so the
interpreter's final garbage collections skip them (0.15-0.5 s of every run's end otherwise, see `cli.py`),
whether the run succeeded or failed. The atexit clean-ups still run after that."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from target.target_runs import record_message, run_target, schema_message

#: Runs the console script given as its first argument, as the shell would, and reports at exit (after the
#: target's own atexit clean-ups, being registered first) how many objects the garbage collector skips.
REPORT_AT_EXIT = """
import atexit, gc, runpy, sys
atexit.register(lambda: print(f"frozen objects at exit: {gc.get_freeze_count()}", file=sys.stderr))
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def frozen_at_exit(stderr: str) -> int:
    line = next(line for line in stderr.splitlines() if line.startswith("frozen objects at exit: "))
    return int(line.rsplit(" ", 1)[1])


@pytest.mark.parametrize(
    ("record", "exit_code"),
    [({"id": 1}, 0), ({"id": "not an integer"}, 1)],
    ids=["a run that succeeds", "a run that fails"],
)
def test_the_objects_alive_at_exit_are_frozen_for_the_final_collections(
    tmp_path: Path, record: dict, exit_code: int
) -> None:
    messages = [schema_message("events", {"id": {"type": "integer"}}), record_message("events", record)]

    run = run_target(messages, {"bucket_url": str(tmp_path)}, wrapper=[sys.executable, "-c", REPORT_AT_EXIT])

    assert run.exit_code == exit_code, run.stderr[-2000:]
    assert frozen_at_exit(run.stderr) > 10_000  # the modules' objects (60k here), pyarrow's and singer-sdk's among them
