"""`python -m cio_simulator`: serve the simulator until SIGINT/SIGTERM (the demo runs it this way).

Run from `tests/` or with `PYTHONPATH=tests`. Prints the base URL (never the API key) on one line.
"""

from __future__ import annotations

import argparse
import signal
import sys

from .faults import FAULT_KINDS
from .server import Simulator


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cio_simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--api-key", default="sim-key", help="the bearer token clients must send")
    parser.add_argument("--requests-per-second", type=float, default=10, help="0 disables the rate limit")
    parser.add_argument("--retry-after", choices=("alternate", "always", "never"), default="alternate")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-seed", type=int, default=1)
    parser.add_argument("--fault-kinds", default=",".join(FAULT_KINDS))
    parser.add_argument("--anchor", type=int, default=None, help="unix time the data is generated relative to")
    parser.add_argument("--workspace-id", type=int, default=123456)
    parser.add_argument("--quirks", default="", help="comma-separated: empty_pages, sticky_end")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    simulator = Simulator(
        seed=args.seed,
        scale=args.scale,
        api_key=args.api_key,
        requests_per_second=args.requests_per_second,
        latency=args.latency,
        anchor=args.anchor,
        workspace_id=args.workspace_id,
        host=args.host,
        retry_after=args.retry_after,
        quirks=[q for q in args.quirks.split(",") if q],
    )
    simulator.faults.configure(rate=args.fault_rate, kinds=args.fault_kinds.split(","), seed=args.fault_seed)
    # Block the stop signals before the server threads start (they inherit the mask) and wait for them with
    # sigwait: a handler plus Event.wait() hangs when the kernel delivers the signal to a server thread, since
    # only the main thread's blocking wait is interrupted.
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    simulator.start(port=args.port)
    print(simulator.base_url, flush=True)
    try:
        signal.sigwait(stop_signals)
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
