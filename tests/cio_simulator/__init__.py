"""A local Customer.io App API v1 simulator for tests, benchmarks and the demo.

    from cio_simulator import Simulator
    with Simulator(seed=7, scale=1.0, api_key="sim-key") as sim:
        sim.base_url   # "http://127.0.0.1:<port>/v1"

See `server.Simulator` for the controls (faults, latency, rate limit, mutations, request log) and
`python -m cio_simulator --help` for the standalone server.
"""

from .dataset import Dataset
from .faults import FAULT_KINDS, FaultInjector
from .server import LoggedRequest, Simulator

__all__ = ["FAULT_KINDS", "Dataset", "FaultInjector", "LoggedRequest", "Simulator"]
