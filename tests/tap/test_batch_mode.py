"""The tap's batch mode (`batch_config`, singer-sdk BATCH messages) hands records over as jsonl files only
(the jsonl mode end to end: tests/pipeline/test_meltano_batch_run.py)."""

from __future__ import annotations

import typing as t

import pytest
from singer_sdk.exceptions import ConfigValidationError
from tap.tap_harness import run_tap, tap_config

if t.TYPE_CHECKING:
    from cio_simulator import Simulator


def test_parquet_batch_encoding_is_refused_at_start_because_singer_sdk_would_drop_properties(
    cio_sim: Simulator,
) -> None:
    config = tap_config(
        cio_sim,
        batch_config={"encoding": {"format": "parquet", "compression": "none"}, "storage": {"root": "file:///tmp"}},
    )

    with pytest.raises(ConfigValidationError, match="batch_config: encoding format 'parquet' would lose values"):
        run_tap(config, ["segments"])
