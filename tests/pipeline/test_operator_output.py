"""What a person running `meltano run tap-customerio target-parquet-bucket` sees, and the workspace id set once.

The console carries progress lines and one line per uploaded file, not singer-sdk's METRIC points, its
"unsorted" warnings or its per-parent lines of child streams (the project's `singer-logging.yaml` and the
tap's stream base class); the target names files with the workspace id given to the tap only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import typing as t
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from fixtures.meltano import REPO_ROOT, simulator_env
from tap.tap_harness import catalog_for

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from cio_simulator import Simulator
    from fixtures.meltano import MeltanoProject

WORKSPACE_ID = 123456
#: Two parents with child streams synced once per parent (10 campaigns, 120 newsletters in the simulator).
STREAMS = ("campaigns", "campaign_actions", "newsletters", "newsletter_variants", "segments")
#: Lines of Meltano's own and of the plugins' start and end, besides progress and upload lines. `make`
#: demo printed about 3,200 lines before, three quarters of them METRIC points (774 with the logging config).
LINE_BUDGET = 120
BIN = Path(sys.executable).parent


def test_a_run_prints_progress_and_uploads_within_a_line_budget_and_names_files_with_the_taps_workspace_id(
    meltano_project: MeltanoProject, make_cio_sim: Callable[..., Simulator]
) -> None:
    sim = make_cio_sim(seed=5, workspace_id=WORKSPACE_ID)
    env = simulator_env(sim, STREAMS, WORKSPACE_ID)
    del env["TARGET_PARQUET_BUCKET_WORKSPACE_ID"]
    bucket = Path(meltano_project.env["TARGET_PARQUET_BUCKET_BUCKET_URL"])

    lines = meltano_project.run("run", "tap-customerio", "target-parquet-bucket", env=env).stderr.splitlines()

    files = sorted(p.name for p in bucket.glob("*.parquet"))
    assert files == sorted(f"{stream}_v4_{WORKSPACE_ID}_1.parquet" for stream in STREAMS)
    uploads = [line for line in lines if re.search(r"Uploaded \S+_v4_123456_1\.parquet \(\d+ rows", line)]
    assert len(uploads) == len(files)
    assert [line for line in lines if "METRIC" in line or "unsorted" in line] == []
    assert [line for line in lines if "Beginning sync of 'newsletter_variants'" in line] == []
    other = [line for line in lines if "records so far" not in line and line not in uploads]
    assert len(other) <= LINE_BUDGET, "\n".join(other)


def test_singer_sdk_metric_points_go_to_singer_metrics_log_in_the_run_folder_not_to_the_console(
    make_cio_sim: Callable[..., Simulator], tmp_path: Path
) -> None:
    """Both plugins run as Meltano starts them, in the project folder with `SINGER_SDK_LOG_CONFIG` set."""
    sim = make_cio_sim(seed=5, workspace_id=WORKSPACE_ID)
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps({"api_url": sim.base_url, "app_api_key": sim.api_key}))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(catalog_for(json.loads(tap_config.read_text()), ["campaigns", "segments"])))
    target_config = tmp_path / "target.json"
    target_config.write_text(json.dumps({"bucket_url": str(tmp_path / "bucket")}))
    env = {**os.environ, "SINGER_SDK_LOG_CONFIG": str(REPO_ROOT / "singer-logging.yaml")}

    tap = subprocess.Popen(
        [str(BIN / "tap-customerio"), "--config", str(tap_config), "--catalog", str(catalog)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    target = subprocess.run(
        [str(BIN / "target-parquet-bucket"), "--config", str(target_config)],
        cwd=tmp_path,
        env=env,
        stdin=tap.stdout,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    tap_stderr = tap.communicate(timeout=300)[1].decode()

    points = [
        json.loads(line.split("METRIC: ", 1)[1]) for line in (tmp_path / "singer-metrics.log").read_text().splitlines()
    ]
    counted: dict[str, Counter[str]] = {"tap": Counter(), "target": Counter()}
    for point in points:
        if point["metric"] == "record_count":
            counted["tap" if point["tags"]["pid"] == tap.pid else "target"][point["tags"]["stream"]] += point["value"]
    expected = {"campaigns": len(sim.data.campaigns), "segments": len(sim.data.segments)}
    assert counted == {"tap": expected, "target": expected}
    assert any(p["metric"] == "http_request_duration" for p in points)
    assert "METRIC" not in tap_stderr + target.stderr
    assert tap.returncode == 0


def test_without_a_workspace_id_setting_export_files_are_named_with_the_workspace_the_tap_found(
    meltano_project: MeltanoProject, make_cio_sim: Callable[..., Simulator]
) -> None:
    """The key sees one workspace: the tap puts its id in the export rows, and the target names files by it."""
    sim = make_cio_sim(seed=5, workspace_id=987654)
    env = simulator_env(sim, ["deliveries", "people"], 987654)
    del env["TAP_CUSTOMERIO_WORKSPACE_ID"], env["TARGET_PARQUET_BUCKET_WORKSPACE_ID"]
    bucket = Path(meltano_project.env["TARGET_PARQUET_BUCKET_BUCKET_URL"])

    meltano_project.run("run", "tap-customerio", "target-parquet-bucket", env=env)

    assert sorted(p.name for p in bucket.glob("*.parquet")) == [
        "deliveries_v4_987654_1.parquet",
        "people_v4_987654_1.parquet",
    ]
    assert set(pq.read_table(bucket / "people_v4_987654_1.parquet").column("workspace_id").to_pylist()) == {987654}
