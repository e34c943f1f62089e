"""Run the tap in-process with a chosen set of streams and collect what it emits.

singer-sdk's `TapTestRunner` only does record-limited dry runs and takes no state, so export tests use
this small runner: a real sync (`Tap.sync_all`) with the state of the previous run, messages collected
by a message writer instead of parsed back from stdout.
"""

from __future__ import annotations

import copy
import typing as t
from collections import defaultdict
from dataclasses import dataclass, field

from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.encoding.simple import SimpleSingerWriter

from tap_customerio.tap import TapCustomerIO

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import Message


class CollectingWriter(SimpleSingerWriter):
    """Keeps RECORD and STATE messages in memory instead of writing them to stdout."""

    def __init__(self) -> None:
        super().__init__()
        self.records: defaultdict[str, list[dict]] = defaultdict(list)
        self.states: list[dict] = []

    def write_message(self, message: Message) -> None:
        """Collect one message."""
        if isinstance(message, RecordMessage):
            self.records[message.stream].append(message.record)
        elif isinstance(message, StateMessage):
            self.states.append(copy.deepcopy(message.value))


@dataclass
class Run:
    """What one sync emitted: records per stream, the last state, and the error that ended it early."""

    records: dict[str, list[dict]]
    state: dict = field(default_factory=dict)
    error: Exception | None = None

    def keys(self, stream: str, *fields: str) -> list[tuple]:
        """The given fields of every record of `stream`, in emission order."""
        return [tuple(record[name] for name in fields) for record in self.records.get(stream, [])]


def sync(
    config: dict,
    streams: t.Iterable[str],
    state: dict | None = None,
    *,
    may_fail: bool = False,
    full_table: t.Iterable[str] = (),
) -> Run:
    """One full sync of `streams` (every other stream deselected), resuming from `state`.

    With `may_fail`, an error ending the sync is kept in the result with what was emitted before it, as a
    pipeline would have delivered it (records, and the last state the target would have stored).
    Streams in `full_table` get `replication-method: FULL_TABLE` in the catalog, as Meltano's `metadata:`
    would set it.
    """
    writer = CollectingWriter()
    tap = TapCustomerIO(
        config=config,
        state=copy.deepcopy(state or {}),
        message_writer=writer,
        catalog=catalog_with_full_table(config, set(full_table)),
    )
    wanted = set(streams)
    for name, stream in tap.streams.items():
        stream.selected = name in wanted
    error = None
    try:
        tap.sync_all()
    except Exception as exc:
        if not may_fail:
            raise
        error = exc
    return Run(records=dict(writer.records), state=writer.states[-1] if writer.states else {}, error=error)


def catalog_with_full_table(config: dict, full_table: set[str]) -> dict | None:
    """The discovered catalog with `replication-method: FULL_TABLE` on the named streams (None if none)."""
    if not full_table:
        return None
    catalog = TapCustomerIO(config=config).catalog_dict
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] in full_table:
            for item in entry["metadata"]:
                if item["breadcrumb"] == []:
                    item["metadata"]["replication-method"] = "FULL_TABLE"
    return catalog
