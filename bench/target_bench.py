"""The target end to end: `target-parquet-bucket` as a subprocess, stdin from a generated Singer file.

Each measurement pairs the target with the pyarrow baseline on the same records in the same run, so the
ratio survives a busy machine better than either time. Rows are counted in the written parquet footers
afterwards (untimed), so a target that drops records cannot look fast.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import time
import typing as t
from pathlib import Path

import pyarrow.fs as pa_fs
import pyarrow.parquet as pq

from bench.baseline import BaselineRun, run_baseline
from bench.process import ProcessRun, run_measured

if t.TYPE_CHECKING:
    from bench.datagen import Dataset
    from bench.services import S3Endpoint

TARGET_EXECUTABLE = Path(sys.executable).with_name("target-parquet-bucket")
WORKSPACE_ID = "123456"


@dataclasses.dataclass(frozen=True)
class TargetRun:
    """One target run and what it wrote."""

    dataset: Dataset
    process: ProcessRun
    rows_written: int
    #: CPU seconds the in-process moto server spent serving the run: it shares the cores with the target.
    server_cpu_s: float | None = None

    @property
    def records_per_s(self) -> float:
        """End-to-end throughput, interpreter start-up included."""
        return self.dataset.records / self.process.wall_s

    @property
    def complete(self) -> bool:
        """Whether every input record landed in a parquet file."""
        return self.rows_written == self.dataset.records


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The target and the baseline on the same dataset."""

    target: TargetRun
    baseline: BaselineRun

    @property
    def ratio(self) -> float:
        """Target throughput as a fraction of the baseline's (1.0 = as fast as pyarrow alone)."""
        return self.baseline.wall_s / self.target.process.wall_s

    @property
    def baseline_records_per_s(self) -> float:
        """Baseline throughput."""
        return self.baseline.rows / self.baseline.wall_s


def _count_rows(filesystem: pa_fs.FileSystem, root: str) -> int:
    selector = pa_fs.FileSelector(root, recursive=True, allow_not_found=True)
    paths = [info.path for info in filesystem.get_file_info(selector) if info.path.endswith(".parquet")]
    return sum(pq.read_metadata(path, filesystem=filesystem).num_rows for path in paths)


def run_target(
    dataset: Dataset, settings: dict[str, t.Any], work_dir: Path, name: str, *, through_pipe: bool = False
) -> ProcessRun:
    """Run the target once over `dataset` with `settings`; logs and config land in `work_dir`."""
    work_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir / f"{name}.config.json"
    config.write_text(json.dumps({"workspace_id": WORKSPACE_ID, **settings}))
    argv = [str(TARGET_EXECUTABLE), "--config", str(config)]
    return run_measured(argv, stdin_path=dataset.singer_path, log_dir=work_dir, name=name, through_pipe=through_pipe)


def target_local(
    dataset: Dataset,
    work_dir: Path,
    compression: str,
    name: str,
    extra: dict[str, t.Any] | None = None,
    *,
    through_pipe: bool = False,
) -> TargetRun:
    """The target writing into a fresh local folder (with `extra` settings; stdin a pipe when `through_pipe`)."""
    bucket = work_dir / f"{name}.bucket"
    settings = {"bucket_url": str(bucket), "format": "parquet", "compression": compression, **(extra or {})}
    process = run_target(dataset, settings, work_dir, name, through_pipe=through_pipe)
    rows = _count_rows(pa_fs.LocalFileSystem(), str(bucket))
    shutil.rmtree(bucket, ignore_errors=True)
    return TargetRun(dataset, process, rows)


def target_s3(dataset: Dataset, s3: S3Endpoint, work_dir: Path, compression: str, name: str) -> TargetRun:
    """The target writing to a moto S3 bucket under a prefix of its own."""
    settings = {**s3.target_settings(name), "format": "parquet", "compression": compression}
    # moto runs in threads of this process, which otherwise only waits for the target here
    started = time.process_time()
    process = run_target(dataset, settings, work_dir, name)
    server_cpu_s = time.process_time() - started
    filesystem = pa_fs.S3FileSystem(
        access_key=s3.access_key_id,
        secret_key=s3.secret_access_key,
        region=s3.region,
        endpoint_override=s3.endpoint_url,
    )
    return TargetRun(dataset, process, _count_rows(filesystem, f"{s3.bucket}/{name}"), server_cpu_s)


def warm_page_cache(*paths: Path) -> None:
    """Read the inputs once, untimed, so neither side pays for a cold disk."""
    for path in paths:
        with path.open("rb") as source:
            while source.read(16 * 1024 * 1024):
                pass


def compare(dataset: Dataset, work_dir: Path, compression: str, repeat: int) -> Comparison:
    """Best of `repeat` runs of the baseline and of the target, alternating so drift hits both alike."""
    baselines: list[BaselineRun] = []
    targets: list[TargetRun] = []
    warm_page_cache(dataset.records_path, dataset.singer_path)
    for attempt in range(repeat):
        name = f"{dataset.stream}-{dataset.records}-{attempt}"
        baselines.append(run_baseline(dataset, work_dir / f"{name}.baseline", compression))
        targets.append(target_local(dataset, work_dir, compression, name))
    best_target = min(targets, key=lambda run: run.process.wall_s)
    return Comparison(best_target, min(baselines, key=lambda run: run.wall_s))
