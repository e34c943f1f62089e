"""`make demo`: run `meltano run tap-customerio target-parquet-bucket` and summarise what this run wrote.

With `TAP_CUSTOMERIO_APP_API_KEY` set, the tap reads the real Customer.io App API. Without it, this script
starts the local Customer.io API simulator from `tests/cio_simulator` (the same one the tests use) and points
the tap at it, so the pipeline can be tried on a fresh machine with no account. Meltano keeps the state in
`.meltano/`, so running the demo again resumes from the bookmarks of the previous run.

The closing summary reads the run manifest the target writes (`_meta/manifests/<run_id>.json`, every file
that run uploaded), so a second run reports only what it added, not everything in the bucket.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MELTANO = Path(sys.executable).with_name("meltano")
DEMO_API_KEY = "demo-simulator-key"
DEMO_WORKSPACE_ID = "123456"
#: The tap's own words for a stream it skipped or gave up on (tap_customerio/client.py, failures.py).
STREAM_OUTCOME = re.compile(r"(Skipping stream '[^']+'.*|Stream '[^']+' \([^)]*\) failed.*)")


def meltano_run(env: dict[str, str]) -> tuple[int, list[str]]:
    """`meltano run`, its output passed through to the terminal; returns the exit code and the lines
    in which the tap reported a skipped or failed stream."""
    outcomes: list[str] = []
    with subprocess.Popen(
        [str(MELTANO), "run", "tap-customerio", "target-parquet-bucket"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:
            sys.stderr.write(line)
            outcome = stream_outcome(line)
            if outcome:
                outcomes.append(outcome)
    return process.returncode, outcomes


def stream_outcome(line: str) -> str | None:
    """The tap's words for a skipped or failed stream in a line of Meltano's output, without the fields
    Meltano appends (` cmd_type=elb …`)."""
    match = STREAM_OUTCOME.search(line)
    return match.group(1).split(" cmd_type=")[0].strip() if match else None


def run_manifests(output_dir: Path, since: datetime.datetime) -> list[dict]:
    """The manifests of the target runs that started at or after `since`."""
    manifests = []
    for path in sorted((output_dir / "_meta" / "manifests").glob("*.json")):
        manifest = json.loads(path.read_text())
        if datetime.datetime.fromisoformat(manifest["started_at"].replace("Z", "+00:00")) >= since:
            manifests.append(manifest)
    return manifests


def summarise(manifests: list[dict], outcomes: list[str]) -> str:
    """One line per stream with the files, rows and bytes this run uploaded, a total, then every stream the
    tap skipped or failed."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for manifest in manifests:
        for entry in manifest["files"]:
            counts = totals[entry["stream"]]
            counts[0] += 1
            counts[1] += entry["rows"]
            counts[2] += entry["bytes"]
    lines = [f"{'stream':<28} {'files':>5} {'rows':>11} {'bytes':>13}"]
    for stream, (files, rows, size) in sorted(totals.items()):
        lines.append(f"{stream:<28} {files:>5} {rows:>11,} {size:>13,}")
    files, rows, size = (sum(c[i] for c in totals.values()) for i in range(3))
    lines.append(f"{'total (this run)':<28} {files:>5} {rows:>11,} {size:>13,}")
    if not totals:
        lines.append("No new files: nothing changed since the last run.")
    lines.extend(f"skipped or failed: {outcome}" for outcome in outcomes)
    return "\n".join(lines)


def main() -> int:
    env = dict(os.environ)
    env.setdefault("TARGET_PARQUET_BUCKET_BUCKET_URL", str(ROOT / "output"))
    subprocess.run([str(MELTANO), "install"], cwd=ROOT, env=env, check=True)

    simulator = None
    if not env.get("TAP_CUSTOMERIO_APP_API_KEY"):
        sys.path.insert(0, str(ROOT / "tests"))
        from cio_simulator import Simulator

        simulator = Simulator(seed=1, scale=1.0, api_key=DEMO_API_KEY, workspace_id=int(DEMO_WORKSPACE_ID))
        simulator.start()
        print(f"No TAP_CUSTOMERIO_APP_API_KEY set: using the local Customer.io simulator at {simulator.base_url}")
        env.update(
            TAP_CUSTOMERIO_APP_API_KEY=DEMO_API_KEY,
            TAP_CUSTOMERIO_API_URL=simulator.base_url,
            TAP_CUSTOMERIO_WORKSPACE_ID=DEMO_WORKSPACE_ID,
        )
    started = datetime.datetime.now(tz=datetime.timezone.utc)
    try:
        code, outcomes = meltano_run(env)
    finally:
        if simulator is not None:
            simulator.stop()

    bucket = env["TARGET_PARQUET_BUCKET_BUCKET_URL"]
    print(f"\nThis run wrote to {bucket}:")
    if "://" not in bucket or bucket.startswith("file://"):
        print(summarise(run_manifests(Path(bucket.removeprefix("file://")), started), outcomes))
    if code:
        print(f"meltano run failed (exit {code}): see the error lines above")
    return code


if __name__ == "__main__":
    sys.exit(main())
