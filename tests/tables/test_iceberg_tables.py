"""`table_format: iceberg` with the embedded SQL (sqlite) catalog: the target run as a CLI, the
tables read back with pyiceberg's own catalog and scan (and DuckDB over Arrow)."""

from __future__ import annotations

import datetime as dt
import json
import os
import typing as t
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa
import pytest
from fixtures.storage_services import free_port, service_account_key
from pyiceberg.catalog.sql import SqlCatalog
from resilience.fault_proxy import FaultProxy
from target.target_runs import record_message, run_target, schema_message, state_message

if t.TYPE_CHECKING:
    from pathlib import Path

STREAM = "people"
PROPERTIES = {
    "id": {"type": "string"},
    "n": {"type": ["integer", "null"]},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
}


def people_schema(**properties: t.Any) -> dict:
    return schema_message(STREAM, {**PROPERTIES, **properties}, key_properties=["id"])


def person(person_id: str, n: t.Any, day: int = 1, **extra: t.Any) -> dict:
    return record_message(STREAM, {"id": person_id, "n": n, "updated_at": f"2026-11-{day:02d}T10:00:00Z", **extra})


def config(root: Path, **settings: t.Any) -> dict:
    return {"bucket_url": str(root), "table_format": "iceberg", **settings}


def iceberg_table(root: Path, catalog_uri: str | None = None, **properties: str) -> t.Any:
    """The stream's table through a catalog opened here (the default catalog file of a local bucket)."""
    uri = catalog_uri or f"sqlite:///{root / '_iceberg_catalog.db'}"
    catalog = SqlCatalog("default", uri=uri, warehouse=root.as_uri(), **properties)
    return catalog.load_table(("customerio", STREAM))


def n_by_id(table: t.Any) -> dict[str, t.Any]:
    arrow_table = table.scan().to_arrow()
    relation = duckdb.sql("select count(*) = count(distinct id) from arrow_table")
    assert relation is not None, "a SELECT gives a relation"
    assert relation.fetchall() == [(True,)]
    return dict(zip(arrow_table["id"].to_pylist(), arrow_table["n"].to_pylist(), strict=True))


def test_append_only_writes_every_record_with_the_files_mode_types(tmp_path: Path) -> None:
    run = run_target([people_schema(), person("a", 1), person("b", 2), state_message({"s": 1})], config(tmp_path))

    assert run.exit_code == 0, run.stderr
    arrow_table = iceberg_table(tmp_path).scan().to_arrow()
    assert arrow_table.num_rows == 2
    assert arrow_table.schema.field("n").type == pa.int64()
    assert arrow_table.schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    assert arrow_table["updated_at"][0].as_py() == dt.datetime(2026, 11, 1, 10, tzinfo=dt.timezone.utc)


def test_upsert_keeps_the_last_row_per_key_and_a_replay_adds_nothing(tmp_path: Path) -> None:
    first = [people_schema(), person("a", 1), person("b", 2), person("a", 3), state_message({"s": 1})]
    assert run_target(first, config(tmp_path, load_method="upsert")).exit_code == 0
    replay = run_target(first, config(tmp_path, load_method="upsert"))  # STATE lost after the commit
    run = run_target([people_schema(), person("b", 20), person("c", 30)], config(tmp_path, load_method="upsert"))

    assert replay.exit_code == 0, replay.stderr
    assert run.exit_code == 0, run.stderr
    assert n_by_id(iceberg_table(tmp_path)) == {"a": 3, "b": 20, "c": 30}


def test_upsert_after_a_new_column_merges_into_rows_written_before_it(tmp_path: Path) -> None:
    upsert = config(tmp_path, load_method="upsert")
    assert run_target([people_schema(), person("a", 1), person("b", 2)], upsert).exit_code == 0
    evolved = people_schema(email={"type": ["string", "null"]})
    run = run_target([evolved, person("a", 10, email="a@x"), person("c", 3)], upsert)
    again = run_target([evolved, person("b", 20, email="b@x")], upsert)

    assert run.exit_code == 0, run.stderr
    assert again.exit_code == 0, again.stderr
    rows = {r["id"]: (r["n"], r["email"]) for r in iceberg_table(tmp_path).scan().to_arrow().to_pylist()}
    assert rows == {"a": (10, "a@x"), "b": (20, "b@x"), "c": (3, None)}


def data_files(table: t.Any) -> set[str]:
    return set(table.inspect.files()["file_path"].to_pylist())


def test_an_upsert_rewrites_only_the_data_files_holding_one_of_its_keys(tmp_path: Path) -> None:
    upsert = config(tmp_path, load_method="upsert")
    run_target([people_schema(), person("a", 1), person("b", 2)], upsert)
    (first_file,) = data_files(iceberg_table(tmp_path))
    run_target([people_schema(), person("c", 3), person("d", 4)], upsert)
    (second_file,) = data_files(iceberg_table(tmp_path)) - {first_file}
    run = run_target([people_schema(), person("b", 20)], upsert)

    assert run.exit_code == 0, run.stderr
    table = iceberg_table(tmp_path)
    after = data_files(table)
    assert first_file not in after, "the file holding 'b' was replaced"
    assert second_file in after, "the file without a key of the upsert was left as it was"
    assert len(after) == 3, "the rewritten first file ('a') and the upserted row ('b') added"
    assert n_by_id(table) == {"a": 1, "b": 20, "c": 3, "d": 4}


def test_an_upsert_that_replaces_every_row_of_a_file_drops_the_file(tmp_path: Path) -> None:
    upsert = config(tmp_path, load_method="upsert")
    run_target([people_schema(), person("a", 1), person("b", 2)], upsert)
    (first_file,) = data_files(iceberg_table(tmp_path))
    run = run_target([people_schema(), person("a", 10), person("b", 20)], upsert)

    assert run.exit_code == 0, run.stderr
    table = iceberg_table(tmp_path)
    assert first_file not in data_files(table)
    assert len(data_files(table)) == 1
    assert n_by_id(table) == {"a": 10, "b": 20}


def test_an_upsert_into_a_day_partitioned_table_moves_a_row_to_its_new_day(tmp_path: Path) -> None:
    upsert = config(tmp_path, load_method="upsert", partition_by="updated_at")
    run_target([people_schema(), person("a", 1, day=1), person("b", 2, day=1), person("c", 3, day=2)], upsert)
    run = run_target([people_schema(), person("a", 10, day=3)], upsert)

    assert run.exit_code == 0, run.stderr
    rows = iceberg_table(tmp_path).scan().to_arrow().to_pylist()
    assert sorted((r["id"], r["n"], r["updated_at"].day) for r in rows) == [("a", 10, 3), ("b", 2, 1), ("c", 3, 2)]
    partitions = iceberg_table(tmp_path).inspect.partitions().to_pylist()
    assert sorted(p["record_count"] for p in partitions) == [1, 1, 1]


def test_an_upsert_on_a_two_column_key_replaces_only_rows_matching_both(tmp_path: Path) -> None:
    schema = schema_message(STREAM, {**PROPERTIES, "region": {"type": "string"}}, key_properties=["id", "region"])
    upsert = config(tmp_path, load_method="upsert")
    rows = [person("a", 1, region="eu"), person("a", 2, region="us"), person("b", 3, region="eu")]
    run_target([schema, *rows], upsert)
    run = run_target([schema, person("a", 20, region="us"), person("b", 30, region="us")], upsert)

    assert run.exit_code == 0, run.stderr
    result = iceberg_table(tmp_path).scan().to_arrow().to_pylist()
    assert sorted((r["id"], r["region"], r["n"]) for r in result) == [
        ("a", "eu", 1),
        ("a", "us", 20),
        ("b", "eu", 3),
        ("b", "us", 30),
    ]


def test_an_upsert_on_an_integer_key_replaces_the_rows_with_its_keys_and_keeps_the_rest(tmp_path: Path) -> None:
    schema = schema_message(STREAM, {**PROPERTIES, "id": {"type": "integer"}}, key_properties=["id"])
    upsert = config(tmp_path, load_method="upsert")
    run_target([schema, *(record_message(STREAM, {"id": i, "n": i}) for i in range(1, 4))], upsert)
    run = run_target(
        [schema, record_message(STREAM, {"id": 3, "n": 30}), record_message(STREAM, {"id": 9, "n": 9})], upsert
    )

    assert run.exit_code == 0, run.stderr
    assert n_by_id(iceberg_table(tmp_path)) == {1: 1, 2: 2, 3: 30, 9: 9}


def test_each_snapshot_holds_the_singer_state_it_completes(tmp_path: Path) -> None:
    run_target([people_schema(), person("a", 1), state_message({"bookmarks": {STREAM: 1}})], config(tmp_path))

    snapshots = iceberg_table(tmp_path).snapshots()
    assert [json.loads(s.summary["singer_state"]) for s in snapshots] == [{"bookmarks": {STREAM: 1}}]


def test_activate_version_replaces_the_table_contents(tmp_path: Path) -> None:
    run_target([people_schema(), person("old", 1)], config(tmp_path))
    messages = [
        people_schema(),
        {"type": "ACTIVATE_VERSION", "stream": STREAM, "version": 5},
        person("a", 1, version=5),
        state_message({"s": 1}),
        person("b", 2, version=5),
        {"type": "ACTIVATE_VERSION", "stream": STREAM, "version": 5},
    ]
    run = run_target(messages, config(tmp_path))

    assert run.exit_code == 0, run.stderr
    assert n_by_id(iceberg_table(tmp_path)) == {"a": 1, "b": 2}


def test_a_new_column_is_added_and_a_type_change_fails_naming_stream_and_column(tmp_path: Path) -> None:
    run_target([people_schema(), person("a", 1)], config(tmp_path))
    added = run_target(
        [people_schema(email={"type": ["string", "null"]}), person("b", 2, email="b@x")], config(tmp_path)
    )
    changed = run_target([people_schema(n={"type": ["string", "null"]}), person("c", "x")], config(tmp_path))

    assert added.exit_code == 0, added.stderr
    rows = {r["id"]: r for r in iceberg_table(tmp_path).scan().to_arrow().to_pylist()}
    assert (rows["a"]["email"], rows["b"]["email"]) == (None, "b@x")
    assert changed.exit_code == 1
    assert len(changed.error_lines) == 1
    assert "stream 'people', column 'n'" in changed.error_lines[0]


def test_partition_by_a_date_time_field_is_a_day_transform(tmp_path: Path) -> None:
    run = run_target(
        [people_schema(), person("a", 1, day=1), person("b", 2, day=2)], config(tmp_path, partition_by="updated_at")
    )

    assert run.exit_code == 0, run.stderr
    spec = iceberg_table(tmp_path).spec()
    assert [str(f.transform) for f in spec.fields] == ["day"]


def test_iceberg_tables_on_s3_with_a_local_sql_catalog(s3_service: t.Any, tmp_path: Path) -> None:
    settings = s3_settings(s3_service, tmp_path, s3_service.endpoint_url)
    assert run_target([people_schema(), person("a", 1), person("b", 2)], settings).exit_code == 0
    run = run_target([people_schema(), person("a", 10)], settings)

    assert run.exit_code == 0, run.stderr
    table = s3_catalog(settings, s3_service).load_table(("customerio", STREAM))
    assert table.metadata_location.startswith(f"{settings['bucket_url']}/")
    assert n_by_id(table) == {"a": 10, "b": 2}


def s3_settings(s3_service: t.Any, tmp_path: Path, endpoint_url: str) -> dict[str, t.Any]:
    """An Iceberg upsert stream in a new moto bucket reached at `endpoint_url` (moto's, or a proxy's in front
    of it); the catalog is a local file."""
    return {
        "bucket_url": f"s3://{s3_service.create_bucket()}/lake",
        "table_format": "iceberg",
        "load_method": "upsert",
        "iceberg_catalog_uri": f"sqlite:///{tmp_path / 'catalog.db'}",
        "s3_endpoint_url": endpoint_url,
        "s3_region": s3_service.region,
        "aws_access_key_id": s3_service.access_key_id,
        "aws_secret_access_key": s3_service.secret_access_key,
    }


def s3_catalog(settings: dict[str, t.Any], s3_service: t.Any) -> SqlCatalog:
    """The run's catalog, reading the table straight from moto."""
    return SqlCatalog(
        "default",
        uri=settings["iceberg_catalog_uri"],
        **{
            "s3.endpoint": s3_service.endpoint_url,
            "s3.region": s3_service.region,
            "s3.access-key-id": s3_service.access_key_id,
            "s3.secret-access-key": s3_service.secret_access_key,
        },
    )


@pytest.fixture
def s3_proxy(s3_service: t.Any) -> t.Iterator[FaultProxy]:
    """A fault proxy in front of moto."""
    proxy = FaultProxy(s3_service.endpoint_url).start()
    yield proxy
    proxy.stop()


@pytest.mark.parametrize("fault", ["503", "reset", "lost_answer"])
def test_an_iceberg_table_on_s3_retries_an_upload_that_failed_twice_and_every_row_lands_once(
    s3_service: t.Any, s3_proxy: FaultProxy, tmp_path: Path, fault: str
) -> None:
    """The first two uploading requests fail (a lost answer: moto acted on it, the client never heard);
    the S3 client's retries carry the commit, and each row is in the table once."""
    settings = s3_settings(s3_service, tmp_path, s3_proxy.url)
    s3_proxy.inject(1.0, [fault], methods=["PUT", "POST"], limit=2)

    run = run_target([people_schema(), person("a", 1), person("b", 2), state_message({"s": 1})], settings)

    assert len(s3_proxy.faults_injected()) == 2
    assert run.exit_code == 0, run.stderr
    assert run.states == [{"s": 1}]
    assert n_by_id(s3_catalog(settings, s3_service).load_table(("customerio", STREAM))) == {"a": 1, "b": 2}


TWO_PEOPLE_THEN_STATE = [people_schema(), person("a", 1), person("b", 2), state_message({"s": 1})]


def run_behind_three_503s(s3_proxy: FaultProxy, settings: dict[str, t.Any], max_attempts: int) -> t.Any:
    """An Iceberg upsert whose data file's first three uploading requests are answered 503, with
    `s3_max_attempts: max_attempts`."""
    s3_proxy.inject(1.0, ["503"], methods=["PUT", "POST"], path=r"/lake/customerio/people/data/", limit=3)
    run = run_target(TWO_PEOPLE_THEN_STATE, {**settings, "s3_max_attempts": max_attempts})
    assert len(s3_proxy.faults_injected()) == 3
    return run


def test_an_iceberg_table_on_s3_gives_up_after_s3_max_attempts_without_state_and_its_replay_lands_once(
    s3_service: t.Any, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    """`s3_max_attempts` holds for Iceberg as for files (pyarrow's own default is three attempts)."""
    settings = s3_settings(s3_service, tmp_path, s3_proxy.url)

    failed = run_behind_three_503s(s3_proxy, settings, max_attempts=3)
    replay = run_target(TWO_PEOPLE_THEN_STATE, settings)

    assert failed.exit_code == 1
    assert failed.states == []
    assert len(failed.error_lines) == 1
    assert "stream 'people': iceberg commit of 2 rows failed" in failed.error_lines[0]
    assert replay.exit_code == 0, replay.stderr
    assert replay.states == [{"s": 1}]
    assert n_by_id(s3_catalog(settings, s3_service).load_table(("customerio", STREAM))) == {"a": 1, "b": 2}


def test_an_iceberg_table_on_s3_lands_when_an_attempt_within_s3_max_attempts_succeeds(
    s3_service: t.Any, s3_proxy: FaultProxy, tmp_path: Path
) -> None:
    settings = s3_settings(s3_service, tmp_path, s3_proxy.url)

    run = run_behind_three_503s(s3_proxy, settings, max_attempts=4)

    assert run.exit_code == 0, run.stderr
    assert run.states == [{"s": 1}]
    assert n_by_id(s3_catalog(settings, s3_service).load_table(("customerio", STREAM))) == {"a": 1, "b": 2}


@pytest.mark.parametrize("credential", ["connection_string", "sas_url"])
def test_iceberg_tables_on_azure_blob_with_a_local_sql_catalog(
    azurite_service: t.Any, tmp_path: Path, credential: str
) -> None:
    """Azurite over real HTTP; read back through pyiceberg's PyArrow FileIO with the account key."""
    container = azurite_service.create_container()
    catalog_uri = f"sqlite:///{tmp_path / 'catalog.db'}"
    settings = {
        "bucket_url": f"azure://{container}/lake",
        "table_format": "iceberg",
        "load_method": "upsert",
        "iceberg_catalog_uri": catalog_uri,
    }
    if credential == "sas_url":
        settings["azure_sas_url"] = azurite_service.container_sas_url(container)
    else:
        settings["azure_connection_string"] = azurite_service.connection_string
    first = run_target([people_schema(), person("a", 1), person("b", 2)], settings)
    assert first.exit_code == 0, first.stderr
    run = run_target([people_schema(), person("a", 10)], settings)

    assert run.exit_code == 0, run.stderr
    endpoint = urlsplit(azurite_service.blob_endpoint)
    catalog = SqlCatalog(
        "default",
        uri=catalog_uri,
        **{
            "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
            "adls.account-name": azurite_service.account_name,
            "adls.account-key": azurite_service.account_key,
            "adls.blob-storage-authority": endpoint.netloc,
            "adls.blob-storage-scheme": endpoint.scheme,
            "adls.dfs-storage-authority": endpoint.netloc,
            "adls.dfs-storage-scheme": endpoint.scheme,
        },
    )
    table = catalog.load_table(("customerio", STREAM))
    assert table.metadata_location.startswith(f"abfs://{container}/lake/")
    assert n_by_id(table) == {"a": 10, "b": 2}
    blobs = [b.name for b in azurite_service.service_client().get_container_client(container).list_blobs()]
    assert any(name.startswith("lake/customerio/people/data/") for name in blobs)


def test_iceberg_tables_on_gcs_with_a_local_sql_catalog(
    gcs_service: t.Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gcp-storage-emulator over real HTTP (GCS's JSON API, which gcsfs speaks); read back through
    pyiceberg's fsspec FileIO, with gcsfs's plain JSON-API file system as the target uses it."""
    monkeypatch.setenv("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    name = gcs_service.create_bucket()
    catalog_uri = f"sqlite:///{tmp_path / 'catalog.db'}"
    settings = {
        "bucket_url": f"gs://{name}/lake",
        "table_format": "iceberg",
        "load_method": "upsert",
        "iceberg_catalog_uri": catalog_uri,
        "gcs_endpoint_url": gcs_service.endpoint_url,
        "gcs_project": gcs_service.project,
    }
    first = run_target([people_schema(), person("a", 1), person("b", 2)], settings)
    assert first.exit_code == 0, first.stderr
    run = run_target([people_schema(email={"type": ["string", "null"]}), person("a", 10, email="a@x")], settings)

    assert run.exit_code == 0, run.stderr
    catalog = SqlCatalog(
        "default",
        uri=catalog_uri,
        **{
            "py-io-impl": "pyiceberg.io.fsspec.FsspecFileIO",
            "gcs.service.host": gcs_service.endpoint_url,
            "gcs.project-id": gcs_service.project,
            "gcs.oauth2.token": "anon",
        },
    )
    table = catalog.load_table(("customerio", STREAM))
    assert table.metadata_location.startswith(f"gs://{name}/lake/")
    assert n_by_id(table) == {"a": 10, "b": 2}
    blobs = [b.name for b in gcs_service.client().list_blobs(name)]
    assert any(blob.startswith("lake/customerio/people/data/") for blob in blobs)


def test_iceberg_on_gcs_refuses_an_inline_key_at_start_without_showing_it(tmp_path: Path) -> None:
    """gcsfs reads a service-account key from a file only; the target does not write the key to disk."""
    key = service_account_key(token_uri=f"http://127.0.0.1:{free_port()}/token")  # nothing listens there
    settings = {
        "bucket_url": "gs://somewhere/lake",
        "table_format": "iceberg",
        "iceberg_catalog_uri": f"sqlite:///{tmp_path / 'catalog.db'}",
        "gcs_service_account_json": json.dumps(key),
        "gcs_endpoint_url": f"http://127.0.0.1:{free_port()}",
    }

    run = run_target([people_schema(), person("a", 1), state_message({"s": 1})], settings)

    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "gcs_service_account_json: table_format iceberg on GCS needs the key file's path" in run.error_lines[0]
    assert run.states == []
    assert key["private_key"].splitlines()[1] not in run.stderr


def test_a_failed_iceberg_commit_on_azure_names_the_stream_and_never_shows_the_sas_token(
    azurite_service: t.Any, tmp_path: Path
) -> None:
    container = azurite_service.create_container()
    sas_url = azurite_service.container_sas_url(container, permission="rl")  # no write permission
    settings = {
        "bucket_url": f"azure://{container}/lake",
        "table_format": "iceberg",
        "azure_sas_url": sas_url,
        "iceberg_catalog_uri": f"sqlite:///{tmp_path / 'catalog.db'}",
    }

    run = run_target([people_schema(), person("a", 1), state_message({"s": 1})], settings)

    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "stream 'people'" in run.error_lines[0]
    assert run.states == []
    signature = sas_url.split("sig=")[1].split("&")[0]
    assert signature not in run.stderr
    assert signature.replace("%2F", "/").replace("%3D", "=").replace("%2B", "+") not in run.stderr


def test_snapshots_older_than_the_retention_are_expired_and_the_rows_stay(tmp_path: Path) -> None:
    two_hours_ago = shifted_clock(tmp_path / "clock", hours=-2)
    first = run_target([people_schema(), person("a", 1), state_message({"s": 1})], config(tmp_path), env=two_hours_ago)
    assert first.exit_code == 0, first.stderr
    (old_snapshot,) = iceberg_table(tmp_path).snapshots()

    run = run_target(
        [people_schema(), person("b", 2), state_message({"s": 2})], config(tmp_path, table_retention_hours=1)
    )

    assert run.exit_code == 0, run.stderr
    table = iceberg_table(tmp_path)
    assert old_snapshot.snapshot_id not in [s.snapshot_id for s in table.snapshots()]
    assert len(table.snapshots()) == 1
    assert n_by_id(table) == {"a": 1, "b": 2}


def test_snapshots_within_the_retention_are_kept(tmp_path: Path) -> None:
    run_target([people_schema(), person("a", 1), state_message({"s": 1})], config(tmp_path))
    run = run_target(
        [people_schema(), person("b", 2), state_message({"s": 2})], config(tmp_path, table_retention_hours=1)
    )

    assert run.exit_code == 0, run.stderr
    assert len(iceberg_table(tmp_path).snapshots()) == 2


def shifted_clock(folder: Path, *, hours: int) -> dict[str, str]:
    """Environment for a target run whose Python clock is `hours` off (the run "happened" then): a
    `sitecustomize` shifts `time.time`, which pyiceberg stamps snapshots with."""
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(
        f"import time\n_real = time.time\ntime.time = lambda: _real() + {hours * 3600}\n"
    )
    return {**os.environ, "PYTHONPATH": str(folder)}


def test_a_remote_bucket_without_a_catalog_uri_fails_naming_the_setting(tmp_path: Path) -> None:
    run = run_target(
        [people_schema(), person("a", 1)], {"bucket_url": "s3://somewhere/lake", "table_format": "iceberg"}
    )

    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "iceberg_catalog_uri" in run.error_lines[0]


@pytest.mark.parametrize("setting", [{"format": "csv"}, {"partition_by_load_date": True}])
def test_settings_a_table_cannot_honour_fail_at_start_naming_them(tmp_path: Path, setting: dict) -> None:
    run = run_target([people_schema(), person("a", 1)], config(tmp_path, **setting))

    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert next(iter(setting)) in run.error_lines[0]
