"""Running one measured subprocess: wall time, CPU time and peak RSS of exactly that process.

`os.wait4` returns the resource usage of the one child it reaps, so two runs never mix their peaks (unlike
`RUSAGE_CHILDREN`) and no peak is missed between samples (unlike polling). One catch: Linux carries a
process's high-water RSS across `exec`, so a child forked from this (large, baseline-holding) process
would report our size as its peak. A tiny launcher process therefore spawns the measured program and
reports the usage it reaps as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

KIB = 1024
MIB = 1024 * KIB

#: Run as `python -c LAUNCHER <report path> <argv...>`: spawn argv, reap it, write its usage, pass its exit code.
LAUNCHER = """
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
with open(report, "w") as out:
    json.dump({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}, out)
sys.exit(code if code >= 0 else 128 - code)
"""


def plugin_env() -> dict[str, str]:
    """This environment, with Python's bytecode cache on.

    A user's plugins import from cached bytecode after their first run; an environment that sets
    `PYTHONDONTWRITEBYTECODE` would instead make every measured run recompile hundreds of modules
    (seconds of start-up that no user pays).
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_up(argv: Sequence[str]) -> None:
    """Run a plugin once, untimed (e.g. `--about`), so its start-up imports are compiled and cached."""
    subprocess.run(argv, env=plugin_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def _feed(source: t.BinaryIO | None, pipe: t.IO[bytes]) -> None:
    """Copy `source` into `pipe` and close it; a reader that stopped early only ends the copy."""
    try:
        if source is not None:
            shutil.copyfileobj(source, pipe, 1024 * 1024)
        pipe.close()
    except BrokenPipeError:
        return


class ProcessFailed(RuntimeError):
    """The measured process exited non-zero; the message carries the end of its stderr."""


@dataclasses.dataclass(frozen=True)
class ProcessRun:
    """What one process cost."""

    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    stdout_path: Path
    stderr_path: Path
    #: 1-minute load average just before the run: a busy machine shows in the figures.
    load_before: float

    @property
    def cores(self) -> float:
        """Cores used on average (CPU seconds per wall second)."""
        return self.cpu_s / self.wall_s

    @property
    def peak_rss_mib(self) -> float:
        """Peak resident set size in MiB."""
        return self.peak_rss_bytes / MIB


def stderr_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, for error messages."""
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def run_measured(
    argv: Sequence[str],
    *,
    stdin_path: Path | None,
    log_dir: Path,
    name: str,
    env: Mapping[str, str] | None = None,
    through_pipe: bool = False,
) -> ProcessRun:
    """Run `argv` with stdin from a file, stdout/stderr to files in `log_dir`, and measure it.

    `through_pipe`: the file is written into a pipe on the program's stdin by a thread of this process, as
    Meltano feeds a target the tap's output (the writer's CPU is not the program's, like Meltano's)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = log_dir / f"{name}.stdout"
    stderr_path = log_dir / f"{name}.stderr"
    report_path = log_dir / f"{name}.usage.json"
    launcher = [sys.executable, "-c", LAUNCHER, str(report_path), *argv]
    source = stdin_path.open("rb") if stdin_path else None
    load = os.getloadavg()[0]
    try:
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            environment = dict(env) if env is not None else plugin_env()
            stdin: t.Any = subprocess.PIPE if through_pipe else source or subprocess.DEVNULL
            process = subprocess.Popen(launcher, stdin=stdin, stdout=out, stderr=err, env=environment)
            feeder = None
            if process.stdin is not None:  # through_pipe
                feeder = threading.Thread(target=_feed, args=(source, process.stdin), daemon=True)
                feeder.start()
            code = process.wait()
            if feeder is not None:
                feeder.join()
    finally:
        if source is not None:
            source.close()
    if code != 0:
        msg = f"{name}: {argv[0]} exited with {code}:\n{stderr_tail(stderr_path)}"
        raise ProcessFailed(msg)
    usage = json.loads(report_path.read_text())
    return ProcessRun(
        wall_s=usage["wall_s"],
        cpu_s=usage["cpu_s"],
        peak_rss_bytes=usage["maxrss_kib"] * KIB,  # Linux reports kilobytes
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        load_before=load,
    )
