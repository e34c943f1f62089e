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

Threads take turns with the interpreter lock every `THREAD_SWITCH_SECONDS` (CPython's default is 5 ms). The
upload threads give the lock up for each block they read, hash or send (botocore sends 128 KiB at a time), and
must then wait for the main thread, which holds it while it splits lines and checks records, to hand it back. With
the default, a 103 MiB PUT to moto took 9.7-10.3 s beside a thread running Python code, against 0.75-0.97 s alone;
with 0.2 ms, 1.4-1.5 s. In the bench's 1M `messages` to S3 (six alternating pairs), the large file's PUT took a
median 1.52 s instead of 1.91, and the run ended 0.25 s after its last file was closed instead of 0.49. Local runs
were unchanged (five pairs: medians 5.52 vs 5.58 s; `native_nested` 5.12 vs 5.12 s).
"""

from __future__ import annotations

import gc
import os
import sys

#: jemalloc is built into pyarrow's Linux wheels; the system allocator is in every build.
LEAN_ALLOCATOR = "jemalloc" if sys.platform.startswith("linux") else "system"
#: How long a thread holds the interpreter lock while another waits for it.
THREAD_SWITCH_SECONDS = 0.0002


def main() -> None:
    """Console script: the allocator and the process's settings first, then singer-sdk's command line of the target."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", LEAN_ALLOCATOR)
    sys.setswitchinterval(THREAD_SWITCH_SECONDS)
    gc.disable()
    from target_parquet_bucket.target import TargetParquetBucket  # loads pyarrow, which reads the variable

    gc.freeze()
    gc.enable()
    try:
        TargetParquetBucket.cli()
    finally:
        gc.freeze()
