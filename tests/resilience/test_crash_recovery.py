"""Killing the pipeline anywhere loses nothing: tap | target on 300,000 deliveries.

The `messages` stream of a simulated workspace (300,000 deliveries over 13 months, including a newsletter
blast of 132,000 deliveries within one hour) is replicated by the real tap piped into the real target,
writing to a local bucket. A seeded schedule kills the target (SIGKILL) or the tap (SIGKILL) after a
random number of lines; each run resumes from the last STATE the target emitted, exactly as Meltano
would. After every run, and at the end, the bucket is audited:
- every data file is a complete, readable parquet file, and no object was ever overwritten;
- the state the target emitted never claims a delivery that is not in the bucket yet;
- a resumed run never re-reads deliveries older than the state it resumed from;
- in the end every delivery the API exposes is in the bucket, and a delivery appears twice only when
  an interrupted run wrote it after its last emitted state; the later copy has the larger
  `_sdc_sequence`, so keeping the largest `_sdc_sequence` per `id` removes every duplicate.
A smaller variant writes to S3 (moto server) with many small files, so kills land mid-upload; SIGTERM
must commit complete files together with their state, or nothing.
"""

from __future__ import annotations

import collections
import random
import signal
import typing as t

import pytest
from fixtures import bucket_audit

from resilience.pipeline import Interruption
from resilience.resumable import API_KEY, ResumingPipeline

if t.TYPE_CHECKING:
    from pathlib import Path

SEED = 20261123
SCALE = 120  # 2,500 deliveries per unit of scale: 300,000
INTERRUPTIONS = 12


@pytest.fixture
def sim(make_cio_sim: t.Callable[..., t.Any]) -> t.Any:
    return make_cio_sim(seed=SEED, scale=SCALE, api_key=API_KEY, requests_per_second=10_000)


def kill_schedule(seed: int, count: int, most_lines: int = 60_000) -> list[Interruption]:
    """Alternating victims, each killed after a random number of lines (enough to pass a few windows)."""
    rng = random.Random(seed)
    return [
        Interruption("target" if n % 2 == 0 else "tap", rng.randint(2_000, most_lines), signal.SIGKILL)
        for n in range(count)
    ]


def test_killing_tap_or_target_anywhere_loses_no_delivery_and_duplicates_only_uncommitted_ones(
    sim: t.Any, workdir: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    pipeline = ResumingPipeline(sim, workdir, tmp_path / "bucket", env)

    for interruption in kill_schedule(SEED, INTERRUPTIONS):
        run = pipeline.run(interruption)
        if not run.interrupted:
            break
    final = pipeline.run(None)

    assert final.tap_returncode == 0, final.tap_stderr[-2000:]
    assert final.target_returncode == 0, final.target_stderr[-2000:]
    assert sum(run.interrupted for run, _ in pipeline.runs) >= INTERRUPTIONS // 2
    table = bucket_audit.read_table(
        pipeline.bucket, bucket_audit.data_files(pipeline.bucket), columns=["id", "_sdc_sequence"]
    )
    ids = table.column("id").to_pylist()
    missing = set(pipeline.deliveries.created) - set(ids)
    assert not missing, f"{len(missing)} deliveries the API exposes never reached the bucket"
    assert_duplicates_only_from_interrupted_runs(pipeline, table)


def test_killing_the_target_mid_upload_to_s3_leaves_only_whole_objects_and_resumes_completely(
    make_cio_sim: t.Callable[..., t.Any], s3_service: t.Any, workdir: Path, env: dict[str, str]
) -> None:
    small = make_cio_sim(seed=SEED, scale=8, api_key=API_KEY, requests_per_second=10_000)
    name = s3_service.create_bucket()
    bucket = bucket_audit.S3Prefix(s3_service.client(), name, "cio")
    pipeline = ResumingPipeline(
        small,
        workdir,
        bucket,
        env,
        max_file_rows=1_000,
        bucket_settings={
            "bucket_url": f"s3://{name}/cio",
            "s3_endpoint_url": s3_service.endpoint_url,
            "s3_region": s3_service.region,
            "aws_access_key_id": s3_service.access_key_id,
            "aws_secret_access_key": s3_service.secret_access_key,
        },
    )

    for interruption in kill_schedule(SEED + 1, 4, most_lines=15_000):
        pipeline.run(interruption)
    final = pipeline.run()

    assert final.target_returncode == 0, final.target_stderr[-2000:]
    present = set(bucket_audit.column_values(bucket, bucket_audit.data_files(bucket), "id"))
    assert set(pipeline.deliveries.created) <= present


@pytest.mark.parametrize("victim", ["target", "tap"])
def test_sigterm_commits_complete_files_with_their_state_or_nothing(
    make_cio_sim: t.Callable[..., t.Any], workdir: Path, tmp_path: Path, env: dict[str, str], victim: str
) -> None:
    small = make_cio_sim(seed=SEED, scale=8, api_key=API_KEY, requests_per_second=10_000)
    pipeline = ResumingPipeline(small, workdir, tmp_path / "bucket", env, max_file_rows=2_000)
    rng = random.Random(SEED + 2)

    for _ in range(3):
        stopped = pipeline.run(Interruption(victim, rng.randint(3_000, 15_000), signal.SIGTERM))
        files_written = pipeline.runs[-1][1]
        assert stopped.interrupted
        if files_written:
            assert stopped.states, f"SIGTERM left {len(files_written)} files in the bucket without their state"
    final = pipeline.run(None)

    assert final.target_returncode == 0, final.target_stderr[-2000:]
    present = set(bucket_audit.column_values(pipeline.bucket, bucket_audit.data_files(pipeline.bucket), "id"))
    assert set(pipeline.deliveries.created) <= present


def assert_duplicates_only_from_interrupted_runs(pipeline: ResumingPipeline, table: t.Any) -> None:
    """Each copy of a duplicated id comes from a different run, and all but the last from interrupted ones."""
    run_of_file = {key: n for n, (_, added) in enumerate(pipeline.runs) for key in added}
    copies: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
    for delivery, sequence, key in zip(
        *(table.column(c).to_pylist() for c in ("id", "_sdc_sequence", "_file")), strict=True
    ):
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
