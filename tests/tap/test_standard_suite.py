"""singer-sdk's standard tap tests (CLI, discovery, stream connections, final state, attributes) run
against the simulator. The simulator's port is only known once it runs, so the suite's config dict is
filled in by a module fixture before the suite's class-scoped runner syncs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cio_simulator import Simulator
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap.tap_harness import catalog_for

from tap_customerio.tap import STREAM_TYPES, TapCustomerIO

SUITE_CONFIG: dict = {
    "app_api_key": "sim-key",
    "start_date": "2020-01-01T00:00:00Z",
    "request_timeout": 10,
    "max_requests_per_second": 1000,
    "metrics_days": 3,
}


def every_stream_selected() -> dict:
    """The catalog with every stream selected, streams off by default (`subscription_preferences`) included.

    The suite syncs every stream but checks records against the schema of streams created at collection time,
    which a catalog must select: without one, a stream off by default has an empty transformed schema.
    Discovery probes the API, so it runs against a throwaway simulator before the suite's own one starts.
    """
    with Simulator(seed=11, scale=0.05, api_key="sim-key", requests_per_second=1000) as sim:
        return catalog_for({**SUITE_CONFIG, "api_url": sim.base_url}, [stream.name for stream in STREAM_TYPES])


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
    catalog=every_stream_selected(),
)
