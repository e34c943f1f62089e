"""`docs/plugins/*.yml`, the Meltano Hub-style definitions other projects add with `meltano add --from-ref`,
are up to date with `meltano.yml` and make a working pipeline in a fresh Meltano 4.4 project."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from cio_simulator import Simulator

REPO_ROOT = Path(__file__).resolve().parent.parent
MELTANO = Path(sys.executable).with_name("meltano")
DEFINITIONS = REPO_ROOT / "docs" / "plugins"


def generator() -> t.Any:
    spec = importlib.util.spec_from_file_location("plugin_definitions", REPO_ROOT / "scripts" / "plugin_definitions.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_definition_files_are_what_the_script_makes_from_meltano_yml() -> None:
    script = generator()

    assert {path.name: path.read_text() for path in DEFINITIONS.glob("*.yml")} == {
        f"{plugin['name']}.yml": script.render(plugin) for plugin in script.project_plugins()
    }


def test_a_fresh_meltano_project_adds_both_definitions_from_a_git_url_and_runs_the_pipeline(
    tmp_path: Path, make_cio_sim: Callable[..., Simulator]
) -> None:
    """As a user would: a new project, `meltano add --from-ref` with the repository's URL, `meltano run`."""
    clone = tmp_path / "repo.git"  # the definitions' `<repo URL>.git`
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_VENV_BACKEND": "uv"}
    env.pop("MELTANO_SYS_DIR_ROOT", None)

    def meltano(*args: str, cwd: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(MELTANO), *args], cwd=cwd, env={**env, **(extra or {})}, capture_output=True, text=True, timeout=900
        )
        assert result.returncode == 0, result.stderr[-4000:]
        return result

    meltano("init", "--no-usage-stats", "project", cwd=tmp_path)
    project = tmp_path / "project"
    for kind, name in (("extractor", "tap-customerio"), ("loader", "target-parquet-bucket")):
        definition = (
            (DEFINITIONS / f"{name}.yml")
            .read_text()
            .replace("https://github.com/OWNER/REPO", f"file://{tmp_path}/repo")
        )
        (tmp_path / f"{name}.yml").write_text(definition)
        meltano("add", kind, name, "--from-ref", str(tmp_path / f"{name}.yml"), cwd=project)
    sim = make_cio_sim(seed=3, workspace_id=4242)
    bucket = tmp_path / "bucket"

    meltano(
        "run",
        "tap-customerio",
        "target-parquet-bucket",
        cwd=project,
        extra={
            "TAP_CUSTOMERIO_API_URL": sim.base_url,
            "TAP_CUSTOMERIO_APP_API_KEY": sim.api_key,
            "TAP_CUSTOMERIO__SELECT": json.dumps(["campaigns.*"]),
            "TARGET_PARQUET_BUCKET_BUCKET_URL": str(bucket),
            "TARGET_PARQUET_BUCKET_WORKSPACE_ID": "4242",
        },
    )

    assert sorted(path.name for path in bucket.glob("*.parquet")) == ["campaigns_v4_4242_1.parquet"]
