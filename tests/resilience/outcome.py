"""Running one plugin as a process and judging what it told the user.

The standard for every failure is the same: a non-zero exit, and a last stderr line that names the
problem (the stream, setting, line or endpoint) instead of a Python traceback that the user must read
from the bottom up.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import typing as t

from resilience.pipeline import RUN_TIMEOUT_S

if t.TYPE_CHECKING:
    from pathlib import Path

TRACEBACK = "Traceback (most recent call last)"


@dataclasses.dataclass
class Outcome:
    """Exit code and output of one plugin process."""

    returncode: int
    stdout: bytes
    stderr: str

    @property
    def stdout_lines(self) -> list[str]:
        """Non-empty stdout lines, decoded."""
        return [line for line in self.stdout.decode("utf-8", "replace").splitlines() if line.strip()]

    @property
    def messages(self) -> list[dict[str, t.Any]]:
        """stdout parsed as JSON lines (Singer messages of a tap, STATE values of a target)."""
        return [json.loads(line) for line in self.stdout_lines]

    @property
    def last_stderr_line(self) -> str:
        """The line a user reads first when a run fails."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def run_plugin(executable: Path, args: list[str], *, cwd: Path, env: dict[str, str], stdin: bytes = b"") -> Outcome:
    """Run a plugin to completion with `stdin` as its input; its stderr is also kept in `cwd` for post-mortems."""
    result = subprocess.run(
        [str(executable), *args],
        input=stdin,
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    runs = len(list(cwd.glob(f"{executable.name}.*.stderr")))
    (cwd / f"{executable.name}.{runs + 1}.stderr").write_bytes(result.stderr)
    return Outcome(result.returncode, result.stdout, result.stderr.decode("utf-8", "replace"))


def assert_one_line_error(outcome: Outcome, *words: str) -> None:
    """Non-zero exit, no traceback, and a last stderr line naming every one of `words`."""
    assert outcome.returncode != 0, f"expected a failure, got exit 0; stderr:\n{outcome.stderr[-600:]}"
    assert TRACEBACK not in outcome.stderr, f"a traceback instead of a one-line error:\n{outcome.stderr[-600:]}"
    line = outcome.last_stderr_line.lower()
    missing = [w for w in words if w.lower() not in line]
    assert not missing, f"last stderr line does not name {missing}: {outcome.last_stderr_line!r}"


def stderr_line_naming(outcome: Outcome, *words: str) -> str | None:
    """The first stderr line naming all of `words` (a logged coercion or warning), or None."""
    for line in outcome.stderr.splitlines():
        if all(w.lower() in line.lower() for w in words):
            return line
    return None
