"""Replicating `messages` run after run, resuming from the last STATE the target emitted, with an audit
of the bucket after every run. Shared by the crash and API-fault tests.
"""

from __future__ import annotations

import datetime
import typing as t

from fixtures import bucket_audit

from resilience.pipeline import Interruption, PipelineRun, discover_catalog, run_pipeline, write_json

if t.TYPE_CHECKING:
    from pathlib import Path

API_KEY = "sim-key-resilience-0001"
START_DATE = "2020-01-01T00:00:00Z"


class Deliveries:
    """What the API exposes: every delivery id with its creation time (unix seconds)."""

    def __init__(self, sim: t.Any) -> None:
        data = sim.data
        self.created = {data.message_id(i): data._message_created[i] for i in range(len(data.messages))}

    def ids_before(self, moment: int) -> set[str]:
        return {i for i, created in self.created.items() if created < moment}


def bookmark(state: t.Any) -> int | None:
    """The `messages` bookmark of a target STATE, in unix seconds (None before the first window)."""
    value = ((state or {}).get("bookmarks", {}).get("messages") or {}).get("replication_key_value")
    if value is None:
        return None
    return int(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


class ResumingPipeline:
    """Runs the pipeline again and again from the last emitted state, auditing the bucket after each run."""

    def __init__(
        self,
        sim: t.Any,
        workdir: Path,
        bucket: bucket_audit.Bucket,
        env: dict[str, str],
        *,
        max_file_rows: int = 20_000,
        bucket_settings: dict[str, t.Any] | None = None,
        **tap_overrides: t.Any,
    ) -> None:
        """`bucket` is a local folder, or a view of a cloud bucket that `bucket_settings` point the target at."""
        self.workdir, self.bucket, self.env = workdir, bucket, env
        self.deliveries = Deliveries(sim)
        tap_settings = {
            "app_api_key": API_KEY,
            "api_url": sim.base_url,
            "start_date": START_DATE,
            "workspace_id": 123456,
            "max_requests_per_second": 1000,
            "messages_window_days": 30,
            "messages_lookback_days": 0,
        }
        self.tap_settings = tap_settings
        self.tap_config = write_json(workdir / "tap_config.json", tap_settings)
        self.target_config = write_json(
            workdir / "target_config.json",
            {
                **(bucket_settings or {"bucket_url": str(bucket)}),
                "workspace_id": "123456",
                "add_record_metadata": True,
                "max_file_rows": max_file_rows,
                "batch_size_rows": min(5_000, max_file_rows),
            },
        )
        self.catalog = discover_catalog(self.tap_config, workdir, {"messages"}, env)
        self.configure_tap(**tap_overrides)
        self.state: t.Any = None
        self.runs: list[tuple[PipelineRun, set[str]]] = []  # each run with the data files it added

    def configure_tap(self, **overrides: t.Any) -> None:
        """Change tap settings for the following runs (e.g. point it at a fault proxy)."""
        write_json(self.tap_config, {**self.tap_settings, **overrides})

    def run(self, interruption: Interruption | None = None) -> PipelineRun:
        """One run from the last emitted state, then the audit: nothing overwritten or unreadable, no
        completed work read again, and the emitted state covering only what is in the bucket."""
        tap_args = ["--config", str(self.tap_config), "--catalog", str(self.catalog)]
        if self.state is not None:
            tap_args += ["--state", str(write_json(self.workdir / "state.json", self.state))]
        resumed_from = bookmark(self.state)
        before = bucket_audit.fingerprints(self.bucket)

        run = run_pipeline(
            tap_args, ["--config", str(self.target_config)], self.workdir, env=self.env, interruption=interruption
        )

        after = bucket_audit.fingerprints(self.bucket)
        bucket_audit.assert_nothing_overwritten(before, after)
        bucket_audit.assert_every_file_readable(self.bucket)
        added = set(after) - set(before)
        self.runs.append((run, added))
        if resumed_from is not None:
            self.assert_no_reread_before(resumed_from, added)
        if run.last_state is not None:
            self.assert_state_covers_only_written_data(run.last_state)
            self.state = run.last_state
        return run

    def ids_in(self, keys: t.Iterable[str]) -> list[str]:
        return bucket_audit.column_values(self.bucket, sorted(keys), "id")

    def assert_no_reread_before(self, resumed_from: int, added: set[str]) -> None:
        reread = [i for i in self.ids_in(added) if self.deliveries.created[i] < resumed_from]
        assert not reread, f"{len(reread)} deliveries older than the resumed state were read again, e.g. {reread[:3]}"

    def assert_state_covers_only_written_data(self, state: t.Any) -> None:
        reached = bookmark(state)
        if reached is None:
            return
        present = set(self.ids_in(bucket_audit.data_files(self.bucket)))
        missing = self.deliveries.ids_before(reached) - present
        assert not missing, f"state claims deliveries up to {reached} but {len(missing)} are not in the bucket"
