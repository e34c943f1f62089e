"""What every export stream shares: the workspace id, the changeset bound and the growing `seq_num`."""

from __future__ import annotations

import time
import typing as t
from functools import cached_property
from importlib.resources import files

from singer_sdk import SchemaDirectory, StreamSchema

from tap_customerio.client import CustomerIOStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_customerio.tap import TapCustomerIO

#: Stream-state key holding the last `seq_num` handed out (next to the SDK's bookmark keys).
SEQ_NUM_STATE_KEY = "seq_num"

#: The export tables' schemas, one `<table>.json` next to the module that builds its rows.
EXPORT_SCHEMAS = SchemaDirectory(files(__package__))


def export_schema(table: str) -> StreamSchema:
    """The schema of one export table (`<table>.json` in this package)."""
    return StreamSchema(EXPORT_SCHEMAS, key=table)


class ExportStream(CustomerIOStream):
    """Behaviour shared by the export streams; a subclass builds rows in `get_records` from the tap streams it
    reads through (see `sources.py`).

    Changesets: `changed_after()` is the bookmark of the previous run of *this* stream (None on a first
    run, after a cleared state, or in FULL_TABLE mode), so a stream deselected and selected again catches
    up from its own bookmark and a stream never synced starts with full history. Rows at or before the
    bookmark were exported before and are left out: no lookback re-reads into the changeset, because the
    export's loaders append changesets and a repeated row would be a duplicate.

    No network call may happen in a `cached_property` getter (the readers in `sources.py` are built in one):
    before Python 3.12 its lock is shared by every instance, so a stream waiting on the network inside it
    would block the other export streams while they hold the scheduler's turn, and the run would deadlock.
    """

    path = ""  # reads through its sources, never from a path of its own
    long_running = True
    #: Rows are built with ISO 8601 times already; the source streams' unix-time paths do not apply to them.
    timestamp_fields = ()

    @property
    def owning_tap(self) -> TapCustomerIO:
        """The tap this stream belongs to, whose streams and workspace list the export streams read."""
        return self.tap

    @property
    def workspace_id(self) -> int:
        """The workspace the tap resolved for the export streams (`TapCustomerIO.export_workspace_id`)."""
        return self.owning_tap.export_workspace_id([self.name])

    def changed_after(self) -> int | None:
        """Unix time up to which this stream's rows were exported by an earlier run (None: everything)."""
        return self.saved_bookmark_unix(None) if self.incremental else None

    @cached_property
    def _seq_num_floor(self) -> int:
        """Microseconds since the epoch at the start of the run: keeps `seq_num` growing across runs
        even when the state that holds the last one was cleared."""
        return time.time_ns() // 1000

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        """Stamp the row's `seq_num` (one more than the last one of this stream, kept in its state), then
        check the row against the export schema like every record."""
        state = self.stream_state
        seq_num = max(int(state.get(SEQ_NUM_STATE_KEY, 0)), self._seq_num_floor) + 1
        state[SEQ_NUM_STATE_KEY] = seq_num
        row["seq_num"] = seq_num
        return super().post_process(row, context)
