"""Cursor loop guards, envelopes, timestamp conversion and config checks, on real `requests.Response`
objects and plain records."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from singer_sdk.exceptions import ConfigValidationError
from tap.tap_harness import run_tap_process

from tap_customerio.client import CustomerIOError, CustomerIOStream
from tap_customerio.pagination import CursorLoopError, CursorPaginator, NewestFirstCursorPaginator, OffsetPaginator
from tap_customerio.tap import STREAM_TYPES, TapCustomerIO
from tap_customerio.timestamps import MAX_UNIX_SECONDS, MIN_UNIX_SECONDS, compile_converter, unix_to_iso


def page(body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(body).encode()  # how requests stores a body
    return response


def follow(paginator: CursorPaginator, bodies: list[dict]) -> list[str | None]:
    tokens = []
    for body in bodies:
        paginator.advance(page(body))
        tokens.append(paginator.current_value)
        if paginator.finished:
            break
    return tokens


def test_the_cursor_paginator_follows_next_until_it_is_empty_null_or_missing() -> None:
    assert follow(CursorPaginator("/x"), [{"next": "MDo1"}, {"next": "MDo2MQ=="}, {"next": ""}]) == [
        "MDo1",
        "MDo2MQ==",
        "MDo2MQ==",
    ]
    assert CursorPaginator("/x").finished is False
    for end in ({"next": None}, {}):
        paginator = CursorPaginator("/x")
        follow(paginator, [end])
        assert paginator.finished


def test_a_token_seen_before_stops_the_sync_instead_of_looping() -> None:
    with pytest.raises(CursorLoopError, match="/v1/activities: the API returned cursor 'b' twice"):
        follow(CursorPaginator("/v1/activities"), [{"next": "a"}, {"next": "b"}, {"next": "c"}, {"next": "b"}])


def test_an_empty_page_with_a_token_continues_only_where_the_endpoint_does_that() -> None:
    empty_with_token = page({"messages": None, "next": "MDoy"})
    assert CursorPaginator("/messages", continue_on_empty_page=True).continue_if_empty(empty_with_token)
    assert not CursorPaginator("/activities").continue_if_empty(empty_with_token)
    assert not CursorPaginator("/messages", continue_on_empty_page=True).continue_if_empty(page({"next": ""}))


def test_the_offset_paginator_asks_for_another_page_only_after_a_full_one() -> None:
    paginator = OffsetPaginator(page_size=2, records_key="suppressions")
    full = page({"suppressions": [{"email": "a@x.io", "data": {"deep": [1, 2]}}, {"email": "b@x.io"}]})
    assert paginator.has_more(full)
    last_pages: list[dict] = [{"suppressions": [{"email": "c@x.io"}]}, {"suppressions": []}, {"suppressions": None}]
    for last in last_pages:
        assert not paginator.has_more(page(last))


def test_activities_stop_after_the_page_holding_a_record_at_or_before_the_threshold() -> None:
    paginator = NewestFirstCursorPaginator(
        "/v1/activities", records_key="activities", time_key="timestamp", stop_at=100
    )
    newer = [
        {"id": "3", "timestamp": 300, "data": {"nested": {"x": [1]}}},
        {"id": "2", "timestamp": "1970-01-01T00:02:00Z"},
    ]
    assert paginator.has_more(page({"activities": newer, "next": "b"}))
    for reaching in ({"id": "1", "timestamp": 100}, {"id": "0"}, {"id": "z", "timestamp": None}):
        assert not paginator.has_more(page({"activities": [*newer, reaching], "next": "b"}))
    assert NewestFirstCursorPaginator("/x", records_key="activities", time_key="timestamp", stop_at=None).has_more(
        page({"activities": [{"id": "0", "timestamp": 0}], "next": "b"})
    )


@given(st.integers(min_value=MIN_UNIX_SECONDS, max_value=MAX_UNIX_SECONDS))
def test_whole_unix_seconds_read_as_pythons_own_iso_8601_utc_text(seconds: int) -> None:
    expected = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat()
    assert unix_to_iso(seconds) == expected
    assert unix_to_iso(str(seconds) if seconds >= 0 else seconds) == expected


def test_unix_seconds_become_iso_strings_at_top_level_nested_keys_maps_and_lists() -> None:
    convert = compile_converter(("created", "metrics.opened", "timestamps.*", "devices[].last_used"))
    record = {
        "created": 1552341937,
        "metrics": {"opened": 0, "human_opened": 3},
        "timestamps": {"email": 1489014595, "plan": "1489014596"},
        "devices": [{"last_used": 1700000000}, {"last_used": None}],
        "updated": 5,
    }
    convert(record)
    assert record == {
        "created": "2019-03-11T22:05:37+00:00",
        "metrics": {"opened": "1970-01-01T00:00:00+00:00", "human_opened": 3},
        "timestamps": {"email": "2017-03-08T23:09:55+00:00", "plan": "2017-03-08T23:09:56+00:00"},
        "devices": [{"last_used": "2023-11-14T22:13:20+00:00"}, {"last_used": None}],
        "updated": 5,
    }


def test_about_in_markdown_documents_every_setting_and_every_stream(tmp_path: Path) -> None:
    run = run_tap_process("--about", "--format=markdown", cwd=tmp_path)
    assert run.exit_code == 0, run.stderr
    about = run.stdout
    for setting, schema in TapCustomerIO.config_jsonschema["properties"].items():
        assert f"| {setting} |" in about
        assert schema.get("description"), setting
    for stream_type in STREAM_TYPES:
        assert f"| `{stream_type.name}` |" in about


def campaigns_stream() -> CustomerIOStream:
    stream = TapCustomerIO(config={"app_api_key": "k", "api_url": "http://127.0.0.1:9/v1"}).streams["campaigns"]
    assert isinstance(stream, CustomerIOStream), "every stream of the tap is a CustomerIOStream"
    return stream


def answered(body: dict) -> requests.Response:
    response = page(body)
    response.request = requests.Request("GET", "http://127.0.0.1:9/v1/campaigns").prepare()
    assert response.request.url is not None, "a prepared request has its URL"
    response.url = response.request.url
    return response


def test_a_null_list_is_an_empty_page_but_a_missing_envelope_is_an_error_naming_the_stream() -> None:
    stream = campaigns_stream()
    assert list(stream.parse_response(answered({"campaigns": None}))) == []
    with pytest.raises(
        CustomerIOError,
        match=r"stream 'campaigns': GET /v1/campaigns answered without "
        r"'campaigns' \(keys: data\)",
    ):
        stream.parse_response(answered({"data": [{"id": 1}]}))


def test_a_timestamp_field_holding_something_else_fails_naming_stream_record_and_field() -> None:
    with pytest.raises(
        CustomerIOError,
        match=r"stream 'campaigns': record \{'id': 77\}: field 'created' is not "
        r"a unix timestamp: 'last tuesday'",
    ):
        campaigns_stream().post_process({"id": 77, "created": "last tuesday", "updated": 1700000000})


def test_properties_missing_from_the_schema_are_dropped_not_emitted() -> None:
    record = campaigns_stream().post_process({"id": 1, "updated": 1700000000, "brand_new_field": "x"})
    assert record == {"id": 1, "updated": "2023-11-14T22:13:20+00:00"}


@pytest.mark.parametrize("start_date", ["yesterday", "2026-13-45", "1700000000"])
def test_a_start_date_that_is_not_iso_8601_is_a_config_error_naming_the_setting(start_date: str) -> None:
    with pytest.raises(ConfigValidationError, match="start_date"):
        TapCustomerIO(config={"app_api_key": "k", "start_date": start_date})


def test_a_messages_window_wider_than_the_apis_six_month_cap_is_a_config_error() -> None:
    with pytest.raises(ConfigValidationError) as failure:
        TapCustomerIO(config={"app_api_key": "k", "messages_window_days": 365})
    assert "messages_window_days" in "; ".join(failure.value.errors)
