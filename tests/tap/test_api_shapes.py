"""Response shapes the published OpenAPI document and other connectors show besides the simulator's default
ones: each is switched on in the simulator (`quirks=`, a 400 fault) and the tap must read it completely."""

from __future__ import annotations

import datetime
import time
from collections import Counter
from zoneinfo import ZoneInfo

from cio_simulator import Simulator
from cio_simulator.metrics import METRIC_SERIES_KEYS, series
from jsonschema import Draft7Validator
from tap.tap_harness import run_tap, tap_config

NEW_YORK = ZoneInfo("America/New_York")
WORKSPACE_ID = 123456


def valid(run, stream: str) -> list[str]:
    """Schema violations of `stream`'s records against the schema the tap declared for it."""
    validator = Draft7Validator(run.schema(stream))
    return [error.message for record in run.records[stream] for error in validator.iter_errors(record)]


def test_people_hydrated_without_identifiers_are_keyed_by_the_identifiers_in_their_attributes(make_cio_sim) -> None:
    sim = make_cio_sim(scale=0.1, quirks=("spec_people",))
    people = list(sim.data.people)

    run = run_tap(tap_config(sim, workspace_id=WORKSPACE_ID), ["customers", "people", "attributes"])

    expected = {p["identifiers"]["cio_id"]: p["identifiers"] for p in people}
    customers = run.records["customers"]
    assert Counter(c["cio_id"] for c in customers) == Counter(list(expected))
    assert all({k: c[k] for k in ("cio_id", "id", "email")} == expected[c["cio_id"]] for c in customers)
    assert {row["internal_customer_id"] for row in run.records["people"]} == set(expected)
    assert {row["internal_customer_id"] for row in run.records["attributes"]} == set(expected)
    assert valid(run, "customers") == []


def test_action_sender_ids_arrive_as_integers_or_strings_and_are_emitted_as_strings(make_cio_sim) -> None:
    for quirks in ((), ("string_sender_ids",)):
        sim = make_cio_sim(scale=0.3, quirks=quirks)
        served = {
            (campaign_id, a["id"]): a for campaign_id, actions in sim.data.campaign_actions.items() for a in actions
        }

        run = run_tap(tap_config(sim), ["campaigns", "campaign_actions", "broadcasts", "broadcast_actions"])

        actions = run.records["campaign_actions"]
        assert len(actions) == len(served), quirks
        for action in actions:
            original = served[(action["campaign_id"], action["id"])]
            assert action["from_id"] == str(original["from_id"]), quirks
            expected_reply = None if original["reply_to_id"] is None else str(original["reply_to_id"])
            assert action["reply_to_id"] == expected_reply, quirks
        assert valid(run, "campaign_actions") == [], quirks
        assert valid(run, "broadcast_actions") == [], quirks
        assert all(isinstance(a["from_id"], str) for a in run.records["broadcast_actions"]), quirks


def new_york_midnight(iso_utc: str) -> int:
    """The unix time of `period_start`, checked to be 00:00 in New York."""
    moment = datetime.datetime.fromisoformat(iso_utc)
    assert moment.astimezone(NEW_YORK).time() == datetime.time(0, 0), iso_utc
    return int(moment.timestamp())


def test_newsletter_metrics_label_each_value_with_the_new_york_day_it_covers(make_cio_sim) -> None:
    sim = make_cio_sim(scale=0.1, anchor=int(time.time()))  # v1 buckets end at the simulator's "now"
    newsletter = sim.data.newsletters[0]

    run = run_tap(tap_config(sim, metrics_days=5), ["newsletters", "newsletter_metrics"])

    rows = [r for r in run.records["newsletter_metrics"] if r["newsletter_id"] == newsletter["id"]]
    starts = sorted({new_york_midnight(r["period_start"]) for r in rows})
    today = datetime.datetime.now(NEW_YORK).date()
    assert datetime.datetime.fromtimestamp(starts[-1], NEW_YORK).date() == today
    assert len(starts) == 5
    expected = series(
        sim.data.seed, f"newsletter{newsletter['id']}", newsletter["created"], starts, "days", tuple(METRIC_SERIES_KEYS)
    )
    for row in rows:
        day = starts.index(new_york_midnight(row["period_start"]))
        assert row["value"] == expected[row["metric"]][day], row


def test_campaign_metrics_ask_for_new_york_days_by_region_name(make_cio_sim) -> None:
    sim = make_cio_sim(scale=0.1)

    run = run_tap(tap_config(sim, metrics_days=3), ["campaigns", "campaign_metrics"])

    requests = [e for e in sim.request_log if e.path.endswith("/metrics")]
    assert requests and {e.query["tz"] for e in requests} == {"America/New_York"}
    assert {e.status for e in requests} == {200}
    rows = run.records["campaign_metrics"]
    assert len({new_york_midnight(r["period_start"]) for r in rows}) == 3
    assert len(rows) == 3 * len(METRIC_SERIES_KEYS) * len(sim.data.campaigns)


def test_a_rejected_metrics_request_skips_that_campaign_and_nothing_else(make_cio_sim) -> None:
    sim: Simulator = make_cio_sim(scale=0.3)
    first, *others = (c["id"] for c in sim.data.campaigns)
    sim.faults.configure(rate=1.0, kinds=("400",), only_paths=(f"/v1/campaigns/{first}/metrics",))

    run = run_tap(tap_config(sim, metrics_days=2), ["campaigns", "campaign_metrics", "segments"])

    assert {r["campaign_id"] for r in run.records["campaign_metrics"]} == set(others)
    assert len(run.records["campaigns"]) == len(sim.data.campaigns)
    assert len(run.records["segments"]) == len(sim.data.segments)
    assert (
        f"Stream 'campaign_metrics' skips {{'campaign_id': {first}}}: GET /v1/campaigns/{first}/metrics "
        "returned HTTP 400: invalid parameter" in run.log
    )


def test_a_suppression_type_the_api_rejects_is_skipped_with_a_warning(make_cio_sim) -> None:
    sim: Simulator = make_cio_sim(scale=0.1)
    sim.faults.configure(rate=1.0, kinds=("400",), only_paths=("/v1/esp/suppression/blocks",))

    run = run_tap(tap_config(sim), ["eps_suppression", "segments"])

    emitted = Counter(r["suppression_type"] for r in run.records["eps_suppression"])
    assert emitted == {kind: len(rows) for kind, rows in sim.data.suppressions.items() if kind != "blocks"}
    assert len(run.records["segments"]) == len(sim.data.segments)
    assert (
        "Stream 'eps_suppression' skips {'suppression_type': 'blocks'}: GET /v1/esp/suppression/blocks "
        "returned HTTP 400: invalid parameter" in run.log
    )


def test_suppressions_are_read_per_configured_domain_with_the_domain_in_the_key(make_cio_sim) -> None:
    sim = make_cio_sim(scale=0.1)
    domains = ["mail.example.com", "news.example.com"]

    run = run_tap(tap_config(sim, esp_suppression_domains=domains), ["eps_suppression"])

    asked = Counter(
        (e.path.rsplit("/", 1)[-1], e.query.get("domain"))
        for e in sim.request_log
        if e.path.startswith("/v1/esp/suppression/")
    )
    assert set(asked) == {(kind, domain) for kind in sim.data.suppressions for domain in domains}
    keys = Counter((r["suppression_type"], r["domain"], r["email"]) for r in run.records["eps_suppression"])
    assert keys == Counter(
        {
            (kind, domain, row["email"]): 1
            for kind, rows in sim.data.suppressions.items()
            for row in rows
            for domain in domains
        }
    )
    schema_message = next(m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == "eps_suppression")
    assert schema_message["key_properties"] == ["suppression_type", "domain", "email"]


def test_senders_are_emitted_once_when_the_api_ignores_hidden(make_cio_sim) -> None:
    for quirks in ((), ("hidden_ignored",)):
        sim = make_cio_sim(scale=0.1, quirks=quirks)

        run = run_tap(tap_config(sim), ["sender_identities"])

        assert run.keys("sender_identities", "id") == Counter({s["id"]: 1 for s in sim.data.sender_identities}), quirks
