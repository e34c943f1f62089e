"""Each plugin README's layout table names every module of its package, so a new module comes with its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def named_in_layout(readme: Path) -> set[str]:
    """Module paths named in the README's `## Layout` table (`a.py`, `storage/b.py`, `c.py` after a folder)."""
    section = readme.read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    named: set[str] = set()
    for row in (line for line in section.splitlines() if line.startswith("| `")):
        cell = row.split("|")[1]
        folder = ""
        for name in re.findall(r"`([^`]+)`", cell):
            if "/" in name:
                folder = name.rsplit("/", 1)[0] + "/"
                named.add(name)
            else:
                named.add(folder + name)
    return named


@pytest.mark.parametrize(
    ("readme", "package", "folders_as_a_whole"),
    [
        ("tap-customerio/README.md", "tap-customerio/tap_customerio", {"schemas"}),
        ("target-parquet-bucket/README.md", "target-parquet-bucket/target_parquet_bucket", set()),
    ],
)
def test_the_layout_table_names_every_module(readme: str, package: str, folders_as_a_whole: set[str]) -> None:
    root = REPO / package
    modules = {
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if path.name != "__init__.py" and path.relative_to(root).parts[0] not in folders_as_a_whole
    }

    assert modules - named_in_layout(REPO / readme) == set()
