"""singer-sdk's standard tap tests (CLI, discovery, stream connections, final state, attributes) run
against the simulator. The simulator's port is only known once it runs, so the suite's config dict is
filled in by a module fixture before the suite's class-scoped runner syncs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cio_simulator import Simulator
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_customerio.tap import TapCustomerIO

SUITE_CONFIG: dict = {"app_api_key": "sim-key", "start_date": "2020-01-01T00:00:00Z", "request_timeout": 10,
                      "max_requests_per_second": 1000, "metrics_days": 3}


@pytest.fixture(scope="module", autouse=True)
def simulator_for_suite() -> Iterator[Simulator]:
    """A small simulated workspace (every resource present, few records) behind the suite's config."""
    with Simulator(seed=11, scale=0.2, api_key="sim-key", requests_per_second=1000) as sim:
        SUITE_CONFIG["api_url"] = sim.base_url
        yield sim


TestTapCustomerIO = get_tap_test_class(
    TapCustomerIO,
    config=SUITE_CONFIG,
    suite_config=SuiteConfig(max_records_limit=60),
)
