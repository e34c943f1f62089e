"""Table-format figures: Delta table mode against files mode on the same `messages` input, and an
upsert of the whole input into its own table with 10% of the records changed, for Delta and Iceberg;
rows are counted with delta-rs and pyiceberg afterwards (untimed), so a run that loses rows cannot look
fast."""

from __future__ import annotations

import shutil
import typing as t

from bench.process import ProcessFailed
from bench.report import Row, failed
from bench.target_bench import run_target

if t.TYPE_CHECKING:
    from pathlib import Path

    from bench.datagen import Dataset
    from bench.target_bench import TargetRun

AREA = "target tables"
MIN_RATIO = 0.5
MAX_RSS_MIB = 400
#: Every CHANGED_EVERY-th record of the upsert input has a changed subject.
CHANGED_EVERY = 10
_CHANGED = b'"subject":"(changed) '


def _delta_rows(table_path: Path) -> int:
    from deltalake import DeltaTable  # an extra of the target

    return DeltaTable(str(table_path)).count()


def _iceberg_rows(bucket: Path, stream: str) -> int:
    from pyiceberg.catalog.sql import SqlCatalog  # an extra of the target

    catalog = SqlCatalog("default", uri=f"sqlite:///{bucket / '_iceberg_catalog.db'}", warehouse=bucket.as_uri())
    return catalog.load_table(("customerio", stream)).scan().to_arrow().num_rows


def changed_input(dataset: Dataset, path: Path) -> Path:
    """The dataset's Singer file with the subject of every tenth record changed (streamed)."""
    with dataset.singer_path.open("rb") as source, path.open("wb") as out:
        records = 0
        for line in source:
            if line.startswith(b'{"type":"RECORD"'):
                records += 1
                if records % CHANGED_EVERY == 0:
                    line = line.replace(b'"subject":"', _CHANGED, 1)
            out.write(line)
    return path


def table_rows(files_run: TargetRun, work_dir: Path) -> list[Row]:
    """Delta append vs files mode on `files_run`'s input, then an upsert with 10% changed records."""
    dataset = files_run.dataset
    label = f"messages {dataset.records:,}"
    bucket = work_dir / "delta.bucket"
    try:
        append = run_target(dataset, {"bucket_url": str(bucket), "table_format": "delta"}, work_dir, "delta-append")
        rows = _delta_rows(bucket / dataset.stream)
        ratio = files_run.process.wall_s / append.wall_s
        result = [
            Row(
                AREA, f"{label}: delta rows written", f"{rows:,} of {dataset.records:,}", "all", rows == dataset.records
            ),
            Row(
                AREA,
                f"{label}: delta throughput / files mode",
                f"{ratio:.2f} (wall {append.wall_s:.1f}s vs {files_run.process.wall_s:.1f}s, "
                f"{append.peak_rss_mib:.0f} MiB, load {append.load_before:.1f})",
                f"≥ {MIN_RATIO}",
                ratio >= MIN_RATIO,
            ),
        ]
        changed = dataclass_with_path(dataset, changed_input(dataset, work_dir / "changed.singer.jsonl"))
        upsert = run_target(
            changed,
            {"bucket_url": str(bucket), "table_format": "delta", "load_method": "upsert"},
            work_dir,
            "delta-upsert",
        )
        rows = _delta_rows(bucket / dataset.stream)
        result.append(
            Row(
                AREA,
                f"{label}: delta upsert, {100 // CHANGED_EVERY}% changed",
                f"{dataset.records / upsert.wall_s:,.0f} rec/s "
                f"(wall {upsert.wall_s:.1f}s, {upsert.peak_rss_mib:.0f} MiB, "
                f"{rows:,} rows after, load {upsert.load_before:.1f})",
                f"one row per key, < {MAX_RSS_MIB} MiB",
                rows == dataset.records and upsert.peak_rss_mib < MAX_RSS_MIB,
            )
        )
    except (ProcessFailed, OSError) as exc:
        return [failed(AREA, label, exc)]
    finally:
        shutil.rmtree(bucket, ignore_errors=True)
    return [*result, iceberg_upsert_row(dataset, changed, work_dir)]


def iceberg_upsert_row(dataset: Dataset, changed: Dataset, work_dir: Path) -> Row:
    """`changed` upserted into an Iceberg table (embedded SQL catalog) `dataset` was appended to; context: no
    memory goal is set for Iceberg upserts (see docs/benchmarks.md)."""
    label = f"messages {dataset.records:,}: iceberg upsert, {100 // CHANGED_EVERY}% changed"
    bucket = work_dir / "iceberg.bucket"
    settings = {"bucket_url": str(bucket), "table_format": "iceberg"}
    try:
        run_target(dataset, settings, work_dir, "iceberg-append")
        upsert = run_target(changed, {**settings, "load_method": "upsert"}, work_dir, "iceberg-upsert")
        rows = _iceberg_rows(bucket, dataset.stream)
    except (ProcessFailed, OSError) as exc:
        return failed(AREA, label, exc)
    finally:
        shutil.rmtree(bucket, ignore_errors=True)
    value = (
        f"{dataset.records / upsert.wall_s:,.0f} rec/s (wall {upsert.wall_s:.1f}s, {upsert.peak_rss_mib:.0f} MiB, "
        f"{rows:,} rows after, load {upsert.load_before:.1f})"
    )
    return Row(AREA, label, value, "one row per key", rows == dataset.records)


def dataclass_with_path(dataset: Dataset, singer_path: Path) -> Dataset:
    """The same dataset read from another Singer file."""
    import dataclasses

    return dataclasses.replace(dataset, singer_path=singer_path)
