"""The Storage contract, checked identically on every backend (local, S3, Azure via SAS and key, GCS)."""

from __future__ import annotations

import hashlib
import io
import os
import typing as t

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from target_parquet_bucket.storage.base import ObjectExistsError

if t.TYPE_CHECKING:
    from pathlib import Path

    from storage.conftest import Backend

MIB = 1024 * 1024


def write_file(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def test_put_object_can_be_read_listed_and_found(backend: Backend, tmp_path: Path) -> None:
    storage = backend.open()

    storage.put("deliveries/deliveries_v4_42_1.parquet", write_file(tmp_path, "f", b"first file"))

    assert storage.exists("deliveries/deliveries_v4_42_1.parquet")
    assert not storage.exists("deliveries/deliveries_v4_42_2.parquet")
    assert storage.get_bytes("deliveries/deliveries_v4_42_1.parquet") == b"first file"
    assert storage.get_bytes("deliveries/missing.parquet") is None
    assert list(storage.list()) == ["deliveries/deliveries_v4_42_1.parquet"]


def test_second_put_to_same_key_fails_and_keeps_the_original(backend: Backend, tmp_path: Path) -> None:
    storage = backend.open()
    storage.put("people/people_v4_42_1.parquet", write_file(tmp_path, "a", b"original"))

    with pytest.raises(ObjectExistsError, match=r"people_v4_42_1\.parquet"):
        storage.put("people/people_v4_42_1.parquet", write_file(tmp_path, "b", b"replacement"))
    with pytest.raises(ObjectExistsError):
        storage.put_bytes("people/people_v4_42_1.parquet", b"replacement")

    assert storage.get_bytes("people/people_v4_42_1.parquet") == b"original"


def test_put_bytes_overwrites_only_when_asked(backend: Backend) -> None:
    storage = backend.open()
    storage.put_bytes("_meta/sequences/deliveries.json", b'{"deliveries": 1}')

    storage.put_bytes("_meta/sequences/deliveries.json", b'{"deliveries": 2}', overwrite=True)

    assert storage.get_bytes("_meta/sequences/deliveries.json") == b'{"deliveries": 2}'


@pytest.mark.parametrize("key", ["people/people_v4_42_1.parquet", "_metadata/x.json", "x/_meta/y.json"])
def test_no_object_outside_meta_can_be_overwritten(backend: Backend, tmp_path: Path, key: str) -> None:
    storage = backend.open("exports")
    storage.put(key, write_file(tmp_path, "f", b"original"))

    with pytest.raises(ValueError, match="only objects under _meta/ may be overwritten"):
        storage.put_bytes(key, b"replacement", overwrite=True)

    assert storage.get_bytes(key) == b"original"


def test_keys_are_relative_to_the_url_prefix_and_list_filters_by_prefix(backend: Backend, tmp_path: Path) -> None:
    storage = backend.open("exports/customerio")
    for key in ["metrics/m_1.parquet", "metrics/m_2.parquet", "metrics_old/m_1.parquet", "people/p_1.parquet"]:
        storage.put(key, write_file(tmp_path, "f", key.encode()))

    assert sorted(storage.list("metrics/")) == ["metrics/m_1.parquet", "metrics/m_2.parquet"]
    assert sorted(storage.list("metrics")) == ["metrics/m_1.parquet", "metrics/m_2.parquet", "metrics_old/m_1.parquet"]
    assert sorted(backend.open().list("exports/customerio/people/")) == ["exports/customerio/people/p_1.parquet"]
    assert backend.open("exports").get_bytes("customerio/people/p_1.parquet") == b"people/p_1.parquet"
    assert list(backend.open("elsewhere").list()) == []


@pytest.mark.parametrize("key", ["../escape.parquet", "a/../../b", "/absolute", ""])
def test_keys_escaping_the_prefix_are_refused(backend: Backend, tmp_path: Path, key: str) -> None:
    storage = backend.open("prefix")

    with pytest.raises(ValueError, match="key"):
        storage.put(key, write_file(tmp_path, "f", b"x"))

    assert list(backend.open().list()) == []


def test_file_larger_than_the_part_size_round_trips_intact(backend: Backend, tmp_path: Path) -> None:
    storage = backend.open("big")
    data = os.urandom(20 * MIB)  # parts/blocks/chunks are 5, 4 and 1 MiB in these tests

    storage.put("deliveries/large.parquet", write_file(tmp_path, "large", data))

    stored = storage.get_bytes("deliveries/large.parquet")
    assert stored is not None
    assert len(stored) == len(data)
    assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()


def test_parquet_object_reads_back_with_pyarrow(backend: Backend, tmp_path: Path) -> None:
    table = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "email": ["a@x.io", None, "c@x.io"]})
    pq.write_table(table, tmp_path / "people.parquet")
    storage = backend.open()

    storage.put("people/people_v4_42_1.parquet", tmp_path / "people.parquet")

    stored = storage.get_bytes("people/people_v4_42_1.parquet")
    assert stored is not None
    assert pq.read_table(io.BytesIO(stored)).equals(table)


def test_display_url_names_the_location(backend: Backend) -> None:
    storage = backend.open("exports/cio")

    assert storage.display_url.rstrip("/").endswith("exports/cio")
