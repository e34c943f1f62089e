"""Killing the pipeline anywhere loses nothing: tap | target on 200,000 deliveries.

The `messages` stream of a simulated workspace (200,000 deliveries over 13 months, including a newsletter
blast of 88,000 deliveries within one hour) is replicated by the real tap piped into the real target,
writing to a local bucket. A seeded schedule kills the target (SIGKILL) or the tap (SIGKILL) after a
random number of lines; each run resumes from the last STATE the target emitted, exactly as Meltano
would. After every run, and at the end, the bucket is audited:
- every data file is a complete, readable parquet file, and no object was ever overwritten;
- the state the target emitted never claims a delivery that is not in the bucket yet;
- a resumed run never re-reads deliveries older than the state it resumed from;
- in the end every delivery the API exposes is in the bucket, and a delivery appears twice only when
  an interrupted run wrote it after its last emitted state; the later copy has the larger
  `_sdc_sequence`, so keeping the largest `_sdc_sequence` per `id` removes every duplicate.
"""

from __future__ import annotations

import collections
import datetime
import random
import signal
import typing as t

import pytest

from resilience import bucket_audit
from resilience.pipeline import Interruption, PipelineRun, discover_catalog, run_pipeline, write_json

if t.TYPE_CHECKING:
    from pathlib import Path

API_KEY = "sim-key-crash-0001"
SEED = 20261123
SCALE = 80  # 2,500 deliveries per unit of scale: 200,000
INTERRUPTIONS = 8
START_DATE = "2020-01-01T00:00:00Z"


class Deliveries:
    """What the API exposes: every delivery id with its creation time (unix seconds)."""

    def __init__(self, sim: t.Any) -> None:
        data = sim.data
        self.created = {data.message_id(i): data._message_created[i] for i in range(len(data.messages))}  # noqa: SLF001

    def ids_before(self, moment: int) -> set[str]:
        return {i for i, created in self.created.items() if created < moment}


def bookmark(state: t.Any) -> int | None:
    """The `messages` bookmark of a target STATE, in unix seconds (None before the first window)."""
    value = ((state or {}).get("bookmarks", {}).get("messages") or {}).get("replication_key_value")
    if value is None:
        return None
    return int(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


class CrashingPipeline:
    """Runs the pipeline again and again from the last emitted state, auditing the bucket after each run."""

    def __init__(self, sim: t.Any, workdir: Path, bucket: Path, env: dict[str, str], *,
                 max_file_rows: int = 20_000) -> None:
        self.workdir, self.bucket, self.env = workdir, bucket, env
        self.deliveries = Deliveries(sim)
        tap_settings = {
            "app_api_key": API_KEY, "api_url": sim.base_url, "start_date": START_DATE, "workspace_id": 123456,
            "max_requests_per_second": 1000, "messages_window_days": 30, "messages_lookback_days": 0,
        }
        self.tap_config = write_json(workdir / "tap_config.json", tap_settings)
        self.target_config = write_json(workdir / "target_config.json", {
            "bucket_url": str(bucket), "workspace_id": "123456", "add_record_metadata": True,
            "max_file_rows": max_file_rows, "batch_size_rows": min(5_000, max_file_rows),
        })
        self.catalog = discover_catalog(self.tap_config, workdir, {"messages"}, env)
        self.state: t.Any = None
        self.runs: list[tuple[PipelineRun, set[str]]] = []  # each run with the data files it added

    def run(self, interruption: Interruption | None) -> PipelineRun:
        tap_args = ["--config", str(self.tap_config), "--catalog", str(self.catalog)]
        if self.state is not None:
            tap_args += ["--state", str(write_json(self.workdir / "state.json", self.state))]
        resumed_from = bookmark(self.state)
        before = bucket_audit.fingerprints(self.bucket)

        run = run_pipeline(tap_args, ["--config", str(self.target_config)], self.workdir,
                           env=self.env, interruption=interruption)

        after = bucket_audit.fingerprints(self.bucket)
        bucket_audit.assert_nothing_overwritten(before, after)
        bucket_audit.assert_every_file_readable(self.bucket)
        added = set(after) - set(before)
        self.runs.append((run, added))
        if resumed_from is not None:
            self.assert_no_reread_before(resumed_from, added)
        if run.last_state is not None:
            self.assert_state_covers_only_written_data(run.last_state)
            self.state = run.last_state
        return run

    def ids_in(self, keys: t.Iterable[str]) -> list[str]:
        return bucket_audit.column_values(self.bucket, sorted(keys), "id")

    def assert_no_reread_before(self, resumed_from: int, added: set[str]) -> None:
        reread = [i for i in self.ids_in(added) if self.deliveries.created[i] < resumed_from]
        assert not reread, f"{len(reread)} deliveries older than the resumed state were read again, e.g. {reread[:3]}"

    def assert_state_covers_only_written_data(self, state: t.Any) -> None:
        reached = bookmark(state)
        if reached is None:
            return
        present = set(self.ids_in(bucket_audit.data_files(self.bucket)))
        missing = self.deliveries.ids_before(reached) - present
        assert not missing, f"state claims deliveries up to {reached} but {len(missing)} are not in the bucket"


@pytest.fixture
def sim(make_cio_sim: t.Callable[..., t.Any]) -> t.Any:
    return make_cio_sim(seed=SEED, scale=SCALE, api_key=API_KEY, requests_per_second=10_000)


def kill_schedule(seed: int, count: int) -> list[Interruption]:
    """Alternating victims, each killed after a random number of lines (enough to pass a few windows)."""
    rng = random.Random(seed)
    return [
        Interruption("target" if n % 2 == 0 else "tap", rng.randint(2_000, 30_000), signal.SIGKILL)
        for n in range(count)
    ]


def test_killing_tap_or_target_anywhere_loses_no_delivery_and_duplicates_only_uncommitted_ones(
    sim: t.Any, workdir: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    pipeline = CrashingPipeline(sim, workdir, tmp_path / "bucket", env)

    for interruption in kill_schedule(SEED, INTERRUPTIONS):
        run = pipeline.run(interruption)
        if not run.interrupted:
            break
    final = pipeline.run(None)

    assert final.tap_returncode == 0, final.tap_stderr[-2000:]
    assert final.target_returncode == 0, final.target_stderr[-2000:]
    assert sum(run.interrupted for run, _ in pipeline.runs) >= INTERRUPTIONS // 2
    table = bucket_audit.read_table(pipeline.bucket, bucket_audit.data_files(pipeline.bucket),
                                    columns=["id", "_sdc_sequence"])
    ids = table.column("id").to_pylist()
    missing = set(pipeline.deliveries.created) - set(ids)
    assert not missing, f"{len(missing)} deliveries the API exposes never reached the bucket"
    assert_duplicates_only_from_interrupted_runs(pipeline, table)


@pytest.mark.parametrize("victim", ["target", "tap"])
def test_sigterm_commits_complete_files_with_their_state_or_nothing(
    make_cio_sim: t.Callable[..., t.Any], workdir: Path, tmp_path: Path, env: dict[str, str], victim: str
) -> None:
    small = make_cio_sim(seed=SEED, scale=8, api_key=API_KEY, requests_per_second=10_000)
    pipeline = CrashingPipeline(small, workdir, tmp_path / "bucket", env, max_file_rows=2_000)

    stopped = pipeline.run(Interruption(victim, 12_000, signal.SIGTERM))
    files_written = pipeline.runs[-1][1]
    final = pipeline.run(None)

    assert stopped.interrupted
    if files_written:
        assert stopped.states, f"SIGTERM left {len(files_written)} files in the bucket without emitting their state"
    assert final.target_returncode == 0, final.target_stderr[-2000:]
    present = set(bucket_audit.column_values(pipeline.bucket, bucket_audit.data_files(pipeline.bucket), "id"))
    assert set(pipeline.deliveries.created) <= present


def assert_duplicates_only_from_interrupted_runs(pipeline: CrashingPipeline, table: t.Any) -> None:
    """Each copy of a duplicated id comes from a different run, and all but the last from interrupted ones."""
    run_of_file = {key: n for n, (_, added) in enumerate(pipeline.runs) for key in added}
    copies: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
    for delivery, sequence, key in zip(*(table.column(c).to_pylist() for c in ("id", "_sdc_sequence", "_file")),
                                       strict=True):
        copies[delivery].append((run_of_file[key], sequence))
    for delivery, found in copies.items():
        if len(found) == 1:
            continue
        found.sort()
        runs = [n for n, _ in found]
        assert len(set(runs)) == len(runs), f"{delivery} was written twice within run {runs}"
        assert all(pipeline.runs[n][0].interrupted for n in runs[:-1]), f"{delivery} duplicated by complete runs {runs}"
        sequences = [s for _, s in found]
        assert sequences == sorted(set(sequences)), f"{delivery}: later copies must have larger _sdc_sequence"
