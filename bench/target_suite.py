"""Target figures: throughput ratio to pyarrow, peak memory at two or more sizes, S3 against local."""

from __future__ import annotations

import dataclasses
import typing as t

from bench import datagen, schemas, table_suite
from bench.process import ProcessFailed
from bench.report import Row, failed
from bench.services import moto_s3
from bench.target_bench import Comparison, TargetRun, compare, target_local, target_s3

if t.TYPE_CHECKING:
    from pathlib import Path

AREA = "target"
MIN_RATIO = 0.7
#: Inputs smaller than this are dominated by interpreter start-up; their ratio is shown, not judged.
JUDGED_FROM_BYTES = 256 * 1024 * 1024
MAX_RSS_MIB = 400
MAX_RSS_GROWTH = 0.20
MIN_S3_RATIO = 0.9
WARM_UP_RECORDS = 1_000
#: Beyond this the baseline (which holds the whole table in memory) is skipped; the target runs alone.
BASELINE_MAX_RECORDS = 2_000_000


@dataclasses.dataclass(frozen=True)
class TargetOptions:
    """What to measure."""

    sizes: tuple[int, ...]
    wide_records: int
    wide_columns: int
    compression: str
    repeat: int
    seed: int
    s3: bool
    data_dir: Path
    work_dir: Path


def human(count: int) -> str:
    """1000000 → '1M', 100000 → '100k'."""
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if count >= size and count % size == 0:
            return f"{count // size}{unit}"
    return str(count)


def messages_dataset(options: TargetOptions, records: int) -> datagen.Dataset:
    """The generated `messages` input of this size (cached)."""
    return datagen.ensure_dataset(
        "messages",
        schemas.messages_schema(),
        datagen.message_records,
        records=records,
        seed=options.seed,
        data_dir=options.data_dir,
        bare_records=records <= BASELINE_MAX_RECORDS,
    )


def wide_dataset(options: TargetOptions) -> datagen.Dataset:
    """The generated wide input (cached)."""
    columns = options.wide_columns
    return datagen.ensure_dataset(
        f"wide{columns}",
        schemas.wide_schema(columns),
        lambda count, seed: datagen.wide_records(count, seed, columns),
        records=options.wide_records,
        seed=options.seed,
        data_dir=options.data_dir,
    )


def repeats(dataset: datagen.Dataset, options: TargetOptions) -> int:
    """Judged comparisons take the best of `options.repeat` runs; start-up bound ones run once."""
    return options.repeat if dataset.singer_bytes >= JUDGED_FROM_BYTES else 1


def _label(dataset: datagen.Dataset) -> str:
    return f"{dataset.stream} {human(dataset.records)}"


def comparison_rows(comparison: Comparison) -> list[Row]:
    """Throughput of target and baseline, and their ratio (judged on large inputs only)."""
    target = comparison.target
    label = _label(target.dataset)
    if not target.complete:
        return [
            Row(AREA, f"{label}: rows written", f"{target.rows_written:,} of {target.dataset.records:,}", "all", False)
        ]
    process = target.process
    baseline = comparison.baseline
    speed = (
        f"{target.records_per_s:,.0f} vs pyarrow {comparison.baseline_records_per_s:,.0f} "
        f"(wall {process.wall_s:.1f}s vs {baseline.wall_s:.1f}s, cpu {process.cpu_s:.1f}s vs {baseline.cpu_s:.1f}s, "
        f"cores {process.cores:.2f} vs {baseline.cores:.2f}, "
        f"load before {process.load_before:.1f} vs {baseline.load_before:.1f}; "
        f"cpu ratio {baseline.cpu_s / process.cpu_s:.2f})"
    )
    judged = target.dataset.singer_bytes >= JUDGED_FROM_BYTES
    ratio = Row(
        AREA,
        f"{label}: throughput ratio to pyarrow",
        f"{comparison.ratio:.2f}",
        f"≥ {MIN_RATIO}" if judged else "(start-up bound)",
        comparison.ratio >= MIN_RATIO if judged else None,
    )
    return [Row(AREA, f"{label}: records/s", speed), ratio]


def memory_rows(runs: t.Sequence[TargetRun]) -> list[Row]:
    """Peak RSS across `messages` sizes: flat within 20% and under the cap."""
    peaks = [run.process.peak_rss_mib for run in runs]
    growth = peaks[-1] / peaks[0] - 1
    value = (
        " → ".join(f"{human(r.dataset.records)} {p:.0f} MiB" for r, p in zip(runs, peaks, strict=True))
        + f" ({growth:+.0%})"
    )
    ok = growth <= MAX_RSS_GROWTH and max(peaks) < MAX_RSS_MIB
    return [Row(AREA, "messages: peak RSS by input size", value, f"≤ +{MAX_RSS_GROWTH:.0%}, < {MAX_RSS_MIB} MiB", ok)]


@dataclasses.dataclass(frozen=True)
class Alternated:
    """The fastest default and variant runs of runs taken in turns, and a variant run that wrote fewer rows."""

    default: TargetRun
    variant: TargetRun
    incomplete: TargetRun | None
    #: default wall / variant wall of each turn: how far the machine's drift moves one ratio.
    turn_ratios: tuple[float, ...]

    @property
    def spread(self) -> str:
        """The turns' ratios as `low-high`, so a verdict a single noisy turn decided reads as such."""
        return f"turns {min(self.turn_ratios):.2f}-{max(self.turn_ratios):.2f}"


def alternate(
    repeat: int, default_run: t.Callable[[int], TargetRun], variant_run: t.Callable[[int], TargetRun]
) -> Alternated:
    """`repeat` runs of each, alternating, so that drift of the machine's speed hits both alike."""
    defaults: list[TargetRun] = []
    variants: list[TargetRun] = []
    for attempt in range(repeat):
        defaults.append(default_run(attempt))
        variants.append(variant_run(attempt))
    return Alternated(
        default=min(defaults, key=lambda run: run.process.wall_s),
        variant=min(variants, key=lambda run: run.process.wall_s),
        incomplete=next((run for run in variants if not run.complete), None),
        turn_ratios=tuple(d.process.wall_s / v.process.wall_s for d, v in zip(defaults, variants, strict=True)),
    )


def incomplete_row(metric: str, run: TargetRun) -> Row:
    """A run that wrote fewer rows than its input held."""
    return Row(AREA, metric, f"wrote {run.rows_written:,} of {run.dataset.records:,} rows", "all", False)


def s3_row(dataset: datagen.Dataset, options: TargetOptions) -> Row:
    """The same input written to moto S3 and to a local folder, best of `options.repeat` runs each."""
    metric = f"{_label(dataset)}: S3 (moto) throughput / local"
    work_dir, compression = options.work_dir, options.compression
    with moto_s3() as s3:
        runs = alternate(
            options.repeat,
            lambda attempt: target_local(dataset, work_dir, compression, f"local-{dataset.records}-{attempt}"),
            lambda attempt: target_s3(dataset, s3, work_dir, compression, f"s3-{dataset.records}-{attempt}"),
        )
    if runs.incomplete is not None:
        return incomplete_row(metric, runs.incomplete)
    local, remote = runs.default, runs.variant
    ratio = local.process.wall_s / remote.process.wall_s
    value = (
        f"{ratio:.2f} (best of {options.repeat} alternating, {runs.spread}: S3 {remote.records_per_s:,.0f} rec/s, "
        f"{remote.process.peak_rss_mib:.0f} MiB; "
        f"cpu {remote.process.cpu_s:.1f}s vs local {local.process.cpu_s:.1f}s, moto {remote.server_cpu_s:.1f}s; "
        f"load before {remote.process.load_before:.1f} vs {local.process.load_before:.1f})"
    )
    return Row(AREA, metric, value, f"≥ {MIN_S3_RATIO}", ratio >= MIN_S3_RATIO)


def variant_row(
    dataset: datagen.Dataset,
    options: TargetOptions,
    what: str,
    *,
    extra: dict[str, t.Any] | None = None,
    through_pipe: bool = False,
    judged: bool = False,
) -> Row:
    """The default run against a variant of it (`extra` settings, or stdin through a pipe written by this
    process as Meltano feeds a target), best of `options.repeat` runs each. `judged`: the variant must be at
    least as fast."""
    metric = f"{_label(dataset)}: {what}"
    work_dir, compression = options.work_dir, options.compression
    runs = alternate(
        options.repeat,
        lambda attempt: target_local(dataset, work_dir, compression, f"variant-{dataset.records}-{attempt}-default"),
        lambda attempt: target_local(
            dataset, work_dir, compression, f"variant-{dataset.records}-{attempt}", extra, through_pipe=through_pipe
        ),
    )
    if runs.incomplete is not None:
        return incomplete_row(metric, runs.incomplete)
    default, variant = runs.default, runs.variant
    ratio = default.process.wall_s / variant.process.wall_s
    value = (
        f"{ratio:.2f} (best of {options.repeat} alternating, {runs.spread}: {variant.records_per_s:,.0f} rec/s, wall "
        f"{variant.process.wall_s:.1f}s vs {default.process.wall_s:.1f}s, cpu {variant.process.cpu_s:.1f}s vs "
        f"{default.process.cpu_s:.1f}s, load before {variant.process.load_before:.1f})"
    )
    return Row(AREA, metric, value, "≥ 1.0" if judged else "", ratio >= 1.0 if judged else None)


def alone_row(run: TargetRun) -> Row:
    """Throughput of a run too large for the baseline, which would hold the whole table in memory."""
    if not run.complete:
        return Row(
            AREA,
            f"{_label(run.dataset)}: rows written",
            f"{run.rows_written:,} of {run.dataset.records:,}",
            "all",
            False,
        )
    process = run.process
    value = (
        f"{run.records_per_s:,.0f} (wall {process.wall_s:.1f}s, cpu {process.cpu_s:.1f}s, cores {process.cores:.2f}, "
        f"load before {process.load_before:.1f}; no baseline at this size)"
    )
    return Row(AREA, f"{_label(run.dataset)}: records/s", value)


def messages_rows(options: TargetOptions) -> tuple[list[Row], list[TargetRun]]:
    """Each `messages` size: against the baseline up to BASELINE_MAX_RECORDS, alone beyond."""
    rows: list[Row] = []
    runs: list[TargetRun] = []
    for size in options.sizes:
        try:
            dataset = messages_dataset(options, size)
            if size > BASELINE_MAX_RECORDS:
                run = target_local(dataset, options.work_dir, options.compression, f"messages-{size}")
                rows.append(alone_row(run))
            else:
                comparison = compare(dataset, options.work_dir, options.compression, repeats(dataset, options))
                rows += comparison_rows(comparison)
                run = comparison.target
        except (ProcessFailed, datagen.ShapeMismatch) as exc:
            rows.append(failed(AREA, f"messages {human(size)}", exc))
            continue
        runs.append(run)
    if len(runs) >= 2:
        rows += memory_rows(runs)
    return rows, runs


def wide_rows(options: TargetOptions) -> list[Row]:
    """The wide stream against the baseline, and its peak memory."""
    try:
        dataset = wide_dataset(options)
        wide = compare(dataset, options.work_dir, options.compression, repeats(dataset, options))
    except (ProcessFailed, datagen.ShapeMismatch) as exc:
        return [failed(AREA, f"wide {human(options.wide_records)}", exc)]
    peak = wide.target.process.peak_rss_mib
    memory = Row(
        AREA, f"{_label(wide.target.dataset)}: peak RSS", f"{peak:.0f} MiB", f"< {MAX_RSS_MIB} MiB", peak < MAX_RSS_MIB
    )
    return [*comparison_rows(wide), memory]


def run(options: TargetOptions) -> list[Row]:
    """Every target figure; a crash of one measurement becomes a FAIL row, the others still run."""
    target_local(messages_dataset(options, WARM_UP_RECORDS), options.work_dir, options.compression, "warm-up")
    rows, message_runs = messages_rows(options)
    if options.wide_records:
        rows += wide_rows(options)
    compared = [run for run in message_runs if run.dataset.records <= BASELINE_MAX_RECORDS]
    if compared:
        largest = max(compared, key=lambda run: run.dataset.records)
        rows += table_suite.table_rows(largest, options.work_dir)
        variants = (
            ("native_nested throughput / default", {"native_nested": True}, False, True),
            ("stdin through a pipe / from a file", None, True, False),
        )
        for what, extra, through_pipe, judged in variants:
            try:
                rows.append(
                    variant_row(largest.dataset, options, what, extra=extra, through_pipe=through_pipe, judged=judged)
                )
            except (ProcessFailed, datagen.ShapeMismatch) as exc:
                rows.append(failed(AREA, what, exc))
    if options.s3 and compared:
        largest = max(compared, key=lambda run: run.dataset.records)
        try:
            rows.append(s3_row(largest.dataset, options))
        except (ProcessFailed, datagen.ShapeMismatch) as exc:
            rows.append(failed(AREA, "S3 (moto)", exc))
    return rows
