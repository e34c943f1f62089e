"""`table_format: iceberg` through an Iceberg REST catalog: the target run as a CLI against a real REST
catalog server (Lakana, fixture `iceberg_rest_catalog`), the tables read back with pyiceberg's own REST
client and scan, DuckDB and Polars over Arrow."""

from __future__ import annotations

import http.server
import json
import os
import threading
import typing as t
from urllib.parse import parse_qs

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from pyiceberg.catalog.rest import RestCatalog
from target.target_runs import record_message, run_target, schema_message, state_message

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

STREAM = "people"
PROPERTIES = {"id": {"type": "string"}, "n": {"type": ["integer", "null"]}}


def people_schema(**properties: t.Any) -> dict:
    return schema_message(STREAM, {**PROPERTIES, **properties}, key_properties=["id"])


def person(person_id: str, n: int, **extra: t.Any) -> dict:
    return record_message(STREAM, {"id": person_id, "n": n, **extra})


def rest_settings(catalog: t.Any, warehouse: str, bucket_url: str, **settings: t.Any) -> dict:
    return {
        "bucket_url": bucket_url,
        "table_format": "iceberg",
        "iceberg_catalog_uri": catalog.uri,
        "iceberg_catalog_token": catalog.token,
        "iceberg_catalog_properties": {"prefix": warehouse},
        "iceberg_namespace": catalog.namespace,
        **settings,
    }


def rest_table(catalog: t.Any, warehouse: str, **properties: str) -> t.Any:
    """The stream's table as pyiceberg's REST client loads it from the server."""
    client = RestCatalog("check", uri=catalog.uri, token=catalog.token, prefix=warehouse, **properties)
    return client.load_table((catalog.namespace, STREAM))


def rows_by_id(table: t.Any) -> dict[str, dict]:
    arrow_table = table.scan().to_arrow()
    relation = duckdb.sql("select count(*) = count(distinct id) from arrow_table")
    assert relation is not None, "a SELECT gives a relation"
    assert relation.fetchall() == [(True,)]
    frame = pl.from_arrow(arrow_table)
    assert isinstance(frame, pl.DataFrame), "an Arrow table gives a DataFrame"
    return {row["id"]: row for row in frame.to_dicts()}


def test_a_rest_catalog_table_takes_appends_upserts_replays_and_new_columns(
    iceberg_rest_catalog: t.Any, tmp_path: Path
) -> None:
    warehouse = iceberg_rest_catalog.create_warehouse(tmp_path.as_uri())
    settings = rest_settings(iceberg_rest_catalog, warehouse, str(tmp_path))
    upsert = {**settings, "load_method": "upsert"}
    first = run_target([people_schema(), person("a", 1), person("b", 2), state_message({"s": 1})], settings)
    second = [people_schema(email={"type": ["string", "null"]}), person("a", 10, email="a@x"), person("c", 3)]
    merged = run_target([*second, state_message({"s": 2})], upsert)
    replay = run_target([*second, state_message({"s": 2})], upsert)  # STATE lost after the commit

    for run in (first, merged, replay):
        assert run.exit_code == 0, run.stderr
    table = rest_table(iceberg_rest_catalog, warehouse)
    assert table.location().startswith(tmp_path.as_uri())
    assert rows_by_id(table) == {
        "a": {"id": "a", "n": 10, "email": "a@x"},
        "b": {"id": "b", "n": 2, "email": None},
        "c": {"id": "c", "n": 3, "email": None},
    }
    assert table.schema().as_arrow().field("n").type == pa.int64()
    assert json.loads(table.snapshots()[0].summary["singer_state"]) == {"s": 1}


def test_activate_version_replaces_a_rest_catalog_tables_contents(iceberg_rest_catalog: t.Any, tmp_path: Path) -> None:
    warehouse = iceberg_rest_catalog.create_warehouse(tmp_path.as_uri())
    settings = rest_settings(iceberg_rest_catalog, warehouse, str(tmp_path))
    run_target([people_schema(), person("old", 1)], settings)
    version = {"type": "ACTIVATE_VERSION", "stream": STREAM, "version": 5}
    run = run_target([people_schema(), version, person("a", 1, version=5), version], settings)

    assert run.exit_code == 0, run.stderr
    assert set(rows_by_id(rest_table(iceberg_rest_catalog, warehouse))) == {"a"}


def test_partition_by_a_date_time_field_is_a_day_transform_in_a_rest_catalog(
    iceberg_rest_catalog: t.Any, tmp_path: Path
) -> None:
    warehouse = iceberg_rest_catalog.create_warehouse(tmp_path.as_uri())
    settings = rest_settings(iceberg_rest_catalog, warehouse, str(tmp_path), partition_by="updated_at")
    updated_at = {"type": ["string", "null"], "format": "date-time"}
    run = run_target(
        [
            people_schema(updated_at=updated_at),
            person("a", 1, updated_at="2026-11-01T10:00:00Z"),
            person("b", 2, updated_at="2026-11-02T10:00:00Z"),
        ],
        settings,
    )

    assert run.exit_code == 0, run.stderr
    table = rest_table(iceberg_rest_catalog, warehouse)
    assert [str(f.transform) for f in table.spec().fields] == ["day"]
    assert len(table.inspect.partitions()) == 2


def test_a_rest_catalog_table_with_its_data_in_s3(iceberg_rest_catalog: t.Any, s3_service: t.Any) -> None:
    bucket = s3_service.create_bucket()
    s3 = {
        "s3.endpoint": s3_service.endpoint_url,
        "s3.region": s3_service.region,
        "s3.access-key-id": s3_service.access_key_id,
        "s3.secret-access-key": s3_service.secret_access_key,
    }
    warehouse = iceberg_rest_catalog.create_warehouse(f"s3://{bucket}/lake", scheme="s3", options=s3)
    settings = rest_settings(
        iceberg_rest_catalog,
        warehouse,
        f"s3://{bucket}/lake",
        load_method="upsert",
        s3_endpoint_url=s3_service.endpoint_url,
        s3_region=s3_service.region,
        aws_access_key_id=s3_service.access_key_id,
        aws_secret_access_key=s3_service.secret_access_key,
    )
    first = run_target([people_schema(), person("a", 1), person("b", 2)], settings)
    run = run_target([people_schema(), person("a", 10)], settings)

    assert first.exit_code == 0, first.stderr
    assert run.exit_code == 0, run.stderr
    table = rest_table(iceberg_rest_catalog, warehouse, **s3)
    assert table.location().startswith(f"s3://{bucket}/lake/")
    assert {k: v["n"] for k, v in rows_by_id(table).items()} == {"a": 10, "b": 2}
    keys = [o["Key"] for o in s3_service.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(key.endswith(".parquet") for key in keys)


def test_a_wrong_token_fails_at_start_naming_the_catalog_setting(iceberg_rest_catalog: t.Any, tmp_path: Path) -> None:
    warehouse = iceberg_rest_catalog.create_warehouse(tmp_path.as_uri())
    wrong = iceberg_rest_catalog.token[:-6] + "000000"
    settings = {**rest_settings(iceberg_rest_catalog, warehouse, str(tmp_path)), "iceberg_catalog_token": wrong}

    run = run_target([people_schema(), person("a", 1), state_message({"s": 1})], settings)

    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert f"iceberg_catalog_uri: cannot open the Iceberg catalog at {iceberg_rest_catalog.uri}" in run.error_lines[0]
    assert "Unauthorized" in run.error_lines[0]
    assert run.states == []
    assert wrong not in run.stderr


class EchoingCatalog(http.server.BaseHTTPRequestHandler):
    """A failing catalog endpoint that quotes the credentials it was sent in its error, as a careless
    server or proxy may: every request is refused with the Authorization header and body echoed back."""

    def do_GET(self) -> None:
        self._refuse(b"")

    def do_POST(self) -> None:
        self._refuse(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _refuse(self, body: bytes) -> None:
        echoed = f"{self.headers.get('Authorization')} {parse_qs(body.decode())}"
        if self.path.endswith("/oauth/tokens"):
            payload: dict[str, t.Any] = {"error": "invalid_client", "error_description": f"rejected {echoed}"}
        else:
            payload = {"error": {"message": f"rejected {echoed}", "type": "BadRequestException", "code": 400}}
        data = json.dumps(payload).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: t.Any) -> None:
        """Quiet: the test reads the target's output only."""


@pytest.fixture
def echoing_catalog() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoingCatalog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("setting", "secret"),
    [("iceberg_catalog_token", "tok-5ecre7-abc123"), ("iceberg_catalog_credential", "client-id:5ecre7-client-pw")],
)
def test_a_catalog_echoing_the_credential_never_gets_it_into_the_output(
    echoing_catalog: str, tmp_path: Path, setting: str, secret: str
) -> None:
    settings = {
        "bucket_url": str(tmp_path),
        "table_format": "iceberg",
        "iceberg_catalog_uri": echoing_catalog,
        setting: secret,
    }

    run = run_target([people_schema(), person("a", 1)], settings, env={**os.environ, "LOGLEVEL": "DEBUG"})

    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "iceberg_catalog_uri: cannot open the Iceberg catalog" in run.error_lines[0]
    assert "rejected" in run.error_lines[0]  # the server's message is kept, only the secret is cut out
    assert secret not in run.stderr
    assert (secret.partition(":")[2] or secret) not in run.stderr  # nor a client secret on its own
