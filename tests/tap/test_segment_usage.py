"""`segment_usage`: what uses each segment, from `/v1/segments/{id}/used_by`."""

from __future__ import annotations

from tap.tap_harness import run_tap, tap_config


def test_each_segment_has_one_record_with_the_campaigns_and_newsletters_using_it(cio_sim) -> None:
    run = run_tap(tap_config(cio_sim), ["segments", "segment_usage"])

    data = cio_sim.data
    expected = {}
    for segment in data.segments:
        newsletters = [n for n in data.newsletters if segment["id"] in n["recipient_segment_ids"]]
        expected[segment["id"]] = {
            "segment_id": segment["id"],
            "campaigns": [
                c["id"]
                for c in data.campaigns
                if segment["id"] in c.get("trigger_segment_ids", []) + c["filter_segment_ids"]
            ],
            "sent_newsletters": [n["id"] for n in newsletters if n["sent_at"] is not None],
            "draft_newsletters": [n["id"] for n in newsletters if n["sent_at"] is None],
        }
    assert {r["segment_id"]: r for r in run.records["segment_usage"]} == expected
    assert any(r["campaigns"] for r in run.records["segment_usage"])
