"""The export tests' view of a sync: records per stream, the last state, and the error that ended it early.

The sync itself is the tap harness's `run_tap` (tests/tap/tap_harness.py): a real `Tap.sync_all` with the
state of the previous run.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tap.tap_harness import catalog_for, run_tap


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

    With `may_fail`, an error ending the sync is kept in the result with what was emitted before it.
    Streams in `full_table` get `replication-method: FULL_TABLE` in the catalog, as Meltano's `metadata:`
    would set it.
    """
    catalog = catalog_for(config, streams, metadata={"replication-method": "FULL_TABLE"}, metadata_of=full_table)
    run = run_tap(config, state=state, catalog=catalog, may_fail=may_fail)
    return Run(records=run.records, state=run.final_state, error=run.error)
