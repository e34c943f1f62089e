"""Tap figures against the Customer.io simulator: budget use under latency, own CPU cost, incremental cost.

The simulator runs in this process (threads); the tap is a subprocess, so its CPU seconds are its own.
Request counts, arrival times and statuses come from the simulator's request log, i.e. what the API saw.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import json
import math
import os
import re
import sys
import typing as t
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import msgspec

from bench.process import ProcessFailed, ProcessRun, plugin_env, run_measured, warm_up
from bench.report import Row, failed
from bench.services import simulator
from tap_customerio.rate_limit import SPACING_MARGIN

AREA = "tap"
TAP_EXECUTABLE = Path(sys.executable).with_name("tap-customerio")
API_KEY = "bench-app-api-key"
WORKSPACE_ID = 123456
BUDGET_PER_S = 10
LATENCY_S = 0.15
MIN_BUDGET_USE = 0.97
MIN_CPU_RECORDS_PER_S = 40_000
#: Simulator scale of the CPU run: about 100k deliveries in the tap's default 180-day reach.
CPU_RUN_SCALE = 60.0
UNLIMITED = 0  # simulator: no request budget
#: Tap settings for runs where pacing must not be what limits the tap.
UNPACED = {"max_requests_per_second": 1_000_000}
MESSAGES_PAGE = 1000
#: Endpoints with a server-side time filter or an early stop; every other list must be re-read in full.
FILTERED_PATHS = ("/v1/messages", "/v1/activities")


@dataclasses.dataclass(frozen=True)
class TapOptions:
    """What to measure."""

    scale: float
    seed: int
    work_dir: Path


@dataclasses.dataclass(frozen=True)
class TapRun:
    """One tap run: its cost, its output, and the requests the simulator saw during it."""

    process: ProcessRun
    records: int
    state: dict[str, t.Any] | None
    requests: list[t.Any]

    @property
    def statuses(self) -> collections.Counter[int]:
        """Responses by HTTP status."""
        return collections.Counter(request.status for request in self.requests)

    @property
    def request_rate(self) -> float:
        """Admitted requests per second between the first and the last arrival (429s use no budget)."""
        if len(self.requests) < 2:
            return 0.0
        span = self.requests[-1].time - self.requests[0].time
        admitted = sum(1 for request in self.requests if request.status != 429)
        return (admitted - 1) / span if span > 0 else 0.0


class _Message(msgspec.Struct):
    type: str
    value: t.Any = None


def read_output(path: Path) -> tuple[int, dict[str, t.Any] | None]:
    """RECORD lines and the last STATE value in the tap's stdout, streamed."""
    decoder = msgspec.json.Decoder(_Message)
    records, state = 0, None
    with path.open("rb") as lines:
        for line in lines:
            message = decoder.decode(line)
            if message.type == "RECORD":
                records += 1
            elif message.type == "STATE":
                state = message.value
    return records, state


def tap_argv(
    sim: t.Any,
    work_dir: Path,
    name: str,
    settings: dict[str, t.Any],
    *,
    catalog: dict | None = None,
    state: dict | None = None,
) -> list[str]:
    """The tap's command line against `sim`; config, catalog and state go to files in `work_dir`."""
    work_dir.mkdir(parents=True, exist_ok=True)
    config = {"app_api_key": API_KEY, "api_url": sim.base_url, "workspace_id": WORKSPACE_ID, **settings}
    argv = [str(TAP_EXECUTABLE), "--config", str(_dump(work_dir / f"{name}.config.json", config))]
    if catalog is not None:
        argv += ["--catalog", str(_dump(work_dir / f"{name}.catalog.json", catalog))]
    if state is not None:
        argv += ["--state", str(_dump(work_dir / f"{name}.state.json", state))]
    return argv


def _dump(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def run_tap(
    sim: t.Any,
    work_dir: Path,
    name: str,
    settings: dict[str, t.Any],
    *,
    env: dict[str, str] | None = None,
    **files: dict | None,
) -> TapRun:
    """Run a sync against `sim` and collect what it cost and emitted."""
    first = len(sim.request_log)
    process = run_measured(
        tap_argv(sim, work_dir, name, settings, **files), stdin_path=None, log_dir=work_dir, name=name, env=env
    )
    records, final_state = read_output(process.stdout_path)
    return TapRun(process, records, final_state, list(sim.request_log[first:]))


def discover(sim: t.Any, work_dir: Path) -> dict:
    """The catalog `tap-customerio --discover` finds against `sim`."""
    argv = [*tap_argv(sim, work_dir, "discover", {}), "--discover"]
    process = run_measured(argv, stdin_path=None, log_dir=work_dir, name="discover")
    return json.loads(process.stdout_path.read_text())


def only_stream(catalog: dict, stream: str) -> dict:
    """The catalog with just `stream` selected."""
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if not metadata["breadcrumb"]:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == stream
    return catalog


# --- the three measurements ------------------------------------------------------------------------


def endpoint_rates(run: TapRun, *, slowest: int = 4) -> str:
    """Where the budget idles: request rate per endpoint (ids folded) over the time it was being read.

    A request's time runs until the next request of any endpoint arrives, so an endpoint paged one
    request at a time shows about 1 / latency, one read by several workers up to the budget.
    """
    spent: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter[str] = collections.Counter()
    for request, following in zip(run.requests, run.requests[1:], strict=False):
        endpoint = re.sub(r"/\d+(?=/|$)", "/{id}", request.path.removeprefix("/v1"))
        spent[endpoint] += following.time - request.time
        counts[endpoint] += 1
    busy = [(endpoint, counts[endpoint] / seconds) for endpoint, seconds in spent.items() if counts[endpoint] >= 5]
    busy.sort(key=lambda item: item[1])
    return ", ".join(f"{endpoint} {rate:.1f}/s ({counts[endpoint]} req)" for endpoint, rate in busy[:slowest])


def load_average() -> str:
    """The 1-minute load average and the cores, so a figure taken on a busy machine shows as such."""
    return f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def paced_rows(options: TapOptions) -> list[Row]:
    """Every stream against a slow API with the real budget: is the budget used, are 429s avoided?"""
    load = load_average()
    with simulator(
        seed=options.seed,
        scale=options.scale,
        api_key=API_KEY,
        requests_per_second=BUDGET_PER_S,
        latency=LATENCY_S,
        workspace_id=WORKSPACE_ID,
    ) as sim:
        env = {**plugin_env(), "SINGER_SDK_LOG_CONFIG": str(_dump(options.work_dir / "log-starts.json", LOG_STARTS))}
        run = run_tap(sim, options.work_dir, "tap-paced", {"max_requests_per_second": BUDGET_PER_S}, env=env)
    label = f"all streams, {LATENCY_S * 1000:.0f} ms latency, {BUDGET_PER_S:.0f} req/s budget"
    rate = run.request_rate
    use = rate / BUDGET_PER_S
    throttled = throttled_requests(run, tap_starts(run.process.stderr_path))
    self_caused = [t for t in throttled if t.self_caused]
    estimates = backfill_estimates(run.process.stderr_path)
    return [
        Row(
            AREA,
            f"{label}: requests/s",
            f"{rate:.2f} ({len(run.requests)} requests in {run.process.wall_s:.0f}s; {load} before the run; "
            f"the tap's pacing allows at most {BUDGET_PER_S / SPACING_MARGIN:.2f})",
        ),
        Row(AREA, f"admitted requests per second ({LATENCY_S * 1000:.0f} ms latency)", per_second(run)),
        Row(AREA, "budget used", f"{use:.1%}", f"≥ {MIN_BUDGET_USE:.0%}", use >= MIN_BUDGET_USE),
        Row(
            AREA,
            "429s received (self-caused: the tap started 11 requests within one second)",
            f"{len(throttled)}, {len(self_caused)} self-caused" + "".join(f"; {t}" for t in throttled),
            "0 self-caused",
            not self_caused,
        ),
        Row(AREA, "records/s (paced)", f"{run.records / run.process.wall_s:,.0f} ({run.records:,} records)"),
        Row(AREA, "slowest endpoints (paced)", endpoint_rates(run)),
        Row(AREA, "backfill estimates in the log", "; ".join(estimates) or "none", "≥ 1 stream", bool(estimates)),
    ]


#: `SINGER_SDK_LOG_CONFIG` (a JSON document is YAML too): the tap's request start lines, and only those, at DEBUG.
LOG_STARTS = {"version": 1, "incremental": True, "loggers": {"tap_customerio.requests": {"level": "DEBUG"}}}
_STARTED = re.compile(r"started (?P<time>\d+\.\d+) (?P<method>[A-Z]+) (?P<url>\S+)")

_RequestKey = tuple[str, str, tuple[tuple[str, str], ...]]


def _request_key(method: str, path: str, query: t.Iterable[tuple[str, str]]) -> _RequestKey:
    return method, path, tuple(sorted(query))


def tap_starts(stderr: Path) -> dict[_RequestKey, list[float]]:
    """When the tap started each request (`time.monotonic()`, the clock the simulator's arrivals use), by
    method, path and query, in order, from the tap's `tap_customerio.requests` DEBUG lines."""
    starts: dict[_RequestKey, list[float]] = collections.defaultdict(list)
    for line in stderr.read_text(errors="replace").splitlines():
        if match := _STARTED.search(line):
            url = urlsplit(match["url"])
            key = _request_key(match["method"], url.path, parse_qsl(url.query, keep_blank_values=True))
            starts[key].append(float(match["time"]))
    return starts


@dataclasses.dataclass(frozen=True)
class Throttled:
    """A 429, set beside the 10 admitted requests the simulator counted in the second before it."""

    path: str
    #: From the first of those requests to the throttled one, as the simulator counted them and as the tap started them.
    arrivals_s: float
    starts_s: float | None

    @property
    def self_caused(self) -> bool:
        """The tap itself started the 11 requests within one second (or its start lines are missing)."""
        return self.starts_s is None or self.starts_s < 1.0

    def __str__(self) -> str:
        started = "start not logged" if self.starts_s is None else f"started {self.starts_s:.3f} s"
        return f"{self.path}: {started} after the first of the 10 before it, counted {self.arrivals_s:.3f} s after"


def throttled_requests(run: TapRun, starts: dict[_RequestKey, list[float]]) -> list[Throttled]:
    """Every 429 of `run`, with what the tap's start times say about its cause."""
    remaining = {key: collections.deque(times) for key, times in starts.items()}
    timed = []  # (request, the tap's start time or None), in arrival order
    for request in run.requests:
        queue = remaining.get(_request_key(request.method, request.path, request.query.items()))
        timed.append((request, queue.popleft() if queue else None))
    throttled = []
    for position, (request, start) in enumerate(timed):
        if request.status != 429:
            continue
        window = [
            (earlier, earlier_start)
            for earlier, earlier_start in timed[:position]
            if earlier.status != 429 and earlier.time > request.time - 1.0
        ]
        first, first_start = min(window, key=lambda pair: pair[0].time) if window else (request, start)
        starts_s = start - first_start if start is not None and first_start is not None else None
        throttled.append(Throttled(request.path, request.time - first.time, starts_s))
    return throttled


def per_second(run: TapRun) -> str:
    """How many whole seconds of the run (from the first arrival) admitted how many requests, busiest first:
    shows whether the budget idled throughout or in a few stalls (a 429's pause, a lone chain at the end)."""
    admitted = [request.time for request in run.requests if request.status != 429]
    if len(admitted) < 2:
        return "none"
    first = min(admitted)
    seconds = int(max(admitted) - first)
    counts = collections.Counter(int(moment - first) for moment in admitted if moment - first < seconds)
    spread = collections.Counter(counts[second] for second in range(seconds))
    return ", ".join(f"{n}/s in {k} s" for n, k in sorted(spread.items(), reverse=True)) + f" (of {seconds} s)"


def backfill_estimates(stderr: Path) -> list[str]:
    """The tap's backfill estimate lines (`Stream 'x': about N requests to go (...)`), from the stream name on."""
    lines = stderr.read_text(errors="replace").splitlines()
    return [line[line.index("Stream '") :] for line in lines if "requests to go" in line and "Stream '" in line]


def cpu_rows(options: TapOptions) -> list[Row]:
    """`messages` alone against an instant, unlimited API: records per CPU second of the tap itself.

    Start-up (imports, catalog, settings) is a fixed cost, measured by the same sync with `start_date`
    in the future (no window to read) and subtracted, so the figure is the per-record cost.
    """
    load = load_average()
    with simulator(
        seed=options.seed,
        scale=CPU_RUN_SCALE,
        api_key=API_KEY,
        requests_per_second=UNLIMITED,
        latency=0.0,
        workspace_id=WORKSPACE_ID,
    ) as sim:
        catalog = only_stream(discover(sim, options.work_dir), "messages")
        tomorrow = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).isoformat()
        idle = run_tap(sim, options.work_dir, "tap-cpu-idle", {**UNPACED, "start_date": tomorrow}, catalog=catalog)
        run = run_tap(sim, options.work_dir, "tap-cpu", UNPACED, catalog=catalog)
    work_s = run.process.cpu_s - idle.process.cpu_s
    per_cpu_s = run.records / work_s
    value = (
        f"{per_cpu_s:,.0f} ({run.records:,} records in {work_s:.1f} cpu-s + {idle.process.cpu_s:.1f}s start-up; "
        f"wall {run.records / run.process.wall_s:,.0f}/s, simulator-bound; {load} before the run)"
    )
    goal = f"≥ {MIN_CPU_RECORDS_PER_S:,}"
    return [
        Row(AREA, "messages, zero latency: records per tap CPU second", value, goal, per_cpu_s >= MIN_CPU_RECORDS_PER_S)
    ]


def forced_requests(first: TapRun, second: TapRun, sim: t.Any) -> int:
    """Requests an incremental run with no changes cannot avoid, given what the API offers.

    - lists without a server-side filter must be read again in full: as many requests as the first run
      made to the same paths (successful ones; retries are not forced);
    - `/v1/activities` is newest first: one page per query tells that nothing is new;
    - `/v1/messages`: which windows to re-read for late metrics (the lookback) is the tap's choice, but
      each window read needs only ceil(deliveries in it / 1000) pages, at least one.
    """
    ok = [r for r in first.requests if r.status == 200]
    unfiltered = sum(1 for r in ok if not r.path.startswith(FILTERED_PATHS))
    activity_queries = {
        tuple(sorted((k, v) for k, v in r.query.items() if k != "start")) for r in ok if r.path == "/v1/activities"
    }
    window_reads = [
        (int(r.query["start_ts"]), int(r.query["end_ts"]))
        for r in second.requests
        if r.path == "/v1/messages" and "start" not in r.query
    ]
    message_pages = sum(
        max(1, math.ceil(len(sim.data.message_positions(*window)) / MESSAGES_PAGE)) for window in window_reads
    )
    return unfiltered + len(activity_queries) + message_pages


def incremental_rows(options: TapOptions) -> list[Row]:
    """A second run from the first run's state, with nothing changed in between."""
    with simulator(
        seed=options.seed,
        scale=options.scale,
        api_key=API_KEY,
        requests_per_second=UNLIMITED,
        latency=0.0,
        workspace_id=WORKSPACE_ID,
    ) as sim:
        first = run_tap(sim, options.work_dir, "tap-full", UNPACED)
        second = run_tap(sim, options.work_dir, "tap-incremental", UNPACED, state=first.state)
        forced = forced_requests(first, second, sim)
    made = len(second.requests)
    by_path = collections.Counter(
        next((p for p in FILTERED_PATHS if r.path.startswith(p)), "other") for r in second.requests
    )
    detail = ", ".join(f"{path.removeprefix('/v1/')} {count}" for path, count in sorted(by_path.items()))
    value = f"{made} vs {forced} forced (first run {len(first.requests)}; {detail}; {second.records:,} records)"
    return [Row(AREA, "incremental run, no changes: requests", value, "≤ forced", made <= forced)]


MEASUREMENTS = (("paced run", paced_rows), ("CPU run", cpu_rows), ("incremental run", incremental_rows))


def run(options: TapOptions, measurements: t.Sequence[str] | None = None) -> list[Row]:
    """Every tap figure (or those named in `measurements`); a failed measurement becomes a FAIL row, the others
    still run."""
    rows: list[Row] = []
    warm_up([str(TAP_EXECUTABLE), "--about"])
    for metric, measure in MEASUREMENTS:
        if measurements is not None and metric not in measurements:
            continue
        try:
            rows += measure(options)
        except (ProcessFailed, OSError, KeyError, ValueError) as exc:
            rows.append(failed(AREA, metric, exc))
    return rows
