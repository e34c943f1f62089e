"""The tap against an App API built from Customer.io's published OpenAPI document, not from our simulator.

One sync of every stream (the default catalog) runs against `openapi_server`: its lists hold the document's
examples, records with every optional property absent, with every `nullable` property null, and with every
enum value, for every `oneOf` branch; it refuses requests the document does not allow (e.g. the suppression
types beyond its `bounces|spam_reports`). Every record must come out keyed and valid against the schema the
tap declares.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from jsonschema import Draft7Validator
from openapi_server import SPEC, OpenAPIServer
from tap.tap_harness import TapRun, run_tap

from tap_customerio.tap import STREAM_TYPES

#: What makes a record a record: kept present and non-null in every generated shape (see `instances.py`).
IDENTITY = ("id", "cio_id", "email")

#: Top-level lists read once each, their App API path and envelope: every served record is emitted once.
TOP_LEVEL = {
    "campaigns": ("/v1/campaigns", "campaigns"),
    "broadcasts": ("/v1/broadcasts", "broadcasts"),
    "newsletters": ("/v1/newsletters", "newsletters"),
    "segments": ("/v1/segments", "segments"),
    "exports": ("/v1/exports", "exports"),
    "reporting_webhooks": ("/v1/reporting_webhooks", "reporting_webhooks"),
    "collections": ("/v1/collections", "collections"),
    "topics": ("/v1/subscription_topics", "topics"),
    "workspaces": ("/v1/workspaces", "workspaces"),
    "types": ("/v1/object_types", "types"),
    "transactional_messages": ("/v1/transactional", "messages"),
    "activities": ("/v1/activities", "activities"),
    "sender_identities": ("/v1/sender_identities", "sender_identities"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAPIServer]:
    with OpenAPIServer(SPEC, identity=IDENTITY) as running:
        yield running


@pytest.fixture(scope="module")
def run(server: OpenAPIServer) -> TapRun:
    config = {
        "app_api_key": "spec-key",
        "api_url": server.base_url,
        "max_requests_per_second": 1000,
        "request_timeout": 5,
        "max_retries": 0,
        "workspace_id": 1,
        "messages_window_days": 180,
        "metrics_days": 2,
    }
    return run_tap(config, [stream.name for stream in STREAM_TYPES])  # streams off by default too


def schema_message(run: TapRun, stream: str) -> dict:
    return next(m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == stream)


def test_every_stream_emits_records_read_from_the_documents_responses(run: TapRun) -> None:
    assert sorted(stream.name for stream in STREAM_TYPES if not run.records.get(stream.name)) == []


@pytest.mark.parametrize("stream", sorted(s.name for s in STREAM_TYPES))
def test_every_record_is_keyed_and_valid_against_the_schema_the_tap_declares(run: TapRun, stream: str) -> None:
    declared = schema_message(run, stream)
    validator = Draft7Validator(declared["schema"])
    records = run.records.get(stream, [])

    errors = Counter(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for r in records for e in validator.iter_errors(r)
    )
    unkeyed = [r for r in records if any(r.get(key) is None for key in declared["key_properties"])]

    assert (dict(errors), unkeyed) == ({}, [])


@pytest.mark.parametrize("stream", sorted(TOP_LEVEL))
def test_each_record_of_a_top_level_list_is_emitted_once(server: OpenAPIServer, run: TapRun, stream: str) -> None:
    path, envelope = TOP_LEVEL[stream]
    served = {
        record["id"]
        for entry in server.log
        if entry.path == path and entry.status == 200
        for record in entry.body[envelope]
    }

    assert run.keys(stream, "id") == Counter({record_id: 1 for record_id in served})


def test_suppression_types_the_document_does_not_list_are_skipped_with_a_warning(
    server: OpenAPIServer, run: TapRun
) -> None:
    assert {r["suppression_type"] for r in run.records["eps_suppression"]} == {"bounces", "spam_reports"}
    for kind in ("blocks", "invalid_emails"):
        assert (
            f"Stream 'eps_suppression' skips {{'suppression_type': '{kind}'}}: GET /v1/esp/suppression/{kind} "
            "returned HTTP 400" in run.log
        )


def test_people_are_keyed_although_the_documents_example_has_no_identifiers(run: TapRun) -> None:
    assert "03000001" in {c["cio_id"] for c in run.records["customers"]}  # the example's `attributes.cio_id`


def test_messages_without_created_time_or_type_are_left_out_of_deliveries_with_a_warning(run: TapRun) -> None:
    incomplete = [m["id"] for m in run.records["messages"] if m.get("created") is None or not m.get("type")]

    assert incomplete
    assert len(run.records["deliveries"]) == len(run.records["messages"]) - len(incomplete)
    for message_id in incomplete:
        assert f"Stream 'deliveries' leaves out message {message_id}: it has no created time or type" in run.log
