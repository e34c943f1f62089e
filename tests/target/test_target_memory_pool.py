"""Which allocator Arrow's buffers come from: jemalloc by default (it hands freed batches back, where the
wheels' mimalloc keeps them: see `use_lean_allocator`), the operator's `ARROW_DEFAULT_MEMORY_POOL` when set."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pyarrow as pa
import pytest

from target_parquet_bucket.target import TargetParquetBucket


@pytest.fixture
def restored_pool() -> t.Iterator[None]:
    """The test process's pool is put back afterwards (the target sets the process-wide default)."""
    pool = pa.default_memory_pool()
    yield
    pa.set_memory_pool(pool)


def lean_backend() -> str:
    """jemalloc where pyarrow was built with it (Linux wheels), else the system allocator."""
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return "system"
    return "jemalloc"


def test_the_target_takes_arrows_buffers_from_jemalloc_rather_than_mimalloc(
    tmp_path: Path, restored_pool: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    pa.set_memory_pool(pa.mimalloc_memory_pool())

    TargetParquetBucket(config={"bucket_url": str(tmp_path)})

    assert pa.default_memory_pool().backend_name == lean_backend()


def test_an_allocator_chosen_with_arrow_default_memory_pool_is_kept(
    tmp_path: Path, restored_pool: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "mimalloc")
    pa.set_memory_pool(pa.mimalloc_memory_pool())

    TargetParquetBucket(config={"bucket_url": str(tmp_path)})

    assert pa.default_memory_pool().backend_name == "mimalloc"
