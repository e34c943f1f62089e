"""Run `tap-customerio | target-parquet-bucket` as two real processes, and interrupt them on purpose.

The test process sits on the pipe between them (a relay): it copies the tap's stdout to the target's
stdin in raw chunks, exactly as a shell pipe would (so a killed tap can leave half a line behind), and
counts the newlines that went through. That count lets a seeded test kill or stop either process at
a reproducible point of the stream instead of at a wall-clock time. The target's stdout (its STATE
lines) is read as it comes; both stderr streams go to files so nothing ever blocks on a full pipe.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import threading
import typing as t
from pathlib import Path

from tap.tap_harness import TAP_EXECUTABLE as TAP
from tap.tap_harness import run_tap_process
from target.target_runs import TARGET_EXECUTABLE as TARGET

RUN_TIMEOUT_S = 300
CHUNK = 65536


@dataclasses.dataclass(frozen=True)
class Interruption:
    """Send `signum` to `victim` ("tap" or "target") once `after_lines` lines went through the pipe."""

    victim: str
    after_lines: int
    signum: int = signal.SIGKILL


@dataclasses.dataclass
class PipelineRun:
    """What one run of the pipeline did, as seen from outside the two processes."""

    states: list[t.Any]
    lines_relayed: int
    tap_returncode: int
    target_returncode: int
    tap_stderr: str
    target_stderr: str
    target_stdout: str
    interrupted: bool

    @property
    def last_state(self) -> t.Any | None:
        """The last STATE the target emitted in this run, or None when it emitted none."""
        return self.states[-1] if self.states else None


def write_json(path: Path, value: t.Any) -> Path:
    """Write `value` as JSON to `path` and return the path (config, state and catalog files)."""
    path.write_text(json.dumps(value))
    return path


def plugin_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for a plugin process that keeps everything it might write inside `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))}
    env.update({"HOME": str(home), "TMPDIR": str(home)})
    env.update(extra or {})
    return env


def discover_catalog(tap_config: Path, workdir: Path, streams: t.Collection[str], env: dict[str, str]) -> Path:
    """Run discovery and write a catalog in which only `streams` are selected."""
    result = run_tap_process("--config", str(tap_config), "--discover", cwd=workdir, env=env)
    if result.exit_code != 0:
        msg = f"tap discovery failed ({result.exit_code}):\n{result.stderr[-3000:]}"
        raise AssertionError(msg)
    catalog = json.loads(result.stdout)
    found = {entry["tap_stream_id"] for entry in catalog["streams"]}
    missing = set(streams) - found
    if missing:
        msg = f"discovery did not offer streams {sorted(missing)}; it offered {sorted(found)}"
        raise AssertionError(msg)
    for entry in catalog["streams"]:
        chosen = entry["tap_stream_id"] in streams
        for item in entry.get("metadata", []):
            if item.get("breadcrumb") == []:
                item["metadata"]["selected"] = chosen
    return write_json(workdir / "catalog.json", catalog)


def run_pipeline(
    tap_args: list[str],
    target_args: list[str],
    workdir: Path,
    *,
    env: dict[str, str],
    interruption: Interruption | None = None,
) -> PipelineRun:
    """Run tap | target to completion (or interruption) and report what happened."""
    run = len(list(workdir.glob("target.*.stderr"))) + 1  # numbered, kept for post-mortems
    tap_err = (workdir / f"tap.{run}.stderr").open("w+b")
    target_err = (workdir / f"target.{run}.stderr").open("w+b")
    tap = subprocess.Popen([str(TAP), *tap_args], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=tap_err)
    target = subprocess.Popen(
        [str(TARGET), *target_args],
        cwd=workdir,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=target_err,
    )
    target_out = target.stdout
    assert target_out is not None, "the target was started with stdout=PIPE"
    stdout_lines: list[bytes] = []
    reader = threading.Thread(target=lambda: stdout_lines.extend(target_out), daemon=True)
    reader.start()
    relay = _Relay(tap, target, interruption)
    relay_thread = threading.Thread(target=relay.run, daemon=True)
    relay_thread.start()
    try:
        relay_thread.join(RUN_TIMEOUT_S)
        target.wait(RUN_TIMEOUT_S)
        tap.wait(RUN_TIMEOUT_S)
        reader.join(RUN_TIMEOUT_S)
    finally:
        for process in (tap, target):
            if process.poll() is None:
                process.kill()
                process.wait()
    return PipelineRun(
        states=[json.loads(line) for line in stdout_lines if line.strip()],
        lines_relayed=relay.lines,
        tap_returncode=tap.returncode,
        target_returncode=target.returncode,
        tap_stderr=_read(tap_err),
        target_stderr=_read(target_err),
        target_stdout=b"".join(stdout_lines).decode("utf-8", "replace"),
        interrupted=relay.fired,
    )


def _read(handle: t.BinaryIO) -> str:
    handle.seek(0)
    text = handle.read().decode("utf-8", "replace")
    handle.close()
    return text


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte went out (a pipe may accept only part of a chunk)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Relay:
    """Copies tap stdout to target stdin in raw chunks, counting lines and firing the interruption."""

    def __init__(self, tap: subprocess.Popen, target: subprocess.Popen, interruption: Interruption | None) -> None:
        self.tap = tap
        self.target = target
        self.interruption = interruption
        self.lines = 0
        self.fired = False

    def run(self) -> None:
        tap_out, target_in = self.tap.stdout, self.target.stdin
        assert tap_out is not None and target_in is not None, "the tap's stdout and the target's stdin are pipes"
        source = tap_out.fileno()
        sink = target_in.fileno()
        try:
            while chunk := os.read(source, CHUNK):
                _write_all(sink, chunk)
                self.lines += chunk.count(b"\n")
                if self.interruption and not self.fired and self.lines >= self.interruption.after_lines:
                    self._fire()
        except BrokenPipeError:
            # The target is gone: an orchestrator stops the tap too, since nothing can consume its output.
            self.tap.kill()
        finally:
            with contextlib.suppress(BrokenPipeError):
                target_in.close()

    def _fire(self) -> None:
        interruption = self.interruption
        assert interruption is not None, "fired only when an interruption was planned"
        self.fired = True
        victim = self.tap if interruption.victim == "tap" else self.target
        victim.send_signal(interruption.signum)
        if victim is self.target and interruption.signum == signal.SIGKILL:
            victim.wait()
