"""The tap's progress line: one per stream every few seconds, saying how far the sync got and where it reads."""

from __future__ import annotations

import logging

import pytest

from tap_customerio.progress import Progress


class SteppedClock:
    """A clock the test moves by hand, so no test waits for real time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


def test_one_line_per_interval_with_records_so_far_rate_page_and_messages_window(
    clock: SteppedClock, caplog: pytest.LogCaptureFixture
) -> None:
    progress = Progress("messages", logging.getLogger("tap-customerio.messages"), interval=5.0, clock=clock)
    caplog.set_level(logging.INFO)

    progress.page("https://api.customer.io/v1/messages?limit=1000&start_ts=1764547200&end_ts=1767139199")
    for second in range(12):
        clock.now += 1.0
        for _ in range(100):
            progress.record()
        if second == 7:
            progress.page(
                "https://api.customer.io/v1/messages?limit=1000&start_ts=1767139200&end_ts=1769731199&start=abc"
            )

    assert caplog.messages == [
        "messages: 401 records so far (80/s), page 1 of /v1/messages, window 2025-12-01 to 2025-12-30",
        "messages: 901 records so far (90/s), page 2 of /v1/messages, window 2025-12-31 to 2026-01-29",
    ]


def test_a_stream_shorter_than_the_interval_logs_no_progress_line(
    clock: SteppedClock, caplog: pytest.LogCaptureFixture
) -> None:
    progress = Progress("segments", logging.getLogger("tap-customerio.segments"), interval=5.0, clock=clock)
    caplog.set_level(logging.INFO)

    progress.page("https://api.customer.io/v1/segments")
    for _ in range(10_000):
        progress.record()
    clock.now += 4.9
    progress.record()

    assert caplog.messages == []


def test_pages_without_a_window_name_their_endpoint(clock: SteppedClock, caplog: pytest.LogCaptureFixture) -> None:
    progress = Progress("campaign_actions", logging.getLogger("tap-customerio.x"), interval=5.0, clock=clock)
    caplog.set_level(logging.INFO)

    progress.page("http://127.0.0.1:8765/v1/campaigns/10/actions?start=2")
    clock.now += 10.0
    progress.record()

    assert caplog.messages == ["campaign_actions: 1 records so far (0/s), page 1 of /v1/campaigns/10/actions"]


def test_a_stream_reading_no_pages_through_the_base_class_names_no_page(
    clock: SteppedClock, caplog: pytest.LogCaptureFixture
) -> None:
    progress = Progress("newsletter_metrics", logging.getLogger("tap-customerio.x"), interval=5.0, clock=clock)
    caplog.set_level(logging.INFO)

    for _ in range(2):
        clock.now += 5.0
        for _ in range(1000):
            progress.record()

    assert caplog.messages == [
        "newsletter_metrics: 1 records so far (0/s)",
        "newsletter_metrics: 1,001 records so far (100/s)",
    ]
