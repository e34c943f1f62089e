"""Fixtures for the simulator's own tests: an App API client per test, one read-only simulator per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cio_simulator import Simulator
from simulator.sim_api import Api


@pytest.fixture
def api(cio_sim: Simulator) -> Iterator[Api]:
    client = Api(cio_sim)
    yield client
    client.session.close()


@pytest.fixture(scope="module")
def read_only_sim() -> Iterator[Simulator]:
    """One simulator shared by a module's read-only tests (no faults, no mutations), to keep the suite quick."""
    with Simulator(seed=7, scale=1.0, api_key="sim-key", requests_per_second=0) as simulator:
        yield simulator
