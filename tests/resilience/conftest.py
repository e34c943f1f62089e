"""Fixtures shared by the resilience tests: a private working folder and environment per test."""

from __future__ import annotations

import typing as t

import pytest

from resilience.pipeline import plugin_env

if t.TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The plugins' working directory, HOME and TMPDIR: everything they write lands here."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def env(workdir: Path) -> dict[str, str]:
    """Environment for plugin processes, confined to `workdir`."""
    return plugin_env(workdir)
