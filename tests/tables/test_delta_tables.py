"""`table_format: delta`: the target run as a CLI, the tables read back only with independent
readers (deltalake, Polars, DuckDB over Arrow), never with the target's own code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import typing as t

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from resilience.fault_proxy import FaultProxy
from target.target_runs import (
    TARGET_EXECUTABLE,
    record_message,
    run_target,
    schema_message,
    singer_lines,
    state_message,
)

if t.TYPE_CHECKING:
    from pathlib import Path

STREAM = "people"
PROPERTIES = {
    "id": {"type": "string"},
    "n": {"type": ["integer", "null"]},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "attributes": {"type": ["object", "null"]},
}


def people_schema(**properties: t.Any) -> dict:
    return schema_message(STREAM, {**PROPERTIES, **properties}, key_properties=["id"])


def person(person_id: str, n: int | str, day: int = 1, **extra: t.Any) -> dict:
    record = {"id": person_id, "n": n, "updated_at": f"2026-11-{day:02d}T10:00:00Z", "attributes": {"plan": "pro"}}
    return record_message(STREAM, {**record, **extra})


def config(root: Path, **settings: t.Any) -> dict:
    return {"bucket_url": str(root), "table_format": "delta", **settings}


def rows_by_id(root: Path, stream: str = STREAM) -> dict[str, dict]:
    """The table as read by Polars (through delta-rs), one dict per id; duplicates fail."""
    frame = pl.read_delta(str(root / stream))
    assert frame["id"].n_unique() == frame.height, f"duplicate keys in {frame['id'].to_list()}"
    return {row["id"]: row for row in frame.to_dicts()}


def test_append_only_writes_every_record_with_the_files_mode_types(tmp_path: Path) -> None:
    run = run_target([people_schema(), person("a", 1), person("b", 2), state_message({"s": 1})], config(tmp_path))

    assert run.exit_code == 0, run.stderr
    table = DeltaTable(str(tmp_path / STREAM)).to_pyarrow_table()
    assert table.num_rows == 2
    assert table.schema.field("n").type == pa.int64()
    assert table.schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("attributes").type in {pa.string(), pa.large_string(), pa.string_view()}
    row = table.filter(pa.compute.equal(table["id"], "a")).to_pylist()[0]
    assert row["updated_at"] == dt.datetime(2026, 11, 1, 10, tzinfo=dt.timezone.utc)
    assert json.loads(row["attributes"]) == {"plan": "pro"}


def test_upsert_keeps_one_row_per_key_the_last_in_input_order(tmp_path: Path) -> None:
    first = [people_schema(), person("a", 1), person("b", 2), person("a", 3), state_message({"s": 1})]
    second = [people_schema(), person("b", 20), person("c", 30), person("b", 21), state_message({"s": 2})]

    assert run_target(first, config(tmp_path, load_method="upsert")).exit_code == 0
    run = run_target(second, config(tmp_path, load_method="upsert"))

    assert run.exit_code == 0, run.stderr
    assert {k: v["n"] for k, v in rows_by_id(tmp_path).items()} == {"a": 3, "b": 21, "c": 30}


def test_upsert_of_a_stream_larger_than_one_commit_keeps_the_last_row_per_key_across_commits(
    tmp_path: Path,
) -> None:
    """Rows wait for a commit only up to `max_file_size_mb`: a bigger stream is merged in several
    commits within one STATE interval. A key sent again in a later commit still ends with its last
    value in input order, one row per key, and the STATE comes after the last commit; a replay
    of the same input changes nothing."""
    keys, rounds = 300, 4
    pad = {"pad": {"type": ["string", "null"]}}
    records = [person(f"k{i:03d}", n * keys + i, pad="x" * 4000) for n in range(rounds) for i in range(keys)]
    messages = [people_schema(**pad), *records, state_message({"s": 1})]
    settings = config(tmp_path, load_method="upsert", max_file_size_mb=1, batch_size_mb=1)

    run = run_target(messages, settings)

    assert run.exit_code == 0, run.stderr
    assert run.states == [{"s": 1}]
    merges = [h for h in DeltaTable(str(tmp_path / STREAM)).history() if h["operation"] == "MERGE"]
    assert len(merges) >= 2  # the stream really spanned several merge commits
    expected = {f"k{i:03d}": (rounds - 1) * keys + i for i in range(keys)}
    assert {k: v["n"] for k, v in rows_by_id(tmp_path).items()} == expected
    version = DeltaTable(str(tmp_path / STREAM)).version()

    replay = run_target(messages, settings)

    assert replay.exit_code == 0, replay.stderr
    assert {k: v["n"] for k, v in rows_by_id(tmp_path).items()} == expected
    arrow_table = DeltaTable(str(tmp_path / STREAM)).to_pyarrow_table()  # noqa: F841 - DuckDB reads it by name
    relation = duckdb.sql("select count(*), count(distinct id) from arrow_table")
    assert relation is not None, "a SELECT gives a relation"
    assert relation.fetchall() == [(keys, keys)]
    assert DeltaTable(str(tmp_path / STREAM)).version() > version  # the replay did merge again


def test_an_upsert_merge_is_bounded_to_the_key_range_of_its_rows(tmp_path: Path) -> None:
    """delta-rs derives the range of the merged keys from the in-memory rows and records it as the
    merge's predicate: files outside it are skipped, and a concurrent writer of other keys does
    not conflict. (A merge from a stream cannot know the range: it records none, a whole-table merge.)"""
    run_target([people_schema(), person("a", 1), person("z", 2)], config(tmp_path, load_method="upsert"))

    run = run_target([people_schema(), person("c", 3), person("e", 4)], config(tmp_path, load_method="upsert"))

    assert run.exit_code == 0, run.stderr
    merge = next(h for h in DeltaTable(str(tmp_path / STREAM)).history() if h["operation"] == "MERGE")
    assert merge["operationParameters"]["predicate"] == "id >= 'c' AND id <= 'e'"
    assert {k: v["n"] for k, v in rows_by_id(tmp_path).items()} == {"a": 1, "c": 3, "e": 4, "z": 2}


def padded_people(count: int) -> list[dict]:
    """A schema and `count` records of about 4 KB each (about 24 MiB as Arrow for 6,000), then a STATE."""
    pad = {"pad": {"type": ["string", "null"]}}
    return [
        people_schema(**pad),
        *(person(f"k{i:05d}", i, pad="x" * 4000) for i in range(count)),
        state_message({"s": 1}),
    ]


def test_an_upsert_is_merged_every_delta_upsert_commit_mb_of_rows_whatever_max_file_size_mb(tmp_path: Path) -> None:
    """A delta-rs merge holds several times its source in memory, so an upsert stream commits every
    `delta_upsert_commit_mb` (10) MB of Arrow data although `max_file_size_mb` (100) allows more; an
    append of the same input is one commit. The STATE still comes after the last commit, which holds it."""
    messages = padded_people(6000)

    upsert = run_target(messages, config(tmp_path / "upsert", load_method="upsert"))
    append = run_target(messages, config(tmp_path / "append"))

    assert upsert.exit_code == 0, upsert.stderr
    assert upsert.states == [{"s": 1}]
    history = DeltaTable(str(tmp_path / "upsert" / STREAM)).history()  # newest first
    assert len(history) >= 2  # one commit without the bound
    assert json.loads(history[0]["singer_state"]) == {"s": 1}
    assert all(json.loads(h["singer_state"]) is None for h in history[1:])
    assert len(rows_by_id(tmp_path / "upsert")) == 6000
    assert append.exit_code == 0, append.stderr
    assert len(DeltaTable(str(tmp_path / "append" / STREAM)).history()) == 1


def test_a_larger_delta_upsert_commit_mb_merges_the_same_rows_in_one_commit(tmp_path: Path) -> None:
    """Fewer, larger merges scan a big table fewer times: with 100 MB the 24 MiB upsert is one commit."""
    run = run_target(padded_people(6000), config(tmp_path, load_method="upsert", delta_upsert_commit_mb=100))

    assert run.exit_code == 0, run.stderr
    history = DeltaTable(str(tmp_path / STREAM)).history()
    assert len(history) == 1
    assert json.loads(history[0]["singer_state"]) == {"s": 1}
    assert len(rows_by_id(tmp_path)) == 6000


def test_a_delta_upsert_commit_mb_below_one_fails_at_start_naming_it(tmp_path: Path) -> None:
    run = run_target(
        [people_schema(), person("a", 1)], config(tmp_path, load_method="upsert", delta_upsert_commit_mb=0)
    )

    assert run.exit_code == 1
    assert run.error_lines == [
        "target-parquet-bucket: error: TableSettingsError: "
        "delta_upsert_commit_mb: must be a positive number of MB, got 0"
    ]
    assert not (tmp_path / STREAM).exists()


def test_delta_files_hold_small_row_groups_and_the_table_records_its_file_size(tmp_path: Path) -> None:
    """delta-rs buffers a row group whole while writing and reads one whole while merging: files are
    written in row groups of 16,384 rows, and the table records an 8 MiB target file size, which
    delta-rs merges (they take no size argument) read from the table's configuration."""
    records = [person(f"k{i:05d}", i) for i in range(40_000)]

    run = run_target([people_schema(), *records, state_message({"s": 1})], config(tmp_path))

    assert run.exit_code == 0, run.stderr
    table = DeltaTable(str(tmp_path / STREAM))
    assert table.metadata().configuration["delta.targetFileSize"] == str(8 * 1024 * 1024)
    row_groups = [
        metadata.row_group(i).num_rows
        for metadata in (pq.read_metadata(uri.removeprefix("file://")) for uri in table.file_uris())
        for i in range(metadata.num_row_groups)
    ]
    assert sum(row_groups) == 40_000
    assert max(row_groups) <= 16_384
    assert len(row_groups) >= 3


def test_upsert_replay_after_a_crash_between_commit_and_state_adds_no_duplicate(tmp_path: Path) -> None:
    """The first run committed but its STATE never reached the orchestrator (the run died right
    after the commit), so the same input is sent again: the merge makes the replay a no-op."""
    messages = [people_schema(), person("a", 1), person("b", 2), state_message({"s": 1})]
    committed = run_target(messages, config(tmp_path, load_method="upsert"))
    assert committed.exit_code == 0
    before = rows_by_id(tmp_path)

    replay = run_target(messages, config(tmp_path, load_method="upsert"))

    assert replay.exit_code == 0, replay.stderr
    assert replay.states == [{"s": 1}]
    assert rows_by_id(tmp_path) == before
    arrow_table = DeltaTable(str(tmp_path / STREAM)).to_pyarrow_table()  # noqa: F841 - DuckDB reads it by name
    relation = duckdb.sql("select count(*), count(distinct id) from arrow_table")
    assert relation is not None, "a SELECT gives a relation"
    assert relation.fetchall() == [(2, 2)]


def test_a_target_dying_on_its_state_line_after_the_commit_is_replayed_without_duplicates(tmp_path: Path) -> None:
    """A real crash between commit and STATE: the target's stdout is closed, so writing the STATE
    line kills it after the commit. The orchestrator never saw that STATE and replays the input."""
    messages = [people_schema(), person("a", 1), person("b", 2), person("a", 3), state_message({"s": 1})]
    settings = tmp_path / "config.json"
    settings.write_text(json.dumps(config(tmp_path / "lake", load_method="upsert")))
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads the target's output: its STATE line fails with EPIPE
    try:
        crashed = subprocess.run(  # our own console script
            [str(TARGET_EXECUTABLE), "--config", str(settings)],
            input=singer_lines(messages),
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert crashed.returncode != 0
    assert {k: v["n"] for k, v in rows_by_id(tmp_path / "lake").items()} == {"a": 3, "b": 2}

    replay = run_target(messages, config(tmp_path / "lake", load_method="upsert"))

    assert replay.exit_code == 0, replay.stderr
    assert replay.states == [{"s": 1}]
    assert {k: v["n"] for k, v in rows_by_id(tmp_path / "lake").items()} == {"a": 3, "b": 2}


def test_append_only_replay_leaves_the_replayed_rows_twice(tmp_path: Path) -> None:
    """What README says of append-only: at-least-once delivery shows as duplicate rows."""
    messages = [people_schema(), person("a", 1), state_message({"s": 1})]
    run_target(messages, config(tmp_path))
    run_target(messages, config(tmp_path))

    assert DeltaTable(str(tmp_path / STREAM)).to_pyarrow_table()["id"].to_pylist() == ["a", "a"]


def test_each_commit_holds_the_singer_state_it_completes(tmp_path: Path) -> None:
    messages = [people_schema(), person("a", 1), state_message({"bookmarks": {STREAM: {"at": "x"}}})]
    run = run_target(messages, config(tmp_path))

    assert run.exit_code == 0, run.stderr
    history = DeltaTable(str(tmp_path / STREAM)).history()
    writes = [h for h in history if h["operation"] == "WRITE"]
    assert [json.loads(h["singer_state"]) for h in writes] == [{"bookmarks": {STREAM: {"at": "x"}}}]


def test_overwrite_replaces_the_table_contents(tmp_path: Path) -> None:
    run_target([people_schema(), person("a", 1), person("b", 2)], config(tmp_path, load_method="overwrite"))
    run = run_target([people_schema(), person("c", 3)], config(tmp_path, load_method="overwrite"))

    assert run.exit_code == 0, run.stderr
    assert {k: v["n"] for k, v in rows_by_id(tmp_path).items()} == {"c": 3}


def test_activate_version_replaces_the_table_in_one_commit_and_holds_state_until_then(tmp_path: Path) -> None:
    run_target([people_schema(), person("old", 1)], config(tmp_path))
    messages = [
        people_schema(),
        {"type": "ACTIVATE_VERSION", "stream": STREAM, "version": 2},
        person("a", 1, version=2),
        state_message({"s": 1}),
        person("b", 2, version=2),
        state_message({"s": 2}),
    ]

    run = run_target(messages, config(tmp_path))

    assert run.exit_code == 0, run.stderr
    assert sorted(rows_by_id(tmp_path)) == ["a", "b"]
    assert run.states == [{"s": 2}]
    table = DeltaTable(str(tmp_path / STREAM))
    assert table.version() == 1  # the old contents' commit, then exactly one replacing commit


def test_a_new_column_in_a_later_schema_is_added_to_the_table(tmp_path: Path) -> None:
    run_target([people_schema(), person("a", 1)], config(tmp_path))
    run = run_target(
        [people_schema(email={"type": ["string", "null"]}), person("b", 2, email="b@example.com")],
        config(tmp_path),
    )

    assert run.exit_code == 0, run.stderr
    rows = rows_by_id(tmp_path)
    assert rows["a"]["email"] is None
    assert rows["b"]["email"] == "b@example.com"


def test_a_schema_change_within_one_run_commits_each_schemas_rows(tmp_path: Path) -> None:
    messages = [
        people_schema(),
        person("a", 1),
        people_schema(email={"type": ["string", "null"]}),
        person("b", 2, email="b@example.com"),
        state_message({"s": 1}),
    ]
    run = run_target(messages, config(tmp_path, load_method="upsert"))

    assert run.exit_code == 0, run.stderr
    assert {k: (v["n"], v["email"]) for k, v in rows_by_id(tmp_path).items()} == {
        "a": (1, None),
        "b": (2, "b@example.com"),
    }


def test_an_incompatible_type_change_fails_with_one_line_naming_stream_and_column(tmp_path: Path) -> None:
    run_target([people_schema(), person("a", 1)], config(tmp_path))
    run = run_target([people_schema(n={"type": ["string", "null"]}), person("b", "x")], config(tmp_path))

    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "stream 'people', column 'n'" in run.error_lines[0]
    assert sorted(rows_by_id(tmp_path)) == ["a"]


def test_upsert_of_a_stream_without_key_properties_fails_at_schema(tmp_path: Path) -> None:
    run = run_target(
        [schema_message("events", {"id": {"type": "string"}}), record_message("events", {"id": "a"})],
        config(tmp_path, load_method="upsert"),
    )

    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "stream 'events'" in run.error_lines[0]
    assert "key_properties" in run.error_lines[0]


def test_partition_by_a_date_time_field_partitions_the_table_by_day(tmp_path: Path) -> None:
    messages = [people_schema(), person("a", 1, day=1), person("b", 2, day=1), person("c", 3, day=2)]
    run = run_target(messages, config(tmp_path, partition_by="updated_at"))

    assert run.exit_code == 0, run.stderr
    table = DeltaTable(str(tmp_path / STREAM))
    assert table.metadata().partition_columns == ["updated_at_date"]
    assert sorted(p["updated_at_date"] for p in table.partitions()) == ["2026-11-01", "2026-11-02"]


def test_compaction_every_n_commits_and_version_expiry_are_off_by_default(tmp_path: Path) -> None:
    messages = [people_schema(), person("a", 1), state_message({"s": 1}), person("b", 2), state_message({"s": 2})]
    run_target(messages, config(tmp_path))

    operations = [h["operation"] for h in DeltaTable(str(tmp_path / STREAM)).history()]
    assert "OPTIMIZE" not in operations
    assert "VACUUM START" not in operations


def test_compaction_every_two_commits_leaves_one_file(tmp_path: Path) -> None:
    settings = config(tmp_path, table_compact_every_commits=2)
    run_target([people_schema(), person("a", 1), state_message({"s": 1})], settings)
    run = run_target([people_schema(), person("b", 2), state_message({"s": 2})], settings)

    assert run.exit_code == 0, run.stderr
    table = DeltaTable(str(tmp_path / STREAM))
    assert "OPTIMIZE" in [h["operation"] for h in table.history()]
    assert len(table.file_uris()) == 1
    assert sorted(rows_by_id(tmp_path)) == ["a", "b"]


def test_files_removed_longer_ago_than_the_retention_are_vacuumed_and_newer_ones_kept(tmp_path: Path) -> None:
    overwrite = config(tmp_path, load_method="overwrite")
    run_target([people_schema(), person("a", 1), state_message({"s": 1})], overwrite)
    (first_file,) = DeltaTable(str(tmp_path / STREAM)).file_uris()
    run_target([people_schema(), person("b", 2), state_message({"s": 2})], overwrite)
    (second_file,) = DeltaTable(str(tmp_path / STREAM)).file_uris()
    removed_hours_ago(tmp_path / STREAM / "_delta_log" / f"{1:020d}.json", hours=2)  # version 1 removed file 1

    run = run_target(
        [people_schema(), person("c", 3), state_message({"s": 3})], {**overwrite, "table_retention_hours": 1}
    )

    assert run.exit_code == 0, run.stderr
    assert not os.path.exists(first_file)
    assert os.path.exists(second_file)  # removed by this run's overwrite: within the retention
    assert "VACUUM END" in [h["operation"] for h in DeltaTable(str(tmp_path / STREAM)).history()]
    assert list(rows_by_id(tmp_path)) == ["c"]


def removed_hours_ago(log_entry: Path, *, hours: int) -> None:
    """Rewrite a Delta log entry as if its `remove` actions happened `hours` ago (vacuum reads their time)."""
    then = int((dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=hours)).timestamp() * 1000)
    actions = [json.loads(line) for line in log_entry.read_text().splitlines() if line.strip()]
    for action in actions:
        if "remove" in action:
            action["remove"]["deletionTimestamp"] = then
    log_entry.write_text("".join(json.dumps(action) + "\n" for action in actions))


def s3_read_options(s3_service: t.Any) -> dict[str, str]:
    """delta-rs's own S3 client, straight to moto."""
    return {
        "AWS_ENDPOINT_URL": s3_service.endpoint_url,
        "AWS_REGION": s3_service.region,
        "AWS_ACCESS_KEY_ID": s3_service.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3_service.secret_access_key,
        "AWS_ALLOW_HTTP": "true",
    }


def azure_read_options(azurite_service: t.Any) -> dict[str, str]:
    """delta-rs's own Azure client, straight to Azurite with the account key."""
    return {
        "azure_storage_account_name": azurite_service.account_name,
        "azure_storage_account_key": azurite_service.account_key,
        "azure_storage_endpoint": azurite_service.blob_endpoint,
        "azure_allow_http": "true",
    }


@pytest.mark.parametrize("load_method", ["append-only", "upsert"])
def test_delta_tables_on_s3(s3_service: t.Any, load_method: str) -> None:
    """moto server mode over real HTTP; read back with delta-rs's own S3 client."""
    name = s3_service.create_bucket()
    settings = {
        "bucket_url": f"s3://{name}/lake",
        "table_format": "delta",
        "load_method": load_method,
        "s3_endpoint_url": s3_service.endpoint_url,
        "s3_region": s3_service.region,
        "aws_access_key_id": s3_service.access_key_id,
        "aws_secret_access_key": s3_service.secret_access_key,
    }
    messages = [people_schema(), person("a", 1), person("b", 2), state_message({"s": 1})]
    assert run_target(messages, settings).exit_code == 0
    run = run_target([people_schema(), person("a", 10), state_message({"s": 2})], settings)

    assert run.exit_code == 0, run.stderr
    table = DeltaTable(f"s3://{name}/lake/{STREAM}", storage_options=s3_read_options(s3_service)).to_pyarrow_table()
    ns = sorted(zip(table["id"].to_pylist(), table["n"].to_pylist(), strict=True))
    expected = {"append-only": [("a", 1), ("a", 10), ("b", 2)], "upsert": [("a", 10), ("b", 2)]}
    assert ns == expected[load_method]


@dataclasses.dataclass
class ProxiedLake:
    """A Delta lake on moto (`s3`) or Azurite (`azure`) whose target traffic goes through a fault proxy."""

    backend: str
    proxy: FaultProxy
    settings: dict[str, t.Any]
    direct_options: dict[str, str]
    table_uri: str

    def table(self) -> pa.Table:
        """The table as delta-rs's own client reads it from the service (never through the proxy)."""
        return DeltaTable(self.table_uri, storage_options=self.direct_options).to_pyarrow_table()


@pytest.fixture(params=["s3", "azure"])
def proxied_lake(request: pytest.FixtureRequest) -> t.Iterator[ProxiedLake]:
    """A `ProxiedLake` on each of S3 and Azure Blob in turn, with an upsert stream."""
    settings: dict[str, t.Any] = {"table_format": "delta", "load_method": "upsert"}
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_service")
        proxy = FaultProxy(s3.endpoint_url).start()
        bucket = s3.create_bucket()
        credentials = {"aws_access_key_id": s3.access_key_id, "aws_secret_access_key": s3.secret_access_key}
        settings |= {"bucket_url": f"s3://{bucket}/lake", "s3_endpoint_url": proxy.url, "s3_region": s3.region}
        lake = ProxiedLake("s3", proxy, settings | credentials, s3_read_options(s3), f"s3://{bucket}/lake/{STREAM}")
    else:
        azurite = request.getfixturevalue("azurite_service")
        upstream = azurite.blob_endpoint.rsplit("/", 1)[0]
        proxy = FaultProxy(upstream).start()
        container = azurite.create_container()
        sas_url = azurite.container_sas_url(container).replace(upstream, proxy.url)
        settings |= {"bucket_url": f"azure://{container}/lake", "azure_sas_url": sas_url}
        lake = ProxiedLake("azure", proxy, settings, azure_read_options(azurite), f"az://{container}/lake/{STREAM}")
    yield lake
    proxy.stop()


def test_a_commit_whose_answer_is_lost_fails_the_run_in_one_plain_line_and_its_replay_keeps_one_row_per_key(
    proxied_lake: ProxiedLake,
) -> None:
    """The store kept the commit's log entry but the answer never came back: delta-rs fails the commit instead
    of sending it again, so the run fails without its STATE, in one line free of delta-rs's terminal colours;
    the orchestrator replays the input and the merge leaves one row per key."""
    messages = [people_schema(), person("a", 1), person("b", 2), state_message({"s": 1})]
    proxied_lake.proxy.inject(1.0, ["lost_answer"], methods=["PUT"], path=r"_delta_log/0+\.json", limit=1)

    failed = run_target(messages, proxied_lake.settings)
    replay = run_target(messages, proxied_lake.settings)

    assert len(proxied_lake.proxy.faults_injected()) == 1
    assert failed.exit_code == 1
    assert failed.states == []
    assert len(failed.error_lines) == 1
    assert "stream 'people': delta commit of 2 rows failed" in failed.error_lines[0]
    assert "\x1b" not in failed.stderr
    assert replay.exit_code == 0, replay.stderr
    assert replay.states == [{"s": 1}]
    table = proxied_lake.table()
    assert sorted(zip(table["id"].to_pylist(), table["n"].to_pylist(), strict=True)) == [("a", 1), ("b", 2)]


def run_behind_three_503s(lake: ProxiedLake, max_attempts: int) -> t.Any:
    """A Delta upsert of one record whose data file's first three PUTs are answered 503, with the backend's
    `*_max_attempts: max_attempts`."""
    lake.proxy.inject(1.0, ["503"], methods=["PUT"], path=r"/lake/people/[^_/][^/]*\.parquet", limit=3)
    settings = {**lake.settings, f"{lake.backend}_max_attempts": max_attempts}
    run = run_target([people_schema(), person("a", 1), state_message({"s": 1})], settings)
    assert len(lake.proxy.faults_injected()) == 3
    return run


def test_a_delta_table_gives_up_after_the_backends_max_attempts(proxied_lake: ProxiedLake) -> None:
    """`s3_max_attempts` / `azure_max_attempts` hold for tables as for files: three failed attempts of a run
    allowed three fail it without STATE (delta-rs's own default, ten retries, would have gone on)."""
    run = run_behind_three_503s(proxied_lake, max_attempts=3)

    assert run.exit_code == 1
    assert run.states == []
    assert len(run.error_lines) == 1
    assert "stream 'people'" in run.error_lines[0]


def test_a_delta_table_lands_when_an_attempt_within_the_backends_max_attempts_succeeds(
    proxied_lake: ProxiedLake,
) -> None:
    run = run_behind_three_503s(proxied_lake, max_attempts=4)

    assert run.exit_code == 0, run.stderr
    assert run.states == [{"s": 1}]


@pytest.mark.parametrize("credential", ["connection_string", "sas_url"])
def test_delta_tables_on_azure_blob(azurite_service: t.Any, credential: str) -> None:
    """Azurite over real HTTP; read back with delta-rs's own Azure client and the account key."""
    container = azurite_service.create_container()
    settings = {"bucket_url": f"azure://{container}/lake", "table_format": "delta", "load_method": "upsert"}
    if credential == "sas_url":
        settings["azure_sas_url"] = azurite_service.container_sas_url(container)
    else:
        settings["azure_connection_string"] = azurite_service.connection_string
    assert run_target([people_schema(), person("a", 1), person("b", 2)], settings).exit_code == 0
    run = run_target([people_schema(), person("a", 10)], settings)

    assert run.exit_code == 0, run.stderr
    options = azure_read_options(azurite_service)
    table = DeltaTable(f"az://{container}/lake/{STREAM}", storage_options=options).to_pyarrow_table()
    assert sorted(zip(table["id"].to_pylist(), table["n"].to_pylist(), strict=True)) == [("a", 10), ("b", 2)]


def test_a_failed_commit_on_azure_names_the_stream_and_never_shows_the_sas_token(azurite_service: t.Any) -> None:
    container = azurite_service.create_container()
    sas_url = azurite_service.container_sas_url(container, permission="rl")  # no write permission
    settings = {"bucket_url": f"azure://{container}/lake", "table_format": "delta", "azure_sas_url": sas_url}

    run = run_target([people_schema(), person("a", 1), state_message({"s": 1})], settings)

    assert run.exit_code == 1
    assert len(run.error_lines) == 1
    assert "stream 'people'" in run.error_lines[0]
    assert run.states == []
    signature = sas_url.split("sig=")[1].split("&")[0]
    assert signature not in run.stderr
    assert signature.replace("%2F", "/").replace("%3D", "=").replace("%2B", "+") not in run.stderr
