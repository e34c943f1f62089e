"""Both plugins build as a wheel and an sdist (`python -m build`) that install into a fresh venv and run.

Outside this repository users install them from PyPI or a git URL (`pip install
"git+https://…#subdirectory=tap-customerio"`), which builds the same sdist/wheel.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).with_name("uv")
#: (folder, distribution name, console script, import package)
PLUGINS = [
    ("tap-customerio", "tap_customerio_warehouse", "tap-customerio", "tap_customerio"),
    ("target-parquet-bucket", "target_parquet_bucket", "target-parquet-bucket", "target_parquet_bucket"),
]


def build(folder: str, out: Path) -> tuple[Path, Path]:
    """`python -m build` of one plugin (without build isolation: hatchling comes from the test venv)."""
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO_ROOT / folder)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


@pytest.mark.parametrize(("folder", "dist", "script", "package"), PLUGINS, ids=[p[0] for p in PLUGINS])
def test_the_wheel_installs_into_a_fresh_venv_and_runs_about(
    tmp_path: Path, folder: str, dist: str, script: str, package: str
) -> None:
    wheel, sdist = build(folder, tmp_path / "dist")
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)], check=True
    )

    about = json.loads(
        subprocess.check_output([str(venv / "bin" / script), "--about", "--format=json"], stderr=subprocess.DEVNULL)
    )

    assert wheel.name.startswith(f"{dist}-0.1.0-")
    assert (about["name"], about["version"]) == (script, "0.1.0")
    assert f"{package}/__init__.py" in zipfile.ZipFile(wheel).namelist()
    with tarfile.open(sdist) as archive:
        names = {Path(*Path(n).parts[1:]).as_posix() for n in archive.getnames()}
    assert {"pyproject.toml", "README.md", f"{package}/__init__.py"} <= names


def test_the_taps_distribution_name_is_not_singer_ios_tap_customerio() -> None:
    """singer-io's `tap-customerio` is on PyPI; ours keeps its console script, under its own name."""
    pyproject = (REPO_ROOT / "tap-customerio" / "pyproject.toml").read_text()

    assert 'name = "tap-customerio-warehouse"' in pyproject
    assert 'tap-customerio = "tap_customerio.cli:main"' in pyproject


@pytest.mark.parametrize(("folder", "dist", "script", "package"), PLUGINS, ids=[p[0] for p in PLUGINS])
def test_installs_from_a_git_url_with_subdirectory_as_docs_plugins_md_says(
    tmp_path: Path, folder: str, dist: str, script: str, package: str
) -> None:
    """`<dist>@git+<repo URL>#subdirectory=<folder>`, from a clone of this repository's committed HEAD."""
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    requirement = f"{dist.replace('_', '-')}@git+file://{clone}#subdirectory={folder}"

    subprocess.run(
        [str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), requirement], check=True
    )

    about = json.loads(
        subprocess.check_output([str(venv / "bin" / script), "--about", "--format=json"], stderr=subprocess.DEVNULL)
    )
    assert about["name"] == script
    documented = re.findall(
        r"(\S+)@git\+https://github\.com/OWNER/REPO\.git#subdirectory=(\S+?)[\"\s]",
        (REPO_ROOT / "docs" / "plugins.md").read_text(),
    )
    assert (dist.replace("_", "-"), folder) in {(name.split("[")[0], sub) for name, sub in documented}
