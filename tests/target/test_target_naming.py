"""File name templates, safe names and the per-stream sequence marker."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

import pytest

from target_parquet_bucket.naming import FileNamer, NamingError, SequenceCounter, safe_segment
from target_parquet_bucket.storage.local import LocalStorage

NOW = datetime.datetime(2026, 11, 22, 9, 8, 7, tzinfo=datetime.timezone.utc)


def test_default_template_renders_customerio_names() -> None:
    namer = FileNamer(
        "{stream}_v{version}_{workspace_id}_{sequence}.{format}", workspace_id="123", version="4", extension="parquet"
    )
    assert namer.key("deliveries", 17, now=NOW) == "deliveries_v4_123_17.parquet"


def test_every_token_renders() -> None:
    namer = FileNamer(
        "{date}/{stream}-{timestamp}-{sequence}.{format}", workspace_id="1", version="4", extension="csv.gz"
    )
    assert (
        namer.key("people", 2, now=NOW, partition="dt=2026-11-22/")
        == "2026-11-22/dt=2026-11-22/people-20261122T090807Z-2.csv.gz"
    )


@pytest.mark.parametrize(
    ("template", "complaint"),
    [
        ("{stream}_{seq}.{format}", "unknown token"),
        ("{stream}.{format}", "must contain {sequence}"),
        ("../{stream}_{sequence}", "relative path"),
        ("/{stream}_{sequence}", "relative path"),
        ("a//{stream}_{sequence}", "relative path"),
    ],
)
def test_unsafe_or_ambiguous_templates_are_refused(template: str, complaint: str) -> None:
    with pytest.raises(NamingError, match=complaint):
        FileNamer(template, workspace_id="1", version="4", extension="parquet")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("deliveries", "deliveries"),
        ("../x", "_x"),
        ("a/b", "a_b"),
        ("test:Special!in?attr", "test_Special_in_attr"),
        (".hidden", "hidden"),
    ],
)
def test_stream_names_become_single_safe_segments(name: str, safe: str) -> None:
    assert safe_segment(name, what="stream") == safe


def test_a_name_with_nothing_usable_is_refused() -> None:
    with pytest.raises(NamingError, match="no characters usable"):
        safe_segment("..", what="stream name")


def test_sequences_are_unique_and_increasing_under_concurrent_use(tmp_path: Path) -> None:
    counter = SequenceCounter(LocalStorage(tmp_path))
    taken: list[int] = []
    threads = [threading.Thread(target=lambda: taken.extend(counter.next("s") for _ in range(20))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(1, 81))
    assert SequenceCounter(LocalStorage(tmp_path)).next("s") == 81


def test_a_sequence_is_never_reused_in_a_run_even_if_the_marker_goes_back(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    counter = SequenceCounter(storage)
    assert [counter.next("s"), counter.next("s"), counter.next("s")] == [1, 2, 3]
    storage.put_bytes(SequenceCounter.marker_key("s"), b'{"stream": "s", "last": 1}', overwrite=True)
    assert counter.next("s") == 4


@pytest.mark.parametrize("version", ["../../sequences/users", "1/../2", 1.5, True])
def test_only_an_integer_version_names_an_activate_version_marker(version: object) -> None:
    with pytest.raises(NamingError, match="must be an integer"):
        FileNamer.activate_version_key("users", version)  # type: ignore[arg-type]  # a wrong type is the point
    assert FileNamer.activate_version_key("users", 1700000000000) == "_meta/activate_version/users/1700000000000.json"
