"""`make demo`: run `meltano run tap-customerio target-parquet-bucket` and summarise what landed.

With `TAP_CUSTOMERIO_APP_API_KEY` set, the tap reads the real Customer.io App API. Without it, this script
starts the local Customer.io API simulator from `tests/cio_simulator` (the same one the tests use) and points
the tap at it, so the pipeline can be tried on a fresh machine with no account. Meltano keeps the state in
`.meltano/`, so running the demo again resumes from the bookmarks of the previous run.
"""

from __future__ import annotations

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
#: The target's default file names, as Customer.io's export: <stream>_v<version>_<workspace_id>_<sequence>.parquet
EXPORT_NAME = re.compile(r"^(?P<stream>.+)_v\d+_[^_]+_\d+\.parquet$")


def meltano(*args: str, env: dict[str, str]) -> None:
    """Run a Meltano command in the project root, failing the demo if it fails."""
    subprocess.run([str(MELTANO), *args], cwd=ROOT, env=env, check=True)


def summarise(output_dir: Path) -> str:
    """One line per stream: files written and rows in them, read back from the parquet footers."""
    import pyarrow.parquet as pq

    files: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(output_dir.rglob("*.parquet")):
        match = EXPORT_NAME.match(path.name)
        files[match["stream"] if match else path.name].append(path)
    lines = [f"{'stream':<28} {'files':>5} {'rows':>9}"]
    for stream, paths in sorted(files.items()):
        rows = sum(pq.read_metadata(p).num_rows for p in paths)
        lines.append(f"{stream:<28} {len(paths):>5} {rows:>9}")
    return "\n".join(lines)


def main() -> int:
    env = dict(os.environ)
    env.setdefault("TARGET_PARQUET_BUCKET_BUCKET_URL", str(ROOT / "output"))
    meltano("install", env=env)

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
            TARGET_PARQUET_BUCKET_WORKSPACE_ID=DEMO_WORKSPACE_ID,
        )
    try:
        meltano("run", "tap-customerio", "target-parquet-bucket", env=env)
    finally:
        if simulator is not None:
            simulator.stop()

    bucket = env["TARGET_PARQUET_BUCKET_BUCKET_URL"]
    print(f"\nFiles written to {bucket}")
    if "://" not in bucket or bucket.startswith("file://"):
        print(summarise(Path(bucket.removeprefix("file://"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
