"""`python -m cio_simulator` serves on the given port until SIGTERM, printing only its base URL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

TESTS_DIR = Path(__file__).resolve().parents[1]


def test_cli_serves_until_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cio_simulator",
            "--port",
            "0",
            "--seed",
            "1",
            "--api-key",
            "cli-secret",
            "--workspace-id",
            "42",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        response = requests.get(base_url + "/workspaces", headers={"Authorization": "Bearer cli-secret"}, timeout=10)
        assert response.json()["workspaces"][0]["id"] == 42
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert "cli-secret" not in base_url + process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
