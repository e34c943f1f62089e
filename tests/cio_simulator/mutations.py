"""`Dataset.mutate()`: deterministic changes between two syncs, so incremental behaviour can be tested.

Every change happens strictly after the previous data clock and at or before the new one, and the returned
summary lists exactly the records that changed, per resource, so a test can assert "the second run emits
exactly these".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import records
from .determinism import SplitMix, rng_for

if TYPE_CHECKING:
    from .dataset import Dataset

MUTATION_STEP = 300
RECENT_MESSAGES = 20 * 86400


def apply_mutation(ds: Dataset) -> dict[str, Any]:
    """Move the clock forward one step and apply this generation's changes; return the affected ids."""
    ds.generation += 1
    rng = rng_for(ds.seed, "mutate", ds.generation)
    previous = ds.clock
    ds.clock += MUTATION_STEP

    def moment() -> int:
        return rng.randint(previous + 1, ds.clock)

    summary: dict[str, Any] = {"generation": ds.generation, "clock": ds.clock}
    summary["messages"] = _messages(ds, rng, moment, previous)
    summary["campaigns"] = _campaigns(ds, rng, moment)
    summary["campaign_actions"] = _campaign_actions(ds, rng, moment)
    summary["broadcasts"] = {"updated": _bump(rng, ds.broadcasts, 1, "updated", moment)}
    summary["newsletters"] = _newsletters(ds, rng, moment)
    summary["segments"] = {"updated": _bump(rng, ds.segments, 1, "updated_at", moment)}
    summary["people"] = _people(ds, rng, moment)
    summary["activities"] = _activities(ds, rng, previous)
    summary["collections"] = {"updated": _bump(rng, ds.collections, 1, "updated_at", moment)}
    summary["objects"] = _objects(ds, rng, moment)
    return summary


def _count(ds: Dataset, base: int) -> int:
    return max(1, round(base * ds.scale))


def _bump(rng: SplitMix, items: list[dict[str, Any]], count: int, field: str, moment: Any) -> list[int]:
    """Edit `count` records: a new name and a later change timestamp (and `deduplicate_id`, which embeds it)."""
    chosen = rng.sample(items, min(count, len(items)))
    for item in chosen:
        item[field] = moment()
        item["name"] = item["name"].removesuffix(" (edited)") + " (edited)"
        if "deduplicate_id" in item:
            item["deduplicate_id"] = f"{item['id']}:{item[field]}"
    return sorted(item["id"] for item in chosen)


def _messages(ds: Dataset, rng: SplitMix, moment: Any, previous: int) -> dict[str, Any]:
    """New deliveries after the previous newest one, and metrics (opened/clicked) landing on recent ones."""
    first_new = len(ds._message_created)
    for created in sorted(moment() for _ in range(_count(ds, 25))):
        ds._message_created.append(created)
    for index in range(first_new, len(ds._message_created)):
        ds._message_cutoff[index] = ds.clock
    recent = ds.message_positions(previous - RECENT_MESSAGES, previous)
    candidates = [
        i
        for i in rng.sample(recent, min(len(recent), 300))
        if (m := ds.message(i))["type"] == "email" and "delivered" in m["metrics"] and "opened" not in m["metrics"]
    ]
    events = []
    for index in sorted(candidates[: _count(ds, 15)]):
        opened = moment()
        added = {"opened": opened, "human_opened": 1, "prefetch_opened": 0}
        events.append([ds.message_id(index), "opened", opened])
        if rng.random() < 0.4:
            added["clicked"] = rng.randint(opened, ds.clock)
            events.append([ds.message_id(index), "clicked", added["clicked"]])
        ds._message_metric_overrides.setdefault(index, {}).update(added)
    return {
        "created": [ds.message_id(i) for i in range(first_new, len(ds._message_created))],
        "metrics_added": sorted({event[0] for event in events}),
        "metric_events": events,
    }


def _campaigns(ds: Dataset, rng: SplitMix, moment: Any) -> dict[str, list[int]]:
    """Edit two campaigns and delete one that has actions (its children then answer 404)."""
    updated = _bump(rng, ds.campaigns, 2, "updated", moment)
    deletable = [c for c in ds.campaigns if c["id"] not in updated and ds.campaign_actions.get(c["id"])]
    deleted = []
    if deletable and len(ds.campaigns) > 3:
        victim = rng.choice(deletable)
        ds.campaigns.remove(victim)
        del ds.campaign_actions[victim["id"]]
        ds.deleted_campaign_ids.append(victim["id"])
        deleted.append(victim["id"])
    return {"updated": updated, "deleted": deleted}


def _campaign_actions(ds: Dataset, rng: SplitMix, moment: Any) -> dict[str, list[str]]:
    with_actions = [cid for cid, actions in ds.campaign_actions.items() if actions]
    if not with_actions:
        return {"updated": []}
    actions = ds.campaign_actions[rng.choice(with_actions)]
    changed = rng.sample(actions, min(2, len(actions)))
    for action in changed:
        action["updated"] = moment()
        action["subject"] = action["subject"].removesuffix(" (v2)") + " (v2)"
        action["deduplicate_id"] = f"{action['id']}:{action['updated']}"
    return {"updated": sorted((a["id"] for a in changed), key=int)}


def _newsletters(ds: Dataset, rng: SplitMix, moment: Any) -> dict[str, list[int]]:
    updated = _bump(rng, ds.newsletters, 2, "updated", moment)
    newsletter_id = max(n["id"] for n in ds.newsletters) + 1
    content_id = max(c["id"] for contents in ds.newsletter_contents.values() for c in contents) + 1
    content = records.newsletter_content(rng_for(ds.seed, "newsletter_content", content_id), content_id, newsletter_id)
    created = moment()
    ds.newsletter_contents[newsletter_id] = [content]
    ds.newsletter_test_groups[newsletter_id] = []
    ds.newsletters.append(
        records.newsletter(
            rng, newsletter_id, created, created, [content_id], [s["id"] for s in ds.segments], [1, 2, 3]
        )
    )
    ds.newsletters[-1]["sent_at"] = None
    return {"created": [newsletter_id], "updated": updated}


def _people(ds: Dataset, rng: SplitMix, moment: Any) -> dict[str, list[str]]:
    """New people (never deleted) and attribute changes on existing ones (their `timestamps` move too)."""
    created = []
    for _ in range(_count(ds, 3)):
        index = ds._people_count
        ds._person_created[index] = moment()
        ds._people_count += 1
        ds._live_people.append(index)
        created.append(ds.identifiers(index)["cio_id"])
    updated = []
    existing = [i for i in ds._live_people if i < ds._initial_people]
    for index in sorted(rng.sample(existing, _count(ds, 5))):
        changes = ds._person_changes.setdefault(index, {})
        changes["plan"] = (rng.choice(("pro", "enterprise", "churned")) + f"-g{ds.generation}", moment())
        changes["last_mutation"] = (str(ds.generation), moment())
        updated.append(ds.identifiers(index)["cio_id"])
    untouched = [i for i in ds._live_people if i < ds._initial_people and ds.identifiers(i)["cio_id"] not in updated]
    gone = rng.choice(untouched)
    ds.delete_person(gone, moment())
    return {"created": created, "updated": updated, "deleted": [ds.identifiers(gone)["cio_id"]]}


def _activities(ds: Dataset, rng: SplitMix, previous: int) -> dict[str, list[str]]:
    first_new = len(ds._activity_times)
    for timestamp in sorted(rng.randint(previous + 1, ds.clock) for _ in range(_count(ds, 10))):
        ds._activity_times.append(timestamp)
        ds._activity_people.append(rng.choice(ds._live_people))
        ds._live_activities.append(len(ds._activity_times) - 1)
    background = [ds.activity(j)["id"] for j in range(first_new, len(ds._activity_times))]
    # Delivery events of the new deliveries and of the metrics that landed on recent ones (of live people, as
    # the feed lists them without `deleted=true`).
    events = [
        activity["id"]
        for activity, person in ds.delivery_activities()
        if activity["timestamp"] > previous and not ds.person_is_deleted(person)
    ]
    return {"created": background + events}


def _objects(ds: Dataset, rng: SplitMix, moment: Any) -> dict[str, list[str]]:
    """A new `plan` (and its timestamp) on one object of the first object type, and one more live person
    related to it (`related`: that person's cio_id, empty when the person drawn already was)."""
    item = rng.choice(ds.objects[ds.object_types[0]["id"]])
    item["attributes"]["plan"] = f"{item['attributes']['plan'].split('-g')[0]}-g{ds.generation}"
    item["timestamps"]["plan"] = moment()
    live = ds.live_people_positions()
    person = live[rng.randrange(len(live))]
    related = [] if person in item["people"] else [ds.identifiers(person)["cio_id"]]
    item["people"] = sorted({*item["people"], person})
    return {"updated": [item["cio_object_id"]], "related": related}
