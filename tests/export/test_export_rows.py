"""Export row builders: App API records (as the API sends them) → rows of Customer.io's v4 export tables."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from cio_simulator import Dataset
from export.expectations import SEED
from jsonschema import Draft7Validator
from openapi_server import SPEC
from openapi_server.spec import Spec

from tap_customerio.streams import export as export_tables
from tap_customerio.streams.export.attributes import attribute_rows
from tap_customerio.streams.export.content import content_row
from tap_customerio.streams.export.deliveries import delivery_row
from tap_customerio.streams.export.metrics import FEED_EVENT_TYPES, activity_metric_row, metric_event_id, metric_rows
from tap_customerio.streams.export.people import person_row

WORKSPACE = 4242

CAMPAIGN_EMAIL: dict[str, Any] = {
    "id": "dgOq6QWq6QUBAAF4_CGoeVX7mFkDbRFu7ek=",
    "deduplicate_id": "dgOq6QWq6QUBAAF4:1552341937",
    "message_template_id": 7,
    "customer_id": "user-1",
    "customer_identifiers": {"email": "ada@example.com", "id": "user-1", "cio_id": "a3000001"},
    "recipient": "ada@example.com",
    "subject": "Welcome",
    "metrics": {"sent": 1552341940, "delivered": 1552341990, "opened": 1552345000, "human_opened": 2},
    "created": 1552341937,
    "failure_message": None,
    "campaign_id": 12,
    "action_id": "34",
    "parent_action_id": 0,
    "newsletter_id": None,
    "content_id": 0,
    "broadcast_id": None,
    "trigger_event_id": "01HEVENT",
    "type": "email",
    "forgotten": False,
}


def test_delivery_row_has_exactly_the_seed_columns_with_unavailable_fields_null() -> None:
    assert delivery_row(CAMPAIGN_EMAIL, WORKSPACE) == {
        "workspace_id": 4242,
        "delivery_id": "dgOq6QWq6QUBAAF4_CGoeVX7mFkDbRFu7ek=",
        "internal_customer_id": "a3000001",
        "subject_id": None,
        "event_id": "01HEVENT",
        "delivery_type": "email",
        "campaign_id": 12,
        "action_id": 34,
        "newsletter_id": None,
        "content_id": None,
        "trigger_id": None,
        "created_at": "2019-03-11T22:05:37+00:00",
        "transactional_message_id": None,
    }


def test_delivery_row_names_types_as_the_export_and_puts_broadcasts_in_campaign_id() -> None:
    sms_broadcast = {**CAMPAIGN_EMAIL, "type": "twilio", "campaign_id": None, "broadcast_id": 9}
    in_app = {**CAMPAIGN_EMAIL, "type": "in_app"}

    assert delivery_row(sms_broadcast, WORKSPACE)["delivery_type"] == "sms"
    assert delivery_row(sms_broadcast, WORKSPACE)["campaign_id"] == 9
    assert delivery_row(in_app, WORKSPACE)["delivery_type"] == "in-app"


def test_delivery_row_keeps_newsletter_variant_and_transactional_ids() -> None:
    newsletter = {**CAMPAIGN_EMAIL, "campaign_id": None, "action_id": None, "newsletter_id": 5, "content_id": 51}
    transactional = {**CAMPAIGN_EMAIL, "campaign_id": None, "action_id": None, "transactional_message_id": 3}

    assert delivery_row(newsletter, WORKSPACE)["newsletter_id"] == 5
    assert delivery_row(newsletter, WORKSPACE)["content_id"] == 51
    assert delivery_row(transactional, WORKSPACE)["transactional_message_id"] == 3


def test_delivery_row_of_a_forgotten_person_is_anonymised() -> None:
    forgotten = {**CAMPAIGN_EMAIL, "forgotten": True}

    assert delivery_row(forgotten, WORKSPACE)["internal_customer_id"] is None


def test_metric_rows_are_one_per_event_timestamp_and_skip_counts() -> None:
    rows = list(metric_rows(CAMPAIGN_EMAIL, WORKSPACE))

    assert [(row["metric"], row["created_at"]) for row in rows] == [
        ("delivered", "2019-03-11T22:06:30+00:00"),
        ("opened", "2019-03-11T22:56:40+00:00"),
        ("sent", "2019-03-11T22:05:40+00:00"),
    ]
    assert {row["delivery_id"] for row in rows} == {CAMPAIGN_EMAIL["id"]}
    assert rows[0] == {
        "workspace_id": 4242,
        "event_id": metric_event_id(CAMPAIGN_EMAIL["id"], "delivered", 1552341990),
        "delivery_id": CAMPAIGN_EMAIL["id"],
        "metric": "delivered",
        "reason": None,
        "link_id": None,
        "link_url": None,
        "created_at": "2019-03-11T22:06:30+00:00",
    }


def test_metric_event_ids_are_stable_and_distinct_per_event() -> None:
    first = [row["event_id"] for row in metric_rows(CAMPAIGN_EMAIL, WORKSPACE)]
    again = [row["event_id"] for row in metric_rows(dict(CAMPAIGN_EMAIL), WORKSPACE)]
    reopened = {**CAMPAIGN_EMAIL, "metrics": {**CAMPAIGN_EMAIL["metrics"], "opened": 1552349999}}

    assert first == again
    assert len(set(first)) == 3
    assert metric_event_id(CAMPAIGN_EMAIL["id"], "opened", 1552345000) not in {
        row["event_id"] for row in metric_rows(reopened, WORKSPACE)
    }


def test_metric_rows_after_a_bookmark_hold_only_later_events() -> None:
    rows = list(metric_rows(CAMPAIGN_EMAIL, WORKSPACE, after=1552341990))

    assert [row["metric"] for row in rows] == ["opened"]


def test_failure_metrics_carry_the_failure_message_as_reason() -> None:
    bounced = {**CAMPAIGN_EMAIL, "metrics": {"sent": 100, "bounced": 160}, "failure_message": "550 no such user"}

    reasons = {row["metric"]: row["reason"] for row in metric_rows(bounced, WORKSPACE)}

    assert reasons == {"bounced": "550 no such user", "sent": None}


PERSON: dict[str, Any] = {
    "id": "user-1",
    "identifiers": {"email": "ada@example.com", "id": "user-1", "cio_id": "a3000001"},
    "attributes": {
        "email": "ada@example.com",
        "created_at": "1489014595",
        "plan": "pro",
        "age": 36,
        "tags": ["a", "b"],
    },
    "timestamps": {"email": 1489014600, "created_at": 1489014595, "plan": 1600000000, "age": 1500000000},
    "unsubscribed": False,
    "devices": [],
}


def test_person_row_identifies_the_person_with_flags_and_times() -> None:
    assert person_row(PERSON, WORKSPACE) == {
        "workspace_id": 4242,
        "internal_customer_id": "a3000001",
        "customer_id": "user-1",
        "email": "ada@example.com",
        "deleted": False,
        "suppressed": None,
        "unsubscribed": False,
        "created_at": "2017-03-08T23:09:55+00:00",
        "updated_at": "2020-09-13T12:26:40+00:00",
    }


def test_person_without_id_or_email_keeps_its_cio_id() -> None:
    anonymous = {"identifiers": {"email": None, "id": None, "cio_id": "b77"}, "attributes": {}, "timestamps": {}}

    row = person_row(anonymous, WORKSPACE)

    assert (row["internal_customer_id"], row["customer_id"], row["email"]) == ("b77", None, None)
    assert row["updated_at"] is None


def test_initial_attribute_rows_list_every_current_attribute_as_text() -> None:
    rows = list(attribute_rows(PERSON, WORKSPACE))

    assert [(r["attribute_name"], r["attribute_value"], r["timestamp"]) for r in rows] == [
        ("age", "36", "2017-07-14T02:40:00+00:00"),
        ("created_at", "1489014595", "2017-03-08T23:09:55+00:00"),
        ("email", "ada@example.com", "2017-03-08T23:10:00+00:00"),
        ("plan", "pro", "2020-09-13T12:26:40+00:00"),
        ("tags", '["a","b"]', None),
    ]
    assert {(r["workspace_id"], r["internal_customer_id"]) for r in rows} == {(4242, "a3000001")}


def test_attribute_changeset_has_one_row_per_changed_attribute_with_its_latest_value() -> None:
    # Seed example: synced at 12:00, email changed at 12:05 and again at 12:10, synced at 12:15.
    noon = 1700000000
    person = {
        **PERSON,
        "attributes": {**PERSON["attributes"], "email": "personal-email@example.com"},
        "timestamps": {**PERSON["timestamps"], "email": noon + 600},
    }

    rows = list(attribute_rows(person, WORKSPACE, after=noon))

    assert [(r["attribute_name"], r["attribute_value"]) for r in rows] == [("email", "personal-email@example.com")]


def test_content_rows_put_each_kind_in_one_table_with_its_parent() -> None:
    action = {
        "id": "18",
        "campaign_id": 3,
        "name": "Welcome email",
        "type": "email",
        "language": "",
        "sending_state": "automatic",
        "from": "Team <team@example.com>",
        "reply_to": "",
        "subject": "Hi!",
        "recipient": "{{customer.email}}",
        "preheader_text": "",
        "body": "<p>Hi</p>",
        "created": 1600000000,
        "updated": 1600000100,
    }
    variant = {"id": 51, "newsletter_id": 5, "name": "Variant A", "type": "email", "subject": "A"}
    newsletter_times = {"created": 1600000200, "updated": 1600000300}

    action_row = content_row("campaign_action", action, 3, WORKSPACE)
    variant_row = content_row("newsletter_variant", variant, 5, WORKSPACE, parent_times=newsletter_times)

    assert action_row == {
        "workspace_id": 4242,
        "content_type": "campaign_action",
        "content_id": 18,
        "campaign_id": 3,
        "broadcast_id": None,
        "newsletter_id": None,
        "transactional_message_id": None,
        "delivery_type": "email",
        "created_at": "2020-09-13T12:26:40+00:00",
        "updated_at": "2020-09-13T12:28:20+00:00",
        "name": "Welcome email",
        "language": "",
        "sending_state": "automatic",
        "from": "Team <team@example.com>",
        "reply_to": "",
        "recipient": "{{customer.email}}",
        "subject": "Hi!",
        "preheader_text": "",
        "body": "<p>Hi</p>",
    }
    assert (variant_row["content_id"], variant_row["newsletter_id"], variant_row["campaign_id"]) == (51, 5, None)
    assert variant_row["updated_at"] == "2020-09-13T12:31:40+00:00"
    assert variant_row["sending_state"] is None


def test_rows_built_from_simulated_api_records_match_the_export_schemas() -> None:
    data = Dataset(seed=SEED, scale=0.1)
    people = list(data.people)[:50]
    rows = {
        "deliveries": [delivery_row(m, WORKSPACE) for m in data.messages],
        "metrics": [row for m in data.messages for row in metric_rows(m, WORKSPACE)],
        "people": [person_row(p, WORKSPACE) for p in people],
        "attributes": [row for p in people for row in attribute_rows(p, WORKSPACE)],
        "content": [
            content_row("campaign_action", a, cid, WORKSPACE)
            for cid, actions in data.campaign_actions.items()
            for a in actions
        ]
        + [
            content_row("newsletter_variant", v, n["id"], WORKSPACE, parent_times=n)
            for n in data.newsletters
            for v in data.newsletter_contents[n["id"]]
        ],
    }

    for schema_name, built in rows.items():
        schema = json.loads((files(export_tables) / f"{schema_name}.json").read_text())
        validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
        assert built, schema_name
        for row in built:
            validator.validate({**row, "seq_num": 1})


def test_feed_event_types_are_activity_types_of_the_published_spec() -> None:
    found = Spec(SPEC).find("GET", "/v1/activities")
    assert found is not None, "the spec has GET /v1/activities"
    enum = found[0].response["properties"]["activities"]["items"]["properties"]["type"]["enum"]

    assert set(FEED_EVENT_TYPES) <= set(enum)
    assert {"opened_email", "clicked_email", "delivered_email", "bounced_email", "sent_push"} <= set(FEED_EVENT_TYPES)


def test_a_clicked_activity_is_a_metrics_row_with_its_link_and_the_activity_id_as_event_id() -> None:
    clicked = {
        "id": "01AK4N8V8G8KVA4HN8Y50CCZ59",
        "customer_id": "user-1",
        "type": "clicked_email",
        "timestamp": 1600000000,
        "delivery_id": "dgOq6QWq6QUBAAF4",
        "delivery_type": "email",
        "data": {"delivery_id": "dgOq6QWq6QUBAAF4", "href": "https://docs.customer.io", "link_id": 3},
    }

    assert activity_metric_row(clicked, WORKSPACE) == {
        "workspace_id": WORKSPACE,
        "event_id": "01AK4N8V8G8KVA4HN8Y50CCZ59",
        "delivery_id": "dgOq6QWq6QUBAAF4",
        "metric": "clicked",
        "reason": None,
        "link_id": 3,
        "link_url": "https://docs.customer.io",
        "created_at": "2020-09-13T12:26:40+00:00",
    }
    assert activity_metric_row({**clicked, "type": "page"}, WORKSPACE) is None
