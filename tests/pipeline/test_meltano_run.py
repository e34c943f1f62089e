"""`meltano run tap-customerio target-parquet-bucket`, as users schedule it, from the repo's own `meltano.yml`.

The first run lands every record of the selected streams as readable parquet; the second run, after the
workspace changed, starts from the bookmarks Meltano stored and writes only what changed since them.
"""

from __future__ import annotations

import json
import re
import typing as t
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
from fixtures.meltano import simulator_env

from tap_customerio.tap import STREAM_TYPES

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from cio_simulator import Simulator
    from fixtures.meltano import MeltanoProject

WORKSPACE_ID = "123456"
STREAMS = ("campaigns", "campaign_actions", "segments")
#: Streams that make one request per person: left out by the project's `select` (and by the tap's default).
PER_PERSON_STREAMS = {"customer_relationships", "subscription_preferences"}
LOOKBACK = timedelta(minutes=60)


def pipeline_env(sim: Simulator) -> dict[str, str]:
    return simulator_env(
        sim, STREAMS, int(WORKSPACE_ID), lookback_window_minutes=str(int(LOOKBACK.total_seconds() // 60))
    )


def rows(bucket: Path, stream: str, sequence: int) -> list[dict]:
    """The rows of one export-named file, which must exist and be readable."""
    return pq.read_table(bucket / f"{stream}_v4_{WORKSPACE_ID}_{sequence}.parquet").to_pylist()


def bookmark(state: dict, stream: str) -> datetime:
    return datetime.fromisoformat(state["singer_state"]["bookmarks"][stream]["replication_key_value"])


def test_first_run_lands_every_record_and_the_second_resumes_from_the_stored_bookmarks(
    meltano_project: MeltanoProject, make_cio_sim: Callable[..., Simulator]
) -> None:
    sim = make_cio_sim(seed=11, workspace_id=int(WORKSPACE_ID))
    bucket = Path(meltano_project.env["TARGET_PARQUET_BUCKET_BUCKET_URL"])
    env = pipeline_env(sim)

    meltano_project.run("run", "tap-customerio", "target-parquet-bucket", env=env)

    assert {r["id"] for r in rows(bucket, "campaigns", 1)} == {c["id"] for c in sim.data.campaigns}
    assert {r["id"] for r in rows(bucket, "segments", 1)} == {s["id"] for s in sim.data.segments}
    all_actions = {(a["campaign_id"], a["id"]) for actions in sim.data.campaign_actions.values() for a in actions}
    assert {(r["campaign_id"], r["id"]) for r in rows(bucket, "campaign_actions", 1)} == all_actions
    first_state = json.loads(meltano_project.state())

    changes = sim.mutate()
    second = meltano_project.run("run", "tap-customerio", "target-parquet-bucket", env=env)

    campaigns_bookmark = bookmark(first_state, "campaigns")
    assert f"Starting incremental sync of 'campaigns' with bookmark value: {campaigns_bookmark.isoformat()}" in (
        second.stderr + second.stdout
    )
    changed = rows(bucket, "campaigns", 2)
    assert set(changes["campaigns"]["updated"]) <= {r["id"] for r in changed}
    assert all(r["updated"] >= campaigns_bookmark - LOOKBACK for r in changed)
    assert len(changed) < len(sim.data.campaigns)
    assert bookmark(json.loads(meltano_project.state()), "campaigns") > campaigns_bookmark


def test_the_projects_selection_is_every_stream_but_those_making_one_request_per_person(
    meltano_project: MeltanoProject, make_cio_sim: Callable[..., Simulator]
) -> None:
    sim = make_cio_sim(seed=11, workspace_id=int(WORKSPACE_ID))
    env = {"TAP_CUSTOMERIO_API_URL": sim.base_url, "TAP_CUSTOMERIO_APP_API_KEY": sim.api_key}

    listed = meltano_project.run("select", "tap-customerio", "--list", env=env).stdout

    selected = set(re.findall(r"\[(?:selected|automatic)\s*\] (\w+)\.", listed))
    assert selected == {stream.name for stream in STREAM_TYPES} - PER_PERSON_STREAMS
