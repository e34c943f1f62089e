"""The simulated workspace: every resource, generated deterministically from (seed, scale, anchor).

Time model: the initial data ends `QUIET_PERIOD` before the anchor and each `mutate()` moves the data clock
forward by `MUTATION_STEP`, placing its new records between the previous clock and the new one. With the
default anchor (the current hour) nothing the simulator serves is ever in the future, even after a dozen
mutations, so a client that reads "up to now" always sees every change.

Small resources are plain lists of dicts. Messages, people, activities and suppressions are lazy lists
(see `determinism.py`) so scale 100 stays within a few hundred MB and generates in seconds.
"""

from __future__ import annotations

import base64
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from functools import partial
from typing import Any

from . import records
from .determinism import LazyRecords, MappedRecords, Record, SplitMix, mix, rng_for, salt
from .mutations import apply_mutation

DAY = 86400
QUIET_PERIOD = 3600
MESSAGE_HISTORY = 395 * DAY
ACTIVITY_HISTORY = 40 * DAY
SUPPRESSION_TYPES = {
    "bounces": "bounces",
    "blocks": "blocks",
    "spam_reports": "spam",
    "invalid_emails": "invalid_emails",
}
SUPPRESSION_BASE_COUNTS = {"bounces": 1200, "blocks": 40, "spam_reports": 30, "invalid_emails": 12}
# Actions per campaign, cycled: more than one page (10), exactly one full page, and none at all.
CAMPAIGN_ACTION_COUNTS = (23, 11, 10, 3, 1, 0, 5, 2, 14, 4, 1, 6)
BROADCAST_ACTION_COUNTS = (1, 2, 12, 1, 3, 0)
BROADCAST_TRIGGER_COUNTS = (3, 0, 5, 1, 2, 0)
# Share of people (percent) in each segment, cycled: one segment over 1000 members at scale 1, one empty.
SEGMENT_SHARES = (60, 25, 10, 0, 5, 40, 15, 2)
SEGMENT_NAMES = (
    "Active users",
    "Trialists",
    "Churn risk",
    "Empty test segment",
    "VIP",
    "Newsletter readers",
    "Mobile app",
    "Beta testers",
)
#: Kinds of the background activities; delivery events (`opened_email`, ...) are derived from the messages.
ACTIVITY_TYPES = ("event", "event", "page", "attribute_change", "profile_create")
#: Delivery event types of the activity feed (the spec's `/v1/activities` `type` enum) for the simulated
#: channels, `<metric>_<message type>`: the other metrics of a message (e.g. `delivered` of a webhook) have no
#: activity and exist only as the message's `metrics` timestamps.
FEED_DELIVERY_TYPES = frozenset(
    [
        f"{m}_{c}"
        for m in ("attempted", "deferred", "drafted", "failed", "sent", "undeliverable")
        for c in ("email", "push", "slack", "twilio", "webhook")
    ]
    + [f"{m}_{c}" for m in ("bounced", "delivered") for c in ("email", "push", "twilio")]
    + [f"clicked_{c}" for c in ("email", "push", "twilio", "webhook")]
    + [f"converted_{c}" for c in ("email", "slack", "twilio", "webhook")]
    + [f"dropped_{c}" for c in ("email", "push", "twilio", "webhook")]
    + ["opened_email", "opened_push", "spammed_email", "unsubscribed_email"]
)
#: The activity feed's `delivery_type` per message type (spec enum `ios|android|email|phone`).
FEED_DELIVERY_CHANNELS = {"email": "email", "push": "ios", "twilio": "phone"}
#: Positions at or above this name delivery activities (index into `delivery_activities()`).
DELIVERY_ACTIVITY_BASE = 1 << 40
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PERSON_SALT, MESSAGE_SALT, ACTIVITY_SALT = salt("person"), salt("message"), salt("activity")
DELIVERY_ACTIVITY_SALT, REPEAT_SALT = salt("delivery_activity"), salt("repeat_event")
PERSON_ID_BASE = 200000
CIO_ID_BASE = 0x3000000


def scaled(base: int, scale: float) -> int:
    """A count for `scale`, never below 1 so every resource exists."""
    return max(1, round(base * scale))


def ulid(timestamp_ms: int, randomness: int) -> str:
    """A ULID-like id (Crockford base32, 26 chars) as activities carry: time-sortable, unique per record."""
    value = (timestamp_ms & ((1 << 48) - 1)) << 80 | (randomness & ((1 << 80) - 1))
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class Dataset:
    """Every resource of one workspace in API shape; `mutate()` applies deterministic changes between runs."""

    #: Positions of the activities whose person is not deleted; a deletion rebuilds it from itself.
    _live_activities: array[int]

    def __init__(self, seed: int, scale: float, anchor: int | None = None, workspace_id: int = 123456) -> None:
        self.seed = seed
        self.scale = scale
        self.anchor = int(anchor if anchor is not None else time.time() // 3600 * 3600)
        self.workspace_id = workspace_id
        self.clock = self.anchor - QUIET_PERIOD
        self.initial_clock = self.clock
        self.generation = 0
        self._indexes: dict[str, tuple[int, dict[Any, Record]]] = {}
        config_scale = scale**0.5  # configuration lists grow slower than event data
        self._generate_segments(scaled(8, config_scale))
        self._generate_campaigns(scaled(12, scale))
        self._generate_broadcasts(scaled(6, scale))
        self._generate_newsletters(scaled(120, scale))
        self._generate_transactional(scaled(4, config_scale))
        self._generate_settings(config_scale)
        self._generate_people(scaled(2200, scale))
        self._generate_objects(scaled(40, config_scale))
        self._generate_messages(scale)
        self._generate_activities(scaled(1500, scale))
        self._generate_suppressions(scale)

    # -- clock ---------------------------------------------------------------------------------------------

    @property
    def now(self) -> int:
        """The API's "current time": the anchor, or the data clock once mutations pass it."""
        return max(self.anchor, self.clock)

    def _rng(self, kind: str, *parts: int) -> SplitMix:
        return rng_for(self.seed, kind, *parts)

    def _past(self, rng: SplitMix, max_age: int, min_age: int = 0) -> int:
        return self.initial_clock - rng.randint(min_age, max_age)

    def _edited(self, rng: SplitMix, created: int, max_delay: int) -> int:
        """An edit time up to `max_delay` after `created`, never after the data clock (nothing in the future)."""
        return min(self.initial_clock, created + rng.randint(0, max_delay))

    def lookup(self, resource: str, record_id: Any) -> Record | None:
        """A record of a top-level list (`campaigns`, `newsletters`, ...) by id, via an index rebuilt only when
        a mutation may have changed the list (child endpoints look parents up on every request)."""
        cached = self._indexes.get(resource)
        if cached is None or cached[0] != self.generation:
            cached = (self.generation, {record["id"]: record for record in getattr(self, resource)})
            self._indexes[resource] = cached
        return cached[1].get(record_id)

    # -- configuration-like resources ------------------------------------------------------------------------

    def _generate_segments(self, count: int) -> None:
        self.segments: list[Record] = []
        self._segment_residues: dict[int, frozenset[int]] = {}
        for k in range(count):
            rng = self._rng("segment", k)
            segment_id = k + 1
            created = self._past(rng, 700 * DAY, 30 * DAY)
            name = SEGMENT_NAMES[k % len(SEGMENT_NAMES)] + ("" if k < len(SEGMENT_NAMES) else f" {k}")
            self.segments.append(records.segment(rng, segment_id, name, created, self._edited(rng, created, 20 * DAY)))
            share = SEGMENT_SHARES[k % len(SEGMENT_SHARES)]
            self._segment_residues[segment_id] = frozenset(rng.sample(range(100), share))
        self._segment_cache: dict[int, tuple[int, list[int]]] = {}

    def _generate_campaigns(self, count: int) -> None:
        self.campaigns: list[Record] = []
        self.campaign_actions: dict[int, list[Record]] = {}
        self.deleted_campaign_ids: list[int] = []
        segment_ids = [s["id"] for s in self.segments]
        next_action = 1000
        for k in range(count):
            rng = self._rng("campaign", k)
            campaign_id = k + 1
            created = self._past(rng, 900 * DAY, 60 * DAY)
            updated = self._edited(rng, created, 50 * DAY)
            actions: list[Record] = []
            for n in range(CAMPAIGN_ACTION_COUNTS[k % len(CAMPAIGN_ACTION_COUNTS)]):
                action_created = created + n * 60
                parent = actions[-1]["id"] if actions else 0
                actions.append(
                    records.action(
                        self._rng("campaign_action", next_action),
                        next_action,
                        "campaign_id",
                        campaign_id,
                        int(parent),
                        action_created,
                        self._edited(rng, action_created, 40 * DAY),
                    )
                )
                next_action += 1
            self.campaign_actions[campaign_id] = actions
            refs = [(int(a["id"]), a["type"]) for a in actions]
            self.campaigns.append(records.campaign(rng, campaign_id, created, updated, refs, segment_ids))
        self._next_action_id = next_action
        self._all_campaign_refs = {c["id"]: [a["id"] for a in c["actions"]] for c in self.campaigns}
        self._all_campaign_ids = list(self._all_campaign_refs)

    def _generate_broadcasts(self, count: int) -> None:
        self.broadcasts: list[Record] = []
        self.broadcast_actions: dict[int, list[Record]] = {}
        self.broadcast_triggers: dict[int, list[Record]] = {}
        next_action = 50000
        trigger_id = 1
        first_id = len(self.campaigns) + 1  # broadcasts share the campaign id space in Customer.io
        for k in range(count):
            rng = self._rng("broadcast", k)
            broadcast_id = first_id + k
            created = self._past(rng, 600 * DAY, 30 * DAY)
            actions = []
            for n in range(BROADCAST_ACTION_COUNTS[k % len(BROADCAST_ACTION_COUNTS)]):
                record = records.action(
                    self._rng("broadcast_action", next_action),
                    next_action,
                    "broadcast_id",
                    broadcast_id,
                    0,
                    created + n,
                    self._edited(rng, created + n, 9 * DAY),
                )
                actions.append(record)
                next_action += 1
            self.broadcast_actions[broadcast_id] = actions
            triggers = []
            for _ in range(BROADCAST_TRIGGER_COUNTS[k % len(BROADCAST_TRIGGER_COUNTS)]):
                at = self._past(rng, 25 * DAY, DAY)
                triggers.append(
                    {
                        "id": trigger_id,
                        "broadcast_id": broadcast_id,
                        "created_at": at,
                        "processed_at": at + rng.randint(1, 120),
                    }
                )
                trigger_id += 1
            self.broadcast_triggers[broadcast_id] = triggers
            refs = [(int(a["id"]), a["type"]) for a in actions]
            self.broadcasts.append(
                records.broadcast(rng, broadcast_id, created, self._edited(rng, created, 30 * DAY), refs)
            )

    def _generate_newsletters(self, count: int) -> None:
        self.newsletters: list[Record] = []
        self.newsletter_contents: dict[int, list[Record]] = {}
        self.newsletter_test_groups: dict[int, list[Record]] = {}
        segment_ids = [s["id"] for s in self.segments]
        content_id = 1
        for k in range(count):
            rng = self._rng("newsletter", k)
            newsletter_id = k + 1
            created = self._past(rng, 1000 * DAY, DAY)
            contents = []
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                contents.append(
                    records.newsletter_content(self._rng("newsletter_content", content_id), content_id, newsletter_id)
                )
                content_id += 1
            self.newsletter_contents[newsletter_id] = contents
            ids = [c["id"] for c in contents]
            ab_test = len(ids) == 2
            self.newsletter_test_groups[newsletter_id] = (
                [
                    {
                        "id": g + 1,
                        "name": f"Group {'AB'[g]}",
                        "label": "AB"[g],
                        "winner": g == 0,
                        "content_ids": [str(ids[g])],
                    }
                    for g in range(2)
                ]
                if ab_test
                else []
            )
            self.newsletters.append(
                records.newsletter(
                    rng, newsletter_id, created, self._edited(rng, created, 10 * DAY), ids, segment_ids, [1, 2, 3]
                )
            )
        self.newsletters.sort(key=lambda n: (n["created"], n["id"]))
        self._blast_newsletter_id = self.newsletters[len(self.newsletters) * 3 // 4]["id"]

    def _generate_transactional(self, count: int) -> None:
        self.transactional: list[Record] = []
        self.transactional_contents: dict[int, list[Record]] = {}
        content_id = 500
        for k in range(count):
            rng = self._rng("transactional", k)
            created = self._past(rng, 800 * DAY, 100 * DAY)
            self.transactional.append(records.transactional(rng, k + 1, created, self._edited(rng, created, 99 * DAY)))
            contents = []
            for _ in range(rng.choice((1, 2))):
                contents.append(
                    records.transactional_content(
                        self._rng("transactional_content", content_id),
                        content_id,
                        created,
                        self._edited(rng, created, DAY),
                    )
                )
                content_id += 1
            self.transactional_contents[k + 1] = contents

    def _generate_settings(self, config_scale: float) -> None:
        rng = self._rng("settings")
        small = records.settings_resources(rng, self.initial_clock, config_scale)
        self.exports: list[Record] = small["exports"]
        self.reporting_webhooks: list[Record] = small["reporting_webhooks"]
        self.snippets: list[Record] = small["snippets"]
        self.collections: list[Record] = small["collections"]
        self.subscription_topics: list[Record] = small["topics"]
        self.object_types: list[Record] = small["object_types"]
        self.ip_addresses: list[str] = small["ip_addresses"]
        visible, hidden = scaled(14, config_scale), scaled(4, config_scale)
        self.sender_identities: list[Record] = [
            records.sender_identity(self._rng("sender", i), i + 1, hidden=i >= visible) for i in range(visible + hidden)
        ]

    def _generate_objects(self, count: int) -> None:
        """Objects of each object type (the second type has one page's worth fewer), each related to a few
        live people; `object_id`s are unique per type."""
        self.objects: dict[str, list[Record]] = {}
        for position, object_type in enumerate(self.object_types):
            items = []
            for n in range(max(1, count - 5 * position)):
                rng = self._rng("object", position, n)
                created = self._past(rng, 500 * DAY, DAY)
                attributes = {
                    "name": f"{records.title(rng, 2)}",
                    "plan": rng.choice(("free", "pro", "enterprise")),
                    "seats": str(rng.randint(1, 500)),
                }
                timestamps = {key: self._edited(rng, created, 60 * DAY) for key in attributes}
                people = sorted(
                    {
                        self._live_people[rng.randrange(len(self._live_people))]
                        for _ in range(rng.choice((0, 1, 2, 3, 12)))
                    }
                )
                items.append(
                    {
                        "object_id": f"{object_type['singular_slug']}-{n}",
                        "cio_object_id": f"o{object_type['id']}{n:06x}",
                        "attributes": attributes,
                        "timestamps": timestamps,
                        "people": people,
                    }
                )
            self.objects[object_type["id"]] = items

    def person_relationships(self, index: int) -> list[Record]:
        """The objects a person is related to, as `GET /v1/customers/{id}/relationships` lists them: the spec's
        item, with an integer `object_type_id`, the object's identifiers, and the relationship's own
        attributes with their unix timestamps."""
        relations = []
        for position, object_type in enumerate(self.object_types):
            for n, item in enumerate(self.objects[object_type["id"]]):
                if index in item["people"]:
                    rng = self._rng("relationship", position, n, index)
                    relations.append(
                        {
                            "object_type_id": int(object_type["id"]),
                            "identifiers": {"object_id": item["object_id"], "cio_object_id": item["cio_object_id"]},
                            "attributes": {"role": rng.choice(("owner", "admin", "member"))},
                            "timestamps": {"role": min(item["timestamps"].values())},
                        }
                    )
        return relations

    @property
    def workspaces(self) -> list[Record]:
        return [
            {
                "id": self.workspace_id,
                "name": "Simulated workspace",
                "messages_sent": len(self.messages),
                "billable_messages_sent": len(self.messages) * 9 // 10,
                "people": len(self._live_people),
                "object_types": len(self.object_types),
                "objects": sum(len(items) for items in self.objects.values()),
            }
        ]

    # -- people ------------------------------------------------------------------------------------------------

    def _generate_people(self, count: int) -> None:
        self._people_count = count
        self._initial_people = count
        self._person_created: dict[int, int] = {}
        self._person_changes: dict[int, dict[str, tuple[str, int]]] = {}
        self._deleted_later: set[int] = set()  # people deleted by `mutate()`
        self._live_people = array("l", (i for i in range(count) if not self.person_is_deleted(i)))
        self.people: Sequence[Record] = MappedRecords(lambda: self._live_people, self.person)
        self.deleted_people: Sequence[Record] = MappedRecords(
            lambda: [i for i in range(self._people_count) if self.person_is_deleted(i)], self.person
        )

    def _person_hash(self, index: int) -> int:
        return mix(self.seed, PERSON_SALT, index)

    def person_is_deleted(self, index: int) -> bool:
        return index in self._deleted_later or (
            index < self._initial_people and (self._person_hash(index) >> 16) % 100 == 0
        )

    def delete_person(self, index: int, at: int) -> None:
        """Delete a live person at `at`: gone from search, memberships and the feed without `deleted=true`; the
        feed records a `profile_delete` activity (shown only with `deleted=true`, like all of their activities)."""
        self._deleted_later.add(index)
        self._live_people = array("l", (i for i in self._live_people if i != index))
        self._segment_cache.clear()
        self._activity_times.append(at)
        self._activity_people.append(index)
        self._fixed_activities[len(self._activity_times) - 1] = "profile_delete"
        self._live_activities = array("l", (j for j in self._live_activities if self._activity_people[j] != index))

    def identifiers(self, index: int) -> Record:
        """`{email, id, cio_id}` of a person; some people have no `id`, some no email (both null)."""
        h = self._person_hash(index)
        person_id = None if h % 12 == 0 else str(PERSON_ID_BASE + index)
        email = None
        if (h >> 8) % 9:
            first, last = self._names(index)
            email = f"{first}.{last}.{index}@{records.EMAIL_DOMAINS[(h >> 36) % len(records.EMAIL_DOMAINS)]}"
        return {"email": email, "id": person_id, "cio_id": f"{CIO_ID_BASE + index:08x}"}

    def _names(self, index: int) -> tuple[str, str]:
        h = self._person_hash(index)
        return (
            records.FIRST_NAMES[(h >> 20) % len(records.FIRST_NAMES)],
            records.LAST_NAMES[(h >> 28) % len(records.LAST_NAMES)],
        )

    def person_index(self, value: str, id_type: str) -> int | None:
        """The index of the live person a customer id / email / cio_id names (None if unknown or deleted)."""
        try:
            if id_type == "cio_id":
                index = int(value.removeprefix("cio_"), 16) - CIO_ID_BASE
            elif id_type == "email":
                index = int(value.rsplit("@", 1)[0].rsplit(".", 1)[1])
            else:
                index = int(value) - PERSON_ID_BASE
        except (ValueError, IndexError):
            return None
        if not 0 <= index < self._people_count or self.person_is_deleted(index):
            return None
        key = id_type if id_type in ("cio_id", "email") else "id"
        if self.identifiers(index)[key] != (value.removeprefix("cio_") if id_type == "cio_id" else value):
            return None
        return index

    def person(self, index: int) -> Record:
        """One person as `POST /v1/customers/attributes` returns it live (flat, not wrapped in `customer`)."""
        ids = self.identifiers(index)
        rng = self._rng("person", index)
        created = self._person_created.get(index) or self._past(rng, 3 * 365 * DAY, DAY)
        first, last = self._names(index)
        attributes: dict[str, str] = {
            "cio_id": ids["cio_id"],
            "created_at": str(created),
            "first_name": first.capitalize(),
            "last_name": last.capitalize(),
            "plan": rng.choice(("free", "free", "pro", "enterprise")),
        }
        if ids["id"] is not None:
            attributes["id"] = ids["id"]
        if ids["email"] is not None:
            attributes["email"] = ids["email"]
        if rng.random() < 0.5:
            attributes["company"] = f"{rng.choice(records.WORDS).capitalize()} Inc"
        if rng.random() < 0.3:
            attributes["lifetime_value"] = f"{rng.uniform(0, 5000):.2f}"
        if rng.random() < 0.2:
            attributes["favorite_color"] = rng.choice(("red", "green", "blue"))
        timestamps = {
            key: created if key in ("cio_id", "created_at", "id", "email") else self._edited(rng, created, 90 * DAY)
            for key in attributes
        }
        for key, (value, at) in self._person_changes.get(index, {}).items():
            attributes[key] = value
            timestamps[key] = at
        devices = []
        for d in range(rng.choice((0, 0, 0, 1, 1, 2))):
            devices.append(
                {
                    "id": f"{mix(self.seed, index, d):016x}",
                    "last_used": self._edited(rng, created, 200 * DAY),
                    "platform": rng.choice(("ios", "android")),
                    "attributes": {"device_os": str(rng.randint(12, 17)), "app_version": "3.2.1"},
                }
            )
        return {
            "attributes": attributes,
            "devices": devices,
            "id": ids["id"],
            "identifiers": ids,
            "timestamps": timestamps,
            "unsubscribed": rng.random() < 0.05,
        }

    def subscription_preferences(self, index: int) -> Record:
        """A person's subscription preferences: each topic at its default, flipped for some people."""
        rng = self._rng("preferences", index)
        ids = self.identifiers(index)
        topics = [
            {
                "id": topic["identifier"],
                "name": topic["name"],
                "subscribed": topic["subscribed_by_default"] != (rng.random() < 0.2),
            }
            for topic in self.subscription_topics
        ]
        return {
            "id": ids["id"],
            "identifiers": ids,
            "topics": topics,
            "unsubscribed": self.person(index)["unsubscribed"],
            "header": {"title": "Your subscriptions", "subtitle": "Choose what you receive"},
        }

    @property
    def people_count(self) -> int:
        return self._people_count

    def live_people_positions(self) -> Sequence[int]:
        return self._live_people

    def segment_member_positions(self, segment_id: int) -> list[int]:
        """Live people in a segment, by person index; cached until the number of people changes."""
        cached = self._segment_cache.get(segment_id)
        if cached and cached[0] == self._people_count:
            return cached[1]
        residues = self._segment_residues[segment_id]
        members = sorted(
            i for r in residues for i in range(r, self._people_count, 100) if not self.person_is_deleted(i)
        )
        self._segment_cache[segment_id] = (self._people_count, members)
        return members

    @property
    def segment_members(self) -> dict[int, list[Record]]:
        """Segment id → identifiers of its members, in the order the membership endpoint serves them."""
        return {s["id"]: [self.identifiers(i) for i in self.segment_member_positions(s["id"])] for s in self.segments}

    # -- messages ------------------------------------------------------------------------------------------

    def _generate_messages(self, scale: float) -> None:
        rng = self._rng("message_times")
        uniform, burst = scaled(1400, scale), scaled(1100, scale)
        start = self.initial_clock - MESSAGE_HISTORY
        self._blast_start = self.initial_clock - 70 * DAY
        span, draw = self.initial_clock - start, rng.random
        times = [start + int(draw() * span) for _ in range(uniform)]
        # A newsletter blast: more than 1000 deliveries within one hour, many sharing the same second.
        times += [self._blast_start + int(draw() * 3600) // 5 * 5 for _ in range(burst)]
        times.sort()
        self._message_created = array("q", times)
        self._message_metric_overrides: dict[int, dict[str, int]] = {}
        self._message_cutoff: dict[int, int] = {}
        self.messages: Sequence[Record] = LazyRecords(lambda: len(self._message_created), self.message)

    def message_positions(self, start_ts: int, end_ts: int) -> range:
        """Positions (ascending creation) of messages with `start_ts <= created <= end_ts`."""
        return range(bisect_left(self._message_created, start_ts), bisect_right(self._message_created, end_ts))

    def message_id(self, index: int) -> str:
        raw = (
            mix(self.seed, MESSAGE_SALT, index).to_bytes(8, "big")
            + index.to_bytes(6, "big")
            + self.workspace_id.to_bytes(4, "big")
            + mix(index, self.seed).to_bytes(8, "big")
        )
        return base64.urlsafe_b64encode(raw).decode()

    def message_position(self, message_id: str) -> int | None:
        """The position a message id was built from (ids embed it), or None for an unknown id."""
        try:
            raw = base64.urlsafe_b64decode(message_id.encode())
        except ValueError:
            return None
        index = int.from_bytes(raw[8:14], "big") if len(raw) == 26 else -1
        return index if 0 <= index < len(self._message_created) and self.message_id(index) == message_id else None

    def message(self, index: int) -> Record:
        """One delivery as `GET /v1/messages` serves it; `metrics` holds the time each metric happened."""
        rng = self._rng("message", index)
        created = self._message_created[index]
        person = rng.randrange(self._initial_people)  # the first draw, as `message_person` repeats it
        ids = self.identifiers(person)
        parent = self._message_parent(rng, created)
        kind = (
            "email"
            if parent.get("newsletter_id") or (ids["email"] and rng.random() < 0.8)
            else rng.choice(("push", "twilio", "webhook", "slack"))
        )
        recipient = {
            "email": ids["email"] or "",
            "push": f"device-{person}",
            "twilio": f"+1555{person:07d}",
            "webhook": "https://hooks.example.com/in",
            "slack": "#alerts",
        }[kind]
        cutoff = self._message_cutoff.get(index, self.initial_clock)
        metrics, failure = self._message_metrics(rng, created, kind, cutoff)
        metrics.update(self._message_metric_overrides.get(index, {}))
        message_id = self.message_id(index)
        template = parent.get("action_id") or parent.get("content_id") or 0
        return {
            "id": message_id,
            "deduplicate_id": f"{message_id}:{created}",
            "message_template_id": template,
            "customer_id": ids["id"],
            "customer_identifiers": ids,
            "recipient": recipient,
            "subject": f"{records.title(rng, 3)}" if kind == "email" else "",
            "metrics": metrics,
            "created": created,
            "failure_message": failure,
            "campaign_id": parent.get("campaign_id"),
            "action_id": parent.get("action_id"),
            "parent_action_id": parent.get("parent_action_id", 0),
            "newsletter_id": parent.get("newsletter_id"),
            "content_id": parent.get("content_id", 0),
            "broadcast_id": parent.get("broadcast_id"),
            "trigger_event_id": f"01H{mix(index, 7):020X}"[:26]
            if parent.get("campaign_id") and rng.random() < 0.5
            else None,
            "type": kind,
            "forgotten": rng.random() < 0.01,
            "transactional_message_id": parent.get("transactional_message_id"),
        }

    def message_person(self, index: int) -> int:
        """The person index a message was sent to."""
        return self._rng("message", index).randrange(self._initial_people)

    def _message_parent(self, rng: SplitMix, created: int) -> dict[str, int]:
        if self._blast_start <= created <= self._blast_start + 3600:
            contents = self.newsletter_contents[self._blast_newsletter_id]
            return {"newsletter_id": self._blast_newsletter_id, "content_id": rng.choice(contents)["id"]}
        roll = rng.random()
        if roll < 0.55:
            campaign_id = rng.choice(self._all_campaign_ids)
            action_ids = self._all_campaign_refs[campaign_id]
            return {"campaign_id": campaign_id, "action_id": rng.choice(action_ids) if action_ids else None}
        if roll < 0.75:
            newsletter = rng.choice(self.newsletters)
            return {"newsletter_id": newsletter["id"], "content_id": rng.choice(newsletter["content_ids"])}
        if roll < 0.85:
            broadcast = rng.choice(self.broadcasts)
            refs = broadcast["actions"]
            return {"broadcast_id": broadcast["id"], "action_id": rng.choice(refs)["id"] if refs else None}
        transactional = rng.choice(self.transactional)
        contents = self.transactional_contents[transactional["id"]]
        return {"transactional_message_id": transactional["id"], "content_id": rng.choice(contents)["id"]}

    def _message_metrics(
        self, rng: SplitMix, created: int, kind: str, cutoff: int
    ) -> tuple[dict[str, int], str | None]:
        """The delivery timeline, cut at the clock the message was created under (later events arrive only
        through `mutate()`, so a record never changes on its own)."""
        sent = created + rng.randint(1, 30)
        metrics = {"sent": sent}
        failure = None
        outcome = rng.random()
        if outcome < 0.03:
            metrics = {"failed": sent}
            failure = "550 5.1.1 mailbox unavailable"
        elif outcome < 0.06 and kind == "email":
            metrics["bounced"] = sent + rng.randint(1, 600)
        else:
            delivered = sent + rng.randint(1, 120)
            metrics["delivered"] = delivered
            if kind in ("email", "push") and rng.random() < 0.4:
                opened = delivered + rng.randint(60, 3 * DAY)
                metrics["opened"] = opened
                if kind == "email":
                    metrics["human_opened"] = 1
                    metrics["prefetch_opened"] = 0
                if rng.random() < 0.3:
                    metrics["clicked"] = opened + rng.randint(5, 3600)
                    if rng.random() < 0.2:
                        metrics["converted"] = metrics["clicked"] + rng.randint(60, DAY)
            if kind == "email" and rng.random() < 0.01:
                metrics["unsubscribed"] = delivered + rng.randint(60, DAY)
        counts = {k: v for k, v in metrics.items() if k.startswith(("human_", "prefetch_"))}
        kept = {k: v for k, v in metrics.items() if k not in counts and v <= cutoff}
        if "opened" in kept:
            kept.update(counts)
        return kept, failure

    # -- activities --------------------------------------------------------------------------------------------

    def _generate_activities(self, count: int) -> None:
        rng = self._rng("activity_times")
        start = self.initial_clock - ACTIVITY_HISTORY
        span, draw = self.initial_clock - start, rng.random
        self._activity_times = array("q", sorted(start + int(draw() * span) for _ in range(count)))
        who = salt("activity_person")
        self._activity_people = array("l", (mix(self.seed, who, j) % self._initial_people for j in range(count)))
        self._live_activities = array(
            "l", (j for j in range(count) if not self.person_is_deleted(self._activity_people[j]))
        )
        self._activity_order: dict[bool, tuple[int, list[int]]] = {}
        self._fixed_activities: dict[int, str] = {}  # activity kinds set by mutations (position → type)
        self._delivery_activities: tuple[int, list[tuple[Record, int]]] | None = None
        self.activities: Sequence[Record] = MappedRecords(lambda: self.activity_positions(True)[::-1], self.activity)
        self.activities_of_live_people: Sequence[Record] = MappedRecords(
            lambda: self.activity_positions(False)[::-1], self.activity
        )

    def activity_positions(self, include_deleted: bool) -> Sequence[int]:
        """Positions (ascending time) of the activities `GET /v1/activities` shows: the background ones and the
        delivery events, merged by time; cached until a mutation."""
        cached = self._activity_order.get(include_deleted)
        if cached and cached[0] == self.generation:
            return cached[1]
        background = range(len(self._activity_times)) if include_deleted else self._live_activities
        timed = [(self._activity_times[j], j) for j in background]
        timed += [
            (record["timestamp"], DELIVERY_ACTIVITY_BASE + k)
            for k, (record, person) in enumerate(self.delivery_activities())
            if include_deleted or not self.person_is_deleted(person)
        ]
        order = [position for _, position in sorted(timed)]
        self._activity_order[include_deleted] = (self.generation, order)
        return order

    def delivery_activities(self) -> list[tuple[Record, int]]:
        """(activity, person index) of every delivery event the feed holds, oldest first: one per timestamp in
        a message's `metrics` whose `<metric>_<type>` is a feed type, plus repeated opens and clicks (a message's
        `metrics` keeps only the first), from `ACTIVITY_HISTORY` before the initial clock on."""
        if self._delivery_activities and self._delivery_activities[0] == self.generation:
            return self._delivery_activities[1]
        start = self.initial_clock - ACTIVITY_HISTORY
        found = []
        for index in self.message_positions(start - 5 * DAY, self.now):
            message = self.message(index)
            for n, (metric, at, data) in enumerate(self.delivery_events(index, message)):
                kind = f"{metric}_{message['type']}"
                if at >= start and kind in FEED_DELIVERY_TYPES:
                    found.append(
                        (
                            {
                                "id": ulid(at * 1000 + n, mix(self.seed, DELIVERY_ACTIVITY_SALT, index, n)),
                                "customer_id": message["customer_id"],
                                "customer_identifiers": message["customer_identifiers"],
                                "type": kind,
                                "timestamp": at,
                                "delivery_id": message["id"],
                                "delivery_type": FEED_DELIVERY_CHANNELS.get(message["type"]),
                                "data": {"delivery_id": message["id"], "recipient": message["recipient"], **data},
                            },
                            self.message_person(index),
                        )
                    )
        found.sort(key=lambda item: (item[0]["timestamp"], item[0]["id"]))
        self._delivery_activities = (self.generation, found)
        return found

    def delivery_events(self, index: int, message: Record) -> list[tuple[str, int, Record]]:
        """(metric, time, event data) of every event of a delivery, as the reporting webhooks describe them:
        the timestamps of its `metrics`, and for some a second open or click (clicks with their link), never
        later than the clock the message was last changed under."""
        rng = self._rng("repeat_event", index)
        cutoff = self._message_cutoff.get(index, self.initial_clock)
        events: list[tuple[str, int, Record]] = []
        for metric, at in sorted(message["metrics"].items(), key=lambda item: (item[1], item[0])):
            if metric.startswith(("human_", "prefetch_")):
                continue
            data: Record = {}
            if metric == "clicked":
                data = self.link(mix(self.seed, REPEAT_SALT, index))
            elif metric in ("bounced", "dropped", "failed", "undeliverable"):
                data = {"failure_message": message["failure_message"] or "550 5.1.1 mailbox unavailable"}
            events.append((metric, at, data))
            again = at + rng.randint(60, 2 * DAY) if metric in ("opened", "clicked") and rng.random() < 0.3 else None
            if again is not None and again <= cutoff:
                extra = self.link(mix(self.seed, REPEAT_SALT, index, 2)) if metric == "clicked" else {}
                events.append((metric, again, extra))
        return events

    @staticmethod
    def link(value: int) -> Record:
        """A tracked link as click events carry it (`link_id`, `href`)."""
        link_id = 1 + value % 30
        return {"link_id": link_id, "href": f"https://www.example.com/offer/{link_id}"}

    def activity(self, index: int) -> Record:
        if index >= DELIVERY_ACTIVITY_BASE:
            return dict(self.delivery_activities()[index - DELIVERY_ACTIVITY_BASE][0])
        rng = self._rng("activity", index)
        timestamp = self._activity_times[index]
        ids = self.identifiers(self._activity_people[index])
        kind = self._fixed_activities.get(index) or rng.choice(ACTIVITY_TYPES)
        data: Record
        if kind == "event":
            data = {"name": rng.choice(("purchase", "signup", "viewed_product")), "price": rng.randint(1, 300)}
        elif kind == "page":
            data = {"url": f"https://www.example.com/{rng.choice(records.WORDS)}"}
        elif kind == "attribute_change":
            data = {"plan": {"from": "free", "to": rng.choice(("pro", "enterprise"))}}
        else:
            data = {}
        return {
            "id": ulid(timestamp * 1000 + index % 1000, mix(self.seed, ACTIVITY_SALT, index)),
            "customer_id": ids["id"],
            "customer_identifiers": ids,
            "type": kind,
            "timestamp": timestamp,
            "delivery_id": None,
            "delivery_type": None,
            "data": data,
        }

    # -- ESP suppressions --------------------------------------------------------------------------------------

    def _generate_suppressions(self, scale: float) -> None:
        self.suppression_counts = {kind: scaled(base, scale) for kind, base in SUPPRESSION_BASE_COUNTS.items()}
        self.suppressions: dict[str, Sequence[Record]] = {
            kind: LazyRecords(partial(self.suppression_counts.__getitem__, kind), partial(self.suppression, kind))
            for kind in SUPPRESSION_TYPES
        }

    def suppression(self, kind: str, index: int) -> Record:
        rng = self._rng(f"suppression_{kind}", index)
        span = 700 * DAY // max(1, self.suppression_counts[kind])
        return {
            "created": self.initial_clock - 700 * DAY + index * span + rng.randint(0, max(1, span - 1)),
            "email": f"{kind[:-1]}{index}@{rng.choice(records.EMAIL_DOMAINS)}",
            "reason": rng.choice(("550 5.1.1 user unknown", "mailbox full", "blocked by recipient")),
            "status": rng.choice(("550", "552", "554")),
        }

    # -- mutations ---------------------------------------------------------------------------------------------

    def mutate(self) -> dict[str, Any]:
        """Advance the clock by `MUTATION_STEP` and change a deterministic set of records; return their ids."""
        return apply_mutation(self)
