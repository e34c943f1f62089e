"""The local-folder backend and the `bucket_url` dispatch."""

from __future__ import annotations

from pathlib import Path

import pytest

from target_parquet_bucket.storage import ObjectExistsError, open_storage
from target_parquet_bucket.storage.local import LocalStorage


def test_plain_paths_and_file_urls_open_the_local_backend(tmp_path: Path) -> None:
    for url in (str(tmp_path), tmp_path.as_uri()):
        storage = open_storage({"bucket_url": url})
        assert isinstance(storage, LocalStorage)
        assert storage.root == tmp_path.resolve()


def test_an_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unsupported scheme 'ftp://'"):
        open_storage({"bucket_url": "ftp://host/path"})


def test_put_never_overwrites_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "bucket")
    source = tmp_path / "source"
    source.write_bytes(b"first")
    storage.put("a/b.parquet", source)
    source.write_bytes(b"second")
    with pytest.raises(ObjectExistsError, match="already exists"):
        storage.put("a/b.parquet", source)
    assert storage.get_bytes("a/b.parquet") == b"first"
    assert sorted(p.relative_to(tmp_path / "bucket").as_posix() for p in (tmp_path / "bucket").rglob("*")) == [
        "a",
        "a/b.parquet",
    ]


def test_put_bytes_overwrites_only_when_asked(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put_bytes("_meta/m.json", b"1")
    with pytest.raises(ObjectExistsError):
        storage.put_bytes("_meta/m.json", b"2")
    storage.put_bytes("_meta/m.json", b"3", overwrite=True)
    assert storage.get_bytes("_meta/m.json") == b"3"
    assert storage.get_bytes("_meta/absent.json") is None


@pytest.mark.parametrize("key", ["../outside", "a/../../outside", "/etc/passwd", ""])
def test_keys_cannot_escape_the_root(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "bucket")
    with pytest.raises(ValueError, match="escapes the bucket root"):
        storage.put_bytes(key, b"x")
    assert not (tmp_path / "outside").exists()


@pytest.mark.parametrize("key", ["a/../b", "a/./b", "a//b"])
def test_keys_with_dot_or_empty_segments_are_refused_like_on_object_stores(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(ValueError, match="invalid object key"):
        storage.put_bytes(key, b"x")
    assert list(tmp_path.rglob("*")) == []


@pytest.mark.parametrize(
    "name", ["n" * 247 + ".parquet", "\U0001f600" * 61 + ".parquet"], ids=["ascii", "4-byte utf-8"]
)
def test_a_name_of_up_to_255_bytes_is_written_although_its_temporary_file_would_be_longer(
    tmp_path: Path, name: str
) -> None:
    storage = LocalStorage(tmp_path / "bucket")
    source = tmp_path / "source"
    source.write_bytes(b"data")

    storage.put(f"a/{name}", source)

    assert storage.get_bytes(f"a/{name}") == b"data"
    assert [p.name for p in (tmp_path / "bucket" / "a").iterdir()] == [name]
