"""What a person running `meltano run tap-customerio target-parquet-bucket` sees, and the workspace id set once.

The console carries progress lines and one line per uploaded file, not singer-sdk's METRIC points, its
"unsorted" warnings or its per-parent lines of child streams (the project's `singer-logging.yaml` and the
tap's stream base class); the target names files with the workspace id given to the tap only.
"""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

from fixtures.meltano import simulator_env

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
