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

from resilience.fault_proxy import FaultProxy
from resilience.outcome import Outcome, run_plugin
from resilience.pipeline import TAP, TARGET, discover_catalog, plugin_env, write_json

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

APP_API_KEY = "cio-app-key-SECRET-7b1e0c4d9f2a61"
WRONG_APP_API_KEY = "cio-app-key-SECRET-wrong-93d0a1c"
AWS_SECRET = "aws/SECRET+access+key/4c8e1a9d2f7b6e3c0a5d"
LOG_LEVELS = ["INFO", "DEBUG"]


def forms(secret: str) -> set[str]:
    """How a secret can show up in text: as is, URL-encoded, JSON-escaped."""
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret), json.dumps(secret)[1:-1]}


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

    def scan_outcome(self, what: str, outcome: Outcome) -> None:
        self.scan(f"{what} stdout", outcome.stdout)
        self.scan(f"{what} stderr", outcome.stderr)

    def scan_tree(self, root: Path, *, skip: t.Collection[Path] = ()) -> None:
        """Every file under `root` except the config files the test itself wrote."""
        for path in root.rglob("*"):
            if path.is_file() and path not in skip:
                self.scan(f"file {path.relative_to(root)}", path.read_bytes())

    def assert_clean(self) -> None:
        assert not self.leaks, "secrets leaked: " + "; ".join(self.leaks)


def about_outcomes(executable: Path, config: Path, workdir: Path, env: dict[str, str]) -> dict[str, Outcome]:
    return {
        f"--about {fmt}": run_plugin(
            executable, ["--about", "--format", fmt, "--config", str(config)], cwd=workdir, env=env
        )
        for fmt in ("json", "markdown")
    }


@pytest.mark.parametrize("log_level", LOG_LEVELS)
def test_tap_never_reveals_the_api_key(make_cio_sim: t.Callable[..., t.Any], workdir: Path, log_level: str) -> None:
    sim = make_cio_sim(seed=8, scale=0.05, api_key=APP_API_KEY, requests_per_second=1000)
    env = plugin_env(workdir, {"LOGLEVEL": log_level})
    settings = {
        "app_api_key": APP_API_KEY,
        "api_url": sim.base_url,
        "workspace_id": 123456,
        "start_date": "2026-01-01T00:00:00Z",
        "max_requests_per_second": 1000,
    }
    config = write_json(workdir / "tap_config.json", settings)
    wrong = write_json(workdir / "wrong_key.json", {**settings, "app_api_key": WRONG_APP_API_KEY})
    catalog = discover_catalog(config, workdir, {"campaigns", "customers", "messages"}, env)
    scanner = SecretScanner({"app_api_key": APP_API_KEY, "wrong app_api_key": WRONG_APP_API_KEY})

    outcomes = {
        "sync": run_plugin(TAP, ["--config", str(config), "--catalog", str(catalog)], cwd=workdir, env=env),
        "sync with a rejected key": run_plugin(
            TAP, ["--config", str(wrong), "--catalog", str(catalog)], cwd=workdir, env=env
        ),
        **about_outcomes(TAP, config, workdir, env),
    }

    assert outcomes["sync"].returncode == 0, outcomes["sync"].last_stderr_line
    assert outcomes["sync with a rejected key"].returncode != 0
    for what, outcome in outcomes.items():
        scanner.scan_outcome(what, outcome)
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


def service_account_key(token_uri: str) -> dict[str, str]:
    """A real, freshly generated RSA service-account key (so google-auth signs with it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "5ecre7" + "0" * 34,
        "private_key": pem,
        "client_email": "sync@test-project.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }


class Bucket(t.NamedTuple):
    settings: dict[str, t.Any]
    broken_settings: dict[str, t.Any]  # same secrets, a destination that does not exist
    secrets: dict[str, str]
    objects: t.Callable[[], dict[str, bytes]]


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

        def objects() -> dict[str, bytes]:
            return {
                o["Key"]: client.get_object(Bucket=name, Key=o["Key"])["Body"].read()
                for o in client.list_objects_v2(Bucket=name).get("Contents", [])
            }

        yield Bucket(
            settings,
            {**settings, "bucket_url": "s3://no-such-bucket-here/sync"},
            {"aws_secret_access_key": AWS_SECRET},
            objects,
        )
    elif request.param == "azure":
        azurite = request.getfixturevalue("azurite_service")
        name = azurite.create_container()
        sas_url = azurite.container_sas_url(name)
        signature = urllib.parse.parse_qs(urllib.parse.urlsplit(sas_url).query)["sig"][0]
        container = azurite.service_client().get_container_client(name)

        def objects() -> dict[str, bytes]:
            return {b.name: container.download_blob(b.name).readall() for b in container.list_blobs()}

        missing = sas_url.replace(f"/{name}?", "/no-such-container?")
        yield Bucket(
            {"bucket_url": f"azure://{name}/sync", "azure_sas_url": sas_url},
            {"bucket_url": "azure://no-such-container/sync", "azure_sas_url": missing},
            {"SAS signature": signature, "Azurite account key": azurite.account_key},
            objects,
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
        bucket_handle = gcs.client().bucket(name)

        def objects() -> dict[str, bytes]:
            return {b.name: b.download_as_bytes() for b in bucket_handle.list_blobs()}

        yield Bucket(
            settings,
            {**settings, "bucket_url": "gs://no-such-bucket-here/sync", "gcs_retry_timeout_s": 2},
            {"service-account private key": key_body, "service-account key id": key["private_key_id"]},
            objects,
        )
        tokens.server.shutdown()


SINGER_INPUT = b"".join(
    json.dumps(m).encode() + b"\n"
    for m in [
        {
            "type": "SCHEMA",
            "stream": "people",
            "key_properties": ["id"],
            "schema": {"type": "object", "properties": {"id": {"type": "integer"}, "email": {"type": "string"}}},
        },
        *({"type": "RECORD", "stream": "people", "record": {"id": n, "email": f"p{n}@example.com"}} for n in range(50)),
        {"type": "STATE", "value": {"bookmarks": {"people": {"n": 50}}}},
    ]
)


@pytest.mark.parametrize("log_level", LOG_LEVELS)
def test_target_never_reveals_bucket_credentials(bucket: Bucket, workdir: Path, log_level: str) -> None:
    env = plugin_env(workdir, {"LOGLEVEL": log_level})
    config = write_json(workdir / "target_config.json", {"workspace_id": "123456", **bucket.settings})
    broken = write_json(workdir / "broken_config.json", {"workspace_id": "123456", **bucket.broken_settings})
    scanner = SecretScanner(bucket.secrets)

    outcomes = {
        "run": run_plugin(TARGET, ["--config", str(config)], cwd=workdir, env=env, stdin=SINGER_INPUT),
        "run against a missing bucket": run_plugin(
            TARGET, ["--config", str(broken)], cwd=workdir, env=env, stdin=SINGER_INPUT
        ),
        **about_outcomes(TARGET, config, workdir, env),
    }

    assert outcomes["run"].returncode == 0, outcomes["run"].last_stderr_line
    assert outcomes["run against a missing bucket"].returncode != 0
    objects = bucket.objects()
    assert any(key.endswith(".parquet") for key in objects), sorted(objects)
    for what, outcome in outcomes.items():
        scanner.scan_outcome(what, outcome)
    for key, body in objects.items():
        scanner.scan(f"object {key}", body)
    scanner.scan_tree(workdir, skip={config, broken})
    scanner.assert_clean()


@pytest.mark.parametrize("log_level", LOG_LEVELS)
def test_a_tap_key_ending_in_a_carriage_return_is_stripped_and_never_shown(
    make_cio_sim: t.Callable[..., t.Any], workdir: Path, log_level: str
) -> None:
    sim = make_cio_sim(seed=8, scale=0.05, api_key=APP_API_KEY, requests_per_second=1000)
    env = plugin_env(workdir, {"LOGLEVEL": log_level})
    crlf = {
        "app_api_key": APP_API_KEY + "\r",
        "api_url": sim.base_url,
        "workspace_id": 123456,
        "max_requests_per_second": 1000,
    }  # as read from a `.env` file saved with CRLF line ends
    config = write_json(workdir / "tap_config.json", crlf)
    scanner = SecretScanner({"app_api_key": APP_API_KEY})

    discovery = run_plugin(TAP, ["--config", str(config), "--discover"], cwd=workdir, env=env)
    catalog = discover_catalog(config, workdir, {"campaigns"}, env)
    sync = run_plugin(TAP, ["--config", str(config), "--catalog", str(catalog)], cwd=workdir, env=env)

    assert discovery.returncode == 0, discovery.last_stderr_line
    assert sync.returncode == 0, sync.last_stderr_line
    assert '"stream":"campaigns"' in sync.stdout.decode().replace(" ", "")
    scanner.scan_outcome("discovery", discovery)
    scanner.scan_outcome("sync", sync)
    scanner.scan_tree(workdir, skip={config})
    scanner.assert_clean()


@pytest.mark.parametrize("log_level", LOG_LEVELS)
def test_an_api_error_quoting_the_key_or_a_bearer_token_is_scrubbed_from_every_line(
    make_cio_sim: t.Callable[..., t.Any], workdir: Path, log_level: str
) -> None:
    sim = make_cio_sim(seed=8, scale=0.05, api_key=APP_API_KEY, requests_per_second=1000)
    env = plugin_env(workdir, {"LOGLEVEL": log_level})
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
    settings = {
        "app_api_key": APP_API_KEY,
        "api_url": sim.base_url,
        "workspace_id": 123456,
        "max_requests_per_second": 1000,
    }
    catalog = discover_catalog(write_json(workdir / "discover.json", settings), workdir, {"campaigns", "topics"}, env)
    config = write_json(workdir / "tap_config.json", {**settings, "api_url": proxy.url + "/v1"})
    try:
        outcome = run_plugin(TAP, ["--config", str(config), "--catalog", str(catalog)], cwd=workdir, env=env)
    finally:
        proxy.stop()
    scanner = SecretScanner({"app_api_key": APP_API_KEY, "a bearer token from the API": other_token})

    assert outcome.returncode != 0
    assert "400" in outcome.last_stderr_line and "may not read this" in outcome.last_stderr_line
    scanner.scan_outcome("sync", outcome)
    scanner.scan_tree(workdir, skip={config, workdir / "discover.json"})
    scanner.assert_clean()
