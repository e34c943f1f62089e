"""`make demo`'s closing summary: what THIS run wrote, read from the target's run manifest, not the whole bucket."""

from __future__ import annotations

import datetime
import importlib.util
import logging
from pathlib import Path

from target.target_runs import TargetRun, record_message, run_target, schema_message, state_message

REPO_ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("demo", REPO_ROOT / "scripts" / "demo.py")
assert spec is not None and spec.loader is not None, "scripts/demo.py is a loadable Python file"
demo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo)


def load(bucket: Path, rows: dict[str, int]) -> TargetRun:
    """One target run writing `rows[stream]` records to each stream."""
    messages: list[dict] = []
    for stream, count in rows.items():
        messages.append(schema_message(stream, {"id": {"type": "integer"}}, key_properties=["id"]))
        messages += [record_message(stream, {"id": i}) for i in range(count)]
    messages.append(state_message({"bookmarks": {}}))
    run = run_target(messages, {"bucket_url": str(bucket), "workspace_id": "123456"})
    assert run.exit_code == 0, run.stderr
    return run


def test_the_summary_counts_the_files_rows_and_bytes_of_this_run_only(tmp_path: Path) -> None:
    bucket = tmp_path / "bucket"
    load(bucket, {"newsletter_metrics": 500, "segments": 3})
    second_started = datetime.datetime.now(tz=datetime.timezone.utc)
    load(bucket, {"newsletter_metrics": 20})

    summary = demo.summarise(demo.run_manifests(bucket, second_started), outcomes=[])

    size = (bucket / "newsletter_metrics_v4_123456_2.parquet").stat().st_size
    assert summary.splitlines() == [
        f"{'stream':<28} {'files':>5} {'rows':>11} {'bytes':>13}",
        f"{'newsletter_metrics':<28} {1:>5} {20:>11} {size:>13,}",
        f"{'total (this run)':<28} {1:>5} {20:>11} {size:>13,}",
    ]


def test_a_run_that_wrote_nothing_says_so_and_lists_skipped_and_failed_streams(tmp_path: Path) -> None:
    bucket = tmp_path / "bucket"
    load(bucket, {"segments": 3})
    failure = logging.LogRecord(
        "tap-customerio",
        logging.ERROR,
        __file__,
        0,
        "Stream '%s' (%s) failed%s, going on with the other streams: %s",
        ("messages", "/v1/messages", "", "HTTP 500"),
        None,
    ).getMessage()
    meltano_line = f"2026-11-30T15:35:27.961893Z [info     ] tap-customerio {failure} cmd_type=elb consumer=False"
    skipped = "Skipping stream 'exports': 403 Forbidden for /v1/exports"
    outcomes = [demo.stream_outcome(line) for line in (meltano_line, skipped, "tap-customerio Uploaded x.parquet")]

    summary = demo.summarise(demo.run_manifests(bucket, datetime.datetime.now(tz=datetime.timezone.utc)), outcomes[:2])

    assert outcomes[2] is None
    assert summary.splitlines()[1:] == [
        f"{'total (this run)':<28} {0:>5} {0:>11} {0:>13}",
        "No new files: nothing changed since the last run.",
        "skipped or failed: Stream 'messages' (/v1/messages) failed, going on with the other streams: HTTP 500",
        "skipped or failed: Skipping stream 'exports': 403 Forbidden for /v1/exports",
    ]
