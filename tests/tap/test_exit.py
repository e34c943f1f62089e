"""How the `tap-customerio` command treats the garbage collector: the modules' objects are frozen once loaded
(`gc.freeze`), and the objects still alive at the end are frozen too, so the interpreter's final collections skip
them (0.16-0.21 s after the last line otherwise, which a pipeline's target waits for too: see `cli.py`),
whether the sync succeeded or failed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cio_simulator import Simulator
from fixtures.gc_at_exit import REPORT_WRAPPER, objects_at_exit
from tap.tap_harness import catalog_for, run_tap_process, tap_config


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
        wrapper=REPORT_WRAPPER,
    )

    assert run.exit_code == exit_code, run.stderr[-2000:]
    frozen, not_frozen = objects_at_exit(run.stderr)
    assert frozen > 10_000  # the modules' objects, frozen once loaded
    assert not_frozen < 100  # without the freeze at exit: 6,500-13,000 here, all made during the sync
