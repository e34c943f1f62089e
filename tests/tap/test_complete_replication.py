"""Every record the API exposes is emitted exactly once per stream, across pagination boundaries, while 20%
of requests fail (5xx, 429 with and without Retry-After, dropped connections, truncated bodies, timeouts).

One full sync of every stream runs per module; each test then compares one stream's primary keys with the
simulator's data. The simulated workspace has more than one page wherever an endpoint pages: campaigns with
23 actions (10 per page), newsletters (100 per page), a burst of >1000 deliveries in one `messages` window,
more than 1000 people (search pages and 100-person hydration batches), 1200 bounces (1000 per offset page).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from cio_simulator import FAULT_KINDS, Simulator
from tap.tap_expected import EXPECTED, expected_keys, key_fields
from tap.tap_harness import TapRun, run_tap, tap_config

from tap_customerio.tap import STREAM_TYPES

OWN_STREAMS = sorted(EXPECTED)
FAULTY_CONFIG = {
    "start_date": "2020-01-01T00:00:00Z",
    "metrics_days": 3,
    "request_timeout": 1,
    "retry_backoff_ms": 20,
    "max_retries": 12,
}


@pytest.fixture(scope="module")
def faulty_sim() -> Iterator[Simulator]:
    """A workspace whose API fails 20% of requests with every fault kind; slow responses exceed the timeout."""
    with Simulator(seed=7, scale=1.0, api_key="sim-key", requests_per_second=1000) as sim:
        sim.faults.configure(rate=0.2, kinds=FAULT_KINDS, seed=3, slow_seconds=1.5)
        yield sim


@pytest.fixture(scope="module")
def faulty_run(faulty_sim: Simulator) -> TapRun:
    return run_tap(tap_config(faulty_sim, **FAULTY_CONFIG), OWN_STREAMS)


def test_the_expectations_cover_every_stream_of_the_tap_except_the_export_streams() -> None:
    from tap_customerio.streams.export import EXPORT_STREAM_TYPES

    assert set(OWN_STREAMS) == {s.name for s in STREAM_TYPES if s not in EXPORT_STREAM_TYPES}


def test_the_run_really_met_every_fault_kind(faulty_sim: Simulator, faulty_run: TapRun) -> None:
    seen = Counter(entry.fault for entry in faulty_sim.request_log if entry.fault)
    assert set(seen) == set(FAULT_KINDS)
    assert sum(seen.values()) > 50


@pytest.mark.parametrize("stream", OWN_STREAMS)
def test_every_record_is_emitted_exactly_once_despite_faults(
    stream: str, faulty_sim: Simulator, faulty_run: TapRun
) -> None:
    expected = expected_keys(faulty_sim.data, stream, FAULTY_CONFIG)
    assert expected, f"the simulator has no {stream}: the test would prove nothing"
    assert faulty_run.keys(stream, *key_fields(stream)) == expected


def test_people_without_id_or_email_are_emitted_with_their_cio_id(faulty_run: TapRun) -> None:
    customers = faulty_run.records["customers"]
    without_id = [c for c in customers if c["id"] is None]
    without_email = [c for c in customers if c["email"] is None]
    assert without_id and without_email
    assert all(c["cio_id"] and c["attributes"] for c in without_id + without_email)


def test_unix_timestamps_are_emitted_as_iso_8601_utc_strings(faulty_sim: Simulator, faulty_run: TapRun) -> None:
    campaign = faulty_sim.data.campaigns[0]
    emitted = next(c for c in faulty_run.records["campaigns"] if c["id"] == campaign["id"])
    assert emitted["created"] == _iso(campaign["created"])
    assert emitted["updated"] == _iso(campaign["updated"])
    message = next(m for m in faulty_run.records["messages"] if "delivered" in m["metrics"])
    assert message["metrics"]["delivered"].endswith("+00:00")
    assert faulty_run.schema("messages")["properties"]["created"]["format"] == "date-time"


def test_action_ids_keep_the_string_type_the_live_api_sends(faulty_run: TapRun) -> None:
    ids = [a["id"] for a in faulty_run.records["campaign_actions"]]
    assert all(isinstance(i, str) for i in ids)
    assert "string" in faulty_run.schema("campaign_actions")["properties"]["id"]["type"]


def _iso(unix: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(unix, timezone.utc).isoformat()
