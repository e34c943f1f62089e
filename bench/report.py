"""The one table `python -m bench` prints and saves: a row per figure, PASS/FAIL where a goal applies."""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import typing as t
from pathlib import Path

#: Where results are saved (gitignored), next to the generated inputs in `data/`.
RESULTS = Path(__file__).resolve().parent / "results"


@dataclasses.dataclass(frozen=True)
class Row:
    """One measured figure; `passed` is None for figures without a goal (context)."""

    area: str
    metric: str
    value: str
    goal: str = ""
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        """PASS, FAIL, or blank for context rows."""
        return {True: "PASS", False: "FAIL", None: ""}[self.passed]


def failed(area: str, metric: str, error: Exception) -> Row:
    """A row for a measurement that could not be taken (the last line of the error says why)."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    reason = lines[-1].strip() if lines else type(error).__name__
    return Row(area, metric, f"error: {reason[:100]}", "runs", False)


def markdown_table(rows: t.Sequence[Row]) -> str:
    """Rows as a GitHub Markdown table, columns padded so it also reads well in a terminal."""
    header = ("Area", "Metric", "Value", "Goal", "Result")
    cells = [header, *((r.area, r.metric, r.value, r.goal, r.verdict) for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(values: t.Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), separator, *(line(r) for r in cells[1:])])


def environment() -> str:
    """When and where the figures were taken: ratios are comparable across machines, times are not."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{now} · {platform.python_implementation()} {platform.python_version()} · {os.cpu_count()} CPUs · load {load}"
    )


def write_results(path: Path, rows: t.Sequence[Row], command: str, notes: t.Sequence[str]) -> None:
    """Save the table with its context as Markdown (`bench/results/latest*.md`, gitignored)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = [
        "# Benchmark results",
        "",
        f"`{command}` — {environment()}",
        "",
        markdown_table(rows),
        "",
        *notes,
    ]
    path.write_text("\n".join(body).rstrip() + "\n")
