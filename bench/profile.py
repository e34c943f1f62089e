"""`python -m bench.profile`: where the target's time goes, on the benchmark's own `messages` input.

Runs `target-parquet-bucket` under cProfile (stdin from the generated Singer file, local bucket) and writes
the functions with the most own time to `bench/results/profile-target.txt`. cProfile inflates the cost of
Python-level calls (per-line work) relative to C calls (msgspec, Arrow), so read it for the ranking of
the C-level parts and as an upper bound for the Python-level ones.
"""

from __future__ import annotations

import argparse
import io
import json
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.process import plugin_env
from bench.report import RESULTS
from bench.target_bench import TARGET_EXECUTABLE, WORKSPACE_ID
from bench.target_suite import TargetOptions, messages_dataset

TOP = 25


def profile_target(records: int, out: Path) -> str:
    """Profile one target run over `records` generated messages; return the report text."""
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        work = Path(tmp)
        options = TargetOptions((records,), 0, 0, "snappy", 1, 1, False, RESULTS / "data", work)
        dataset = messages_dataset(options, records)
        config = work / "config.json"
        config.write_text(json.dumps({"workspace_id": WORKSPACE_ID, "bucket_url": str(work / "bucket")}))
        stats_path = work / "target.prof"
        argv = [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(stats_path),
            str(TARGET_EXECUTABLE),
            "--config",
            str(config),
        ]
        with dataset.singer_path.open("rb") as stdin:
            subprocess.run(
                argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=plugin_env(), check=True
            )
        text = io.StringIO()
        pstats.Stats(str(stats_path), stream=text).sort_stats("tottime").print_stats(TOP)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.getvalue())
    return text.getvalue()


def main(argv: list[str]) -> int:
    """Command line: how many records to profile."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000, help="generated messages to feed the target")
    args = parser.parse_args(argv)
    out = RESULTS / "profile-target.txt"
    print(profile_target(args.records, out))
    print(f"Saved to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
