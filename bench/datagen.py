"""Deterministic benchmark input, written once per size and streamed from disk by every run.

For each (stream, size, seed) two files are produced in one pass, never holding the dataset in memory:
- `<name>.singer.jsonl`: what a tap would print (SCHEMA, RECORD lines with `time_extracted`, a STATE every
  10,000 records as singer-sdk taps emit them) — the target's stdin;
- `<name>.records.jsonl`: the bare `record` objects of the same lines — the pyarrow baseline's input
  (the extraction the baseline is spared).
Files are cached by a name that includes a digest of the schema and generator version, and written under a
temporary name first, so an interrupted generation is never mistaken for a complete one.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import json
import os
import random
import typing as t
from pathlib import Path

import msgspec

from bench.schemas import WIDE_COLUMN_KINDS, JsonSchema, wide_column_names

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

GENERATOR_VERSION = 1
STATE_EVERY = 10_000
#: 2026-01-01T00:00:00Z: messages are spread over the 180 days before it.
ANCHOR_UNIX = 1_767_225_600
SPREAD_S = 180 * 86_400
_UTC = datetime.timezone.utc
_ENCODE = msgspec.json.Encoder().encode

Record = dict[str, t.Any]

SUBJECTS = (
    "Welcome to the team!",
    "Your weekly digest",
    "Reset your password",
    "We miss you — 20% off inside",
    "Invoice #{n} is ready",
    'Ünïcödé subject ✓ with "quotes"',
)
FAILURES = ("550 mailbox unavailable", "hard bounce: unknown user", "timeout talking to provider")
CHANNELS = ("email", "email", "email", "push", "twilio", "webhook", "slack")


def iso(unix: int) -> str:
    """A unix time as the tap prints it (`datetime.isoformat` of an aware UTC datetime)."""
    return datetime.datetime.fromtimestamp(unix, _UTC).isoformat()


def _metrics(rng: random.Random, created: int, channel: str) -> Record:
    """Delivery metrics: the time each one was reached, only for those reached, plus a few counts."""
    metrics: Record = {"created": iso(created)}
    if rng.random() < 0.03:
        metrics["failed"] = iso(created + 5)
        return metrics
    sent = created + rng.randint(1, 120)
    metrics["sent"] = iso(sent)
    if rng.random() < 0.02:
        metrics["bounced"] = iso(sent + 30)
        return metrics
    delivered = sent + rng.randint(1, 600)
    metrics["delivered"] = iso(delivered)
    if channel == "email" and rng.random() < 0.45:
        opened = delivered + rng.randint(60, 86_400)
        metrics["opened"] = iso(opened)
        metrics["human_opened"] = rng.randint(1, 4)
        if rng.random() < 0.25:
            metrics["clicked"] = iso(opened + rng.randint(5, 900))
            metrics["human_clicked"] = rng.randint(1, 3)
    return metrics


def message_records(count: int, seed: int) -> Iterator[Record]:
    """Records shaped like `/v1/messages` deliveries after the tap's conversion (reference §2.8)."""
    rng = random.Random(seed)
    for index in range(count):
        created = ANCHOR_UNIX - rng.randrange(SPREAD_S)
        channel = rng.choice(CHANNELS)
        person = rng.randrange(1, 200_000)
        has_id = rng.random() < 0.8
        origin = rng.random()
        campaign = origin < 0.6
        newsletter = 0.6 <= origin < 0.85
        yield {
            "id": base64.b64encode(index.to_bytes(8, "big") + rng.randbytes(18)).decode(),
            "deduplicate_id": f"{index}:{created}",
            "message_template_id": rng.randrange(1, 500),
            "msg_template_id": None,
            "customer_id": str(person) if has_id else None,
            "customer_identifiers": {
                "email": f"person{person}@example.com" if rng.random() < 0.9 else None,
                "id": str(person) if has_id else None,
                "cio_id": f"{person:012x}",
            },
            "recipient": f"person{person}@example.com",
            "subject": rng.choice(SUBJECTS).replace("{n}", str(index)),
            "metrics": _metrics(rng, created, channel),
            "created": iso(created),
            "failure_message": rng.choice(FAILURES) if rng.random() < 0.03 else None,
            "campaign_id": rng.randrange(1, 300) if campaign else None,
            "action_id": rng.randrange(1, 3000) if campaign else None,
            "parent_action_id": rng.randrange(1, 3000) if campaign and rng.random() < 0.2 else None,
            "newsletter_id": rng.randrange(1, 200) if newsletter else None,
            "content_id": rng.randrange(1, 900) if newsletter else None,
            "broadcast_id": rng.randrange(1, 50) if origin >= 0.95 else None,
            "transactional_message_id": rng.randrange(1, 40) if 0.85 <= origin < 0.95 else None,
            "trigger_event_id": f"01J{rng.getrandbits(100):026X}" if rng.random() < 0.3 else None,
            "type": channel,
            "forgotten": rng.random() < 0.01,
        }


def _wide_value(rng: random.Random, kind: str, fmt: str | None, row: int) -> t.Any:
    if rng.random() < 0.1:
        return None
    if fmt == "date-time":
        return iso(ANCHOR_UNIX - rng.randrange(SPREAD_S))
    if kind == "string":
        return f"value-{row % 997}-{rng.getrandbits(24):06x}"
    if kind == "integer":
        return rng.randrange(-(2**40), 2**40)
    if kind == "number":
        return round(rng.uniform(-1e6, 1e6), 4)
    return rng.random() < 0.5


def wide_records(count: int, seed: int, columns: int) -> Iterator[Record]:
    """Flat records with `columns` nullable columns of every scalar type (10% nulls)."""
    rng = random.Random(seed)
    kinds = [WIDE_COLUMN_KINDS[i % len(WIDE_COLUMN_KINDS)] for i in range(columns)]
    names = wide_column_names(columns)
    for row in range(count):
        record: Record = {"id": row}
        for name, (kind, fmt) in zip(names, kinds, strict=True):
            record[name] = _wide_value(rng, kind, fmt, row)
        yield record


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One generated input: the Singer stream for the target, the bare records for the baseline."""

    stream: str
    records: int
    schema: JsonSchema = dataclasses.field(repr=False)
    singer_path: Path
    records_path: Path

    @property
    def singer_bytes(self) -> int:
        """Size of the target's input."""
        return self.singer_path.stat().st_size


class ShapeMismatch(ValueError):
    """A generated record has fields the stream's schema does not declare (the generator is outdated)."""


def check_shape(stream: str, schema: JsonSchema, record: Record) -> None:
    """Fail fast if the generator and the schema (e.g. the tap's, which may evolve) disagree."""
    declared = set(schema["properties"])
    unknown = sorted(set(record) - declared)
    missing = sorted(declared - set(record))
    if unknown or missing:
        msg = f"{stream}: generated records do not match the schema (unknown {unknown}, missing {missing})"
        raise ShapeMismatch(msg)


def _write(stream: str, schema: JsonSchema, rows: Iterator[Record], singer: t.BinaryIO, bare: t.BinaryIO) -> None:
    """Stream records into both files: each record is encoded once and framed as a RECORD line."""
    extracted = iso(ANCHOR_UNIX)
    singer.write(_ENCODE({"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": ["id"]}) + b"\n")
    prefix = b'{"type":"RECORD","stream":' + _ENCODE(stream) + b',"record":'
    suffix = b',"time_extracted":' + _ENCODE(extracted) + b"}\n"
    for count, record in enumerate(rows, start=1):
        if count == 1:
            check_shape(stream, schema, record)
        body = _ENCODE(record)
        singer.write(prefix + body + suffix)
        bare.write(body + b"\n")
        if count % STATE_EVERY == 0:
            state = {"type": "STATE", "value": {"bookmarks": {stream: {"replication_key_value": count}}}}
            singer.write(_ENCODE(state) + b"\n")
    singer.write(_ENCODE({"type": "STATE", "value": {"bookmarks": {stream: {"done": True}}}}) + b"\n")


def ensure_dataset(
    stream: str,
    schema: JsonSchema,
    make_rows: Callable[[int, int], Iterator[Record]],
    *,
    records: int,
    seed: int,
    data_dir: Path,
    bare_records: bool = True,
) -> Dataset:
    """Return the cached dataset for these parameters, generating it first if needed.

    Without `bare_records` only the Singer file is written (sizes measured without the baseline).
    """
    digest = hashlib.sha256(json.dumps([schema, GENERATOR_VERSION], sort_keys=True).encode()).hexdigest()[:10]
    base = data_dir / f"{stream}-{records}-seed{seed}-{digest}"
    dataset = Dataset(stream, records, schema, base.with_suffix(".singer.jsonl"), base.with_suffix(".records.jsonl"))
    if dataset.singer_path.exists() and (dataset.records_path.exists() or not bare_records):
        return dataset
    data_dir.mkdir(parents=True, exist_ok=True)
    singer_tmp = dataset.singer_path.with_suffix(".partial")
    records_tmp = dataset.records_path.with_suffix(".partial") if bare_records else Path(os.devnull)
    buffer = 8 * 1024 * 1024
    with singer_tmp.open("wb", buffering=buffer) as singer, records_tmp.open("wb", buffering=buffer) as bare:
        _write(stream, schema, make_rows(records, seed), singer, bare)
    if bare_records:
        records_tmp.rename(dataset.records_path)
    singer_tmp.rename(dataset.singer_path)
    return dataset
