"""The `target-parquet-bucket` command: picks Arrow's allocator before pyarrow loads, then runs the target.

Arrow takes its allocator from `ARROW_DEFAULT_MEMORY_POOL` once, when pyarrow loads; `pa.set_memory_pool`
afterwards reaches only the allocations made through Python, not those inside Arrow's JSON reader and parquet
writer (measured: 1M `messages` still peaked at 265-273 MiB that way, against 220-228 with the variable). The
wheels' default, mimalloc, keeps the memory of freed batches for reuse, and a target frees a batch's worth every
few thousand records. Measured with jemalloc on the bench's 1M `messages` (pyarrow 26, 2 cores, alternating
runs): files mode peaks at 225-228 MiB instead of 288-292, `native_nested` at 217-222 instead of 303-318, a
Delta upsert with 10% changed at 385-395 instead of 406-419, at equal or shorter wall times. A value the
operator set is kept.

The garbage collector is kept off long-lived objects. It is off while the modules load (it collected about
150 times there, 0.05 s), and their objects are then frozen (`gc.freeze`), so no collection during the run walks
them. On the way out, the objects still alive are frozen too: the interpreter's final collections would
otherwise walk every one of them (pyarrow's, singer-sdk's and boto3's modules, and the run's own), which
measured 0.15-0.2 s of a local run's end and 0.3-0.5 s of an S3 run's, after the last STATE line was written.
Frozen objects are not collected; the process's memory goes back to the system as it exits. Nothing the target
needs happens in those collections: every file is closed and uploaded, and the clean-ups (temporary files,
unfinished uploads, log handlers) are `atexit` handlers, which run before them.
"""

from __future__ import annotations

import gc
import os
import sys

#: jemalloc is built into pyarrow's Linux wheels; the system allocator is in every build.
LEAN_ALLOCATOR = "jemalloc" if sys.platform.startswith("linux") else "system"


def main() -> None:
    """Console script: the allocator first, then singer-sdk's command line of the target."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", LEAN_ALLOCATOR)
    gc.disable()
    from target_parquet_bucket.target import TargetParquetBucket  # loads pyarrow, which reads the variable

    gc.freeze()
    gc.enable()
    try:
        TargetParquetBucket.cli()
    finally:
        gc.freeze()
