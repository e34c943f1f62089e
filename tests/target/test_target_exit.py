"""How the `target-parquet-bucket` command treats the garbage collector: the modules' objects are frozen once loaded
(`gc.freeze`), and the objects still alive at the end are frozen too, so the interpreter's final collections skip
them (0.15-0.5 s of every run's end otherwise: see `cli.py`), whether the run succeeded or failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.gc_at_exit import REPORT_WRAPPER, objects_at_exit
from target.target_runs import record_message, run_target, schema_message


@pytest.mark.parametrize(
    ("record", "exit_code"),
    [({"id": 1}, 0), ({"id": "not an integer"}, 1)],
    ids=["a run that succeeds", "a run that fails"],
)
def test_the_objects_alive_at_exit_are_frozen_for_the_final_collections(
    tmp_path: Path, record: dict, exit_code: int
) -> None:
    messages = [schema_message("events", {"id": {"type": "integer"}}), record_message("events", record)]

    run = run_target(messages, {"bucket_url": str(tmp_path)}, wrapper=REPORT_WRAPPER)

    assert run.exit_code == exit_code, run.stderr[-2000:]
    frozen, not_frozen = objects_at_exit(run.stderr)
    assert frozen > 10_000  # the modules' objects, frozen once loaded
    assert not_frozen < 100  # without the freeze at exit: 1,600 here, all made during the run
