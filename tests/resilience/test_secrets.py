"""No configured secret ever leaves the process: not in logs, errors, `--about`, or any file or object.

The tap runs with a known App API key; the target writes to S3 with a known AWS secret key, to Azure
with a container SAS token, and to GCS with a freshly generated service-account key. Everything the
processes print (at the default log level and at DEBUG, where HTTP libraries log requests), every file
under their working folder and every object they put in the bucket is scanned for each secret, raw,
URL-encoded and JSON-escaped. Failing runs are included, because error messages are where SDKs echo
request URLs and configuration.
"""

from __future__ import annotations

import json
import threading
import typing as t
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from fixtures import bucket_audit
from fixtures.storage_services import service_account_key
from tap.tap_harness import run_tap_process
from target.target_runs import record_message, run_target, schema_message, state_message

from resilience.fault_proxy import FaultProxy
from resilience.pipeline import discover_catalog, plugin_env, write_json

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

APP_API_KEY = "cio-app-key-SECRET-7b1e0c4d9f2a61"
WRONG_APP_API_KEY = "cio-app-key-SECRET-wrong-93d0a1c"
AWS_SECRET = "aws/SECRET+access+key/4c8e1a9d2f7b6e3c0a5d"


@pytest.fixture(params=["INFO", "DEBUG"])
def env(request: pytest.FixtureRequest, workdir: Path) -> dict[str, str]:
    """The plugins' environment at each log level (at DEBUG, HTTP libraries log requests)."""
    return plugin_env(workdir, {"LOGLEVEL": request.param})


@pytest.fixture
def sim(make_cio_sim: t.Callable[..., t.Any]) -> t.Any:
    """A small simulated workspace that accepts only `APP_API_KEY`."""
    return make_cio_sim(seed=8, scale=0.05, api_key=APP_API_KEY, requests_per_second=1000)


def tap_settings(sim: t.Any, **overrides: t.Any) -> dict[str, t.Any]:
    """Tap settings reaching `sim` with the known key."""
    settings = {"app_api_key": APP_API_KEY, "api_url": sim.base_url, "workspace_id": 123456}
    return {**settings, "max_requests_per_second": 1000, **overrides}


def forms(secret: str) -> set[str]:
    """How a secret can show up in text: as is, URL-encoded, JSON-escaped."""
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret), json.dumps(secret)[1:-1]}


class CapturedRun(t.Protocol):
    """A finished plugin process with both of its output streams (a tap's or a target's run)."""

    stdout: str
    stderr: str


class SecretScanner:
    """Collects named secrets and reports where any form of them appears."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.needles = {name: forms(value) for name, value in secrets.items()}
        self.leaks: list[str] = []

    def scan(self, where: str, data: bytes | str) -> None:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        for name, needles in self.needles.items():
            if any(needle in text for needle in needles):
                self.leaks.append(f"{name} in {where}")

    def scan_run(self, what: str, run: CapturedRun) -> None:
        self.scan(f"{what} stdout", run.stdout)
        self.scan(f"{what} stderr", run.stderr)

    def scan_tree(self, root: Path, *, skip: t.Collection[Path] = ()) -> None:
        """Every file under `root` except the config files the test itself wrote."""
        for path in root.rglob("*"):
            if path.is_file() and path not in skip:
                self.scan(f"file {path.relative_to(root)}", path.read_bytes())

    def assert_clean(self) -> None:
        assert not self.leaks, "secrets leaked: " + "; ".join(self.leaks)


ABOUT_FORMATS = ("json", "markdown")


def test_tap_never_reveals_the_api_key(sim: t.Any, workdir: Path, env: dict[str, str]) -> None:
    settings = tap_settings(sim, start_date="2026-01-01T00:00:00Z")
    config = write_json(workdir / "tap_config.json", settings)
    wrong = write_json(workdir / "wrong_key.json", {**settings, "app_api_key": WRONG_APP_API_KEY})
    catalog = discover_catalog(config, workdir, {"campaigns", "customers", "messages"}, env)
    scanner = SecretScanner({"app_api_key": APP_API_KEY, "wrong app_api_key": WRONG_APP_API_KEY})

    outcomes = {
        "sync": run_tap_process("--config", str(config), "--catalog", str(catalog), cwd=workdir, env=env),
        "sync with a rejected key": run_tap_process(
            "--config", str(wrong), "--catalog", str(catalog), cwd=workdir, env=env
        ),
        **{
            f"--about {fmt}": run_tap_process("--about", "--format", fmt, "--config", str(config), cwd=workdir, env=env)
            for fmt in ABOUT_FORMATS
        },
    }

    assert outcomes["sync"].exit_code == 0, outcomes["sync"].last_stderr_line
    assert outcomes["sync with a rejected key"].exit_code != 0
    for what, outcome in outcomes.items():
        scanner.scan_run(what, outcome)
    scanner.scan_tree(workdir, skip={config, wrong})
    scanner.assert_clean()


class TokenServer:
    """Google's OAuth token endpoint, as far as a service-account key needs it: every JWT gets a token."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # BaseHTTPRequestHandler API
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps({"access_token": "emulator-token", "expires_in": 3600, "token_type": "Bearer"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: t.Any) -> None:
                """Quiet."""

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"


class Bucket(t.NamedTuple):
    settings: dict[str, t.Any]
    broken_settings: dict[str, t.Any]  # same secrets, a destination that does not exist
    secrets: dict[str, str]
    objects: bucket_audit.BucketView  # read with the service's own client


@pytest.fixture(params=["s3", "azure", "gcs"])
def bucket(request: pytest.FixtureRequest) -> Iterator[Bucket]:
    """A fresh bucket on each backend, reached with known secret credentials."""
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_service")
        name, client = s3.create_bucket(), s3.client()
        settings = {
            "bucket_url": f"s3://{name}/sync",
            "s3_endpoint_url": s3.endpoint_url,
            "s3_region": s3.region,
            "aws_access_key_id": "AKIAEXAMPLEKEYID",
            "aws_secret_access_key": AWS_SECRET,
        }
        yield Bucket(
            settings,
            {**settings, "bucket_url": "s3://no-such-bucket-here/sync"},
            {"aws_secret_access_key": AWS_SECRET},
            bucket_audit.S3Prefix(client, name, ""),
        )
    elif request.param == "azure":
        azurite = request.getfixturevalue("azurite_service")
        name = azurite.create_container()
        sas_url = azurite.container_sas_url(name)
        signature = urllib.parse.parse_qs(urllib.parse.urlsplit(sas_url).query)["sig"][0]
        container = azurite.service_client().get_container_client(name)
        missing = sas_url.replace(f"/{name}?", "/no-such-container?")
        yield Bucket(
            {"bucket_url": f"azure://{name}/sync", "azure_sas_url": sas_url},
            {"bucket_url": "azure://no-such-container/sync", "azure_sas_url": missing},
            {"SAS signature": signature, "Azurite account key": azurite.account_key},
            bucket_audit.AzurePrefix(container, ""),
        )
    else:
        gcs = request.getfixturevalue("gcs_service")
        name = gcs.create_bucket()
        tokens = TokenServer()
        key = service_account_key(tokens.url)
        key_body = max(key["private_key"].splitlines(), key=len)
        settings = {
            "bucket_url": f"gs://{name}/sync",
            "gcs_endpoint_url": gcs.endpoint_url,
            "gcs_service_account_json": json.dumps(key),
            "gcs_project": "test-project",
        }
        yield Bucket(
            settings,
            {**settings, "bucket_url": "gs://no-such-bucket-here/sync", "gcs_retry_timeout_s": 2},
            {"service-account private key": key_body, "service-account key id": key["private_key_id"]},
            bucket_audit.GCSPrefix(gcs.client().bucket(name), ""),
        )
        tokens.server.shutdown()


SINGER_INPUT = [
    schema_message("people", {"id": {"type": "integer"}, "email": {"type": "string"}}, key_properties=["id"]),
    *(record_message("people", {"id": n, "email": f"p{n}@example.com"}) for n in range(50)),
    state_message({"bookmarks": {"people": {"n": 50}}}),
]


def test_target_never_reveals_bucket_credentials(bucket: Bucket, workdir: Path, env: dict[str, str]) -> None:
    config = {"workspace_id": "123456", **bucket.settings}
    broken = {"workspace_id": "123456", **bucket.broken_settings}
    scanner = SecretScanner(bucket.secrets)

    outcomes = {
        "run": run_target(SINGER_INPUT, config, cwd=workdir, env=env),
        "run against a missing bucket": run_target(SINGER_INPUT, broken, cwd=workdir, env=env),
        **{
            f"--about {fmt}": run_target([], config, cwd=workdir, env=env, args=["--about", "--format", fmt])
            for fmt in ABOUT_FORMATS
        },
    }

    assert outcomes["run"].exit_code == 0, outcomes["run"].last_stderr_line
    assert outcomes["run against a missing bucket"].exit_code != 0
    objects = {key: bucket.objects.read(key) for key in bucket.objects.object_keys()}
    assert any(key.endswith(".parquet") for key in objects), sorted(objects)
    for what, outcome in outcomes.items():
        scanner.scan_run(what, outcome)
    for key, body in objects.items():
        scanner.scan(f"object {key}", body)
    scanner.scan_tree(workdir)
    scanner.assert_clean()


def test_a_tap_key_ending_in_a_carriage_return_is_stripped_and_never_shown(
    sim: t.Any, workdir: Path, env: dict[str, str]
) -> None:
    crlf = tap_settings(sim, app_api_key=APP_API_KEY + "\r")  # as read from a `.env` file saved with CRLF line ends
    config = write_json(workdir / "tap_config.json", crlf)
    scanner = SecretScanner({"app_api_key": APP_API_KEY})

    discovery = run_tap_process("--config", str(config), "--discover", cwd=workdir, env=env)
    catalog = discover_catalog(config, workdir, {"campaigns"}, env)
    sync = run_tap_process("--config", str(config), "--catalog", str(catalog), cwd=workdir, env=env)

    assert discovery.exit_code == 0, discovery.last_stderr_line
    assert sync.exit_code == 0, sync.last_stderr_line
    assert '"stream":"campaigns"' in sync.stdout.replace(" ", "")
    scanner.scan_run("discovery", discovery)
    scanner.scan_run("sync", sync)
    scanner.scan_tree(workdir, skip={config})
    scanner.assert_clean()


def test_an_api_error_quoting_the_key_or_a_bearer_token_is_scrubbed_from_every_line(
    sim: t.Any, workdir: Path, env: dict[str, str]
) -> None:
    other_token = "other-SECRET-token-55aa"
    echo = {
        "errors": [
            {
                "detail": f"key {APP_API_KEY} may not read this; got 'Authorization: Bearer {APP_API_KEY}' "
                f"and Bearer {other_token}"
            }
        ]
    }
    proxy = FaultProxy(sim.base_url).start()
    proxy.override(r"^/v1/campaigns", 400, json.dumps(echo).encode())
    settings = tap_settings(sim)
    catalog = discover_catalog(write_json(workdir / "discover.json", settings), workdir, {"campaigns", "topics"}, env)
    config = write_json(workdir / "tap_config.json", {**settings, "api_url": proxy.url + "/v1"})
    try:
        outcome = run_tap_process("--config", str(config), "--catalog", str(catalog), cwd=workdir, env=env)
    finally:
        proxy.stop()
    scanner = SecretScanner({"app_api_key": APP_API_KEY, "a bearer token from the API": other_token})

    assert outcome.exit_code != 0
    assert "400" in outcome.last_stderr_line and "may not read this" in outcome.last_stderr_line
    scanner.scan_run("sync", outcome)
    scanner.scan_tree(workdir, skip={config, workdir / "discover.json"})
    scanner.assert_clean()
