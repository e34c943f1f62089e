"""How the `tap-customerio` command treats the garbage collector: the modules' objects are frozen once loaded
(`gc.freeze`), and the objects still alive at the end are frozen too, so the interpreter's final collections skip
them (0.16-0.21 s after the last line otherwise, which a pipeline's target waits for too: see `cli.py`),
whether the sync succeeded or failed."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cio_simulator import Simulator
from tap.tap_harness import catalog_for, run_tap_process, tap_config

#: Runs the console script given as its first argument, as the shell would, and reports at exit (after the
#: tap's own atexit handlers, being registered first) how many objects the collector skips and would walk.
REPORT_AT_EXIT = """
import atexit, gc, runpy, sys
def report():
    print(f"objects at exit: {gc.get_freeze_count()} frozen, {len(gc.get_objects())} not", file=sys.stderr)
atexit.register(report)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def objects_at_exit(stderr: str) -> tuple[int, int]:
    """(frozen, not frozen): the objects the garbage collector skips at exit, and those it would walk."""
    line = next(line for line in stderr.splitlines() if line.startswith("objects at exit: "))
    frozen, not_frozen = re.findall(r"\d+", line)
    return int(frozen), int(not_frozen)


@pytest.mark.parametrize(
    ("api_key", "exit_code"), [("sim-key", 0), ("a-wrong-key", 1)], ids=["a sync that succeeds", "a sync that fails"]
)
def test_the_objects_alive_at_exit_are_frozen_for_the_final_collections(
    make_cio_sim: Callable[..., Simulator], tmp_path: Path, api_key: str, exit_code: int
) -> None:
    sim = make_cio_sim(scale=0.05)
    catalog = catalog_for(tap_config(sim), ["campaigns"])
    (tmp_path / "config.json").write_text(json.dumps({**tap_config(sim), "app_api_key": api_key}))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))

    run = run_tap_process(
        *("--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")),
        cwd=tmp_path,
        wrapper=[sys.executable, "-c", REPORT_AT_EXIT],
    )

    assert run.exit_code == exit_code, run.stderr[-2000:]
    frozen, not_frozen = objects_at_exit(run.stderr)
    assert frozen > 10_000  # the modules' objects, frozen once loaded
    assert not_frozen < 100  # without the freeze at exit: 6,500-13,000 here, all made during the sync
