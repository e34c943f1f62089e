"""Servers the benchmarks talk to, as plain context managers (the test fixtures are pytest-only).

moto runs in server mode exactly as `tests/fixtures/storage_services.py` starts it; the Customer.io
simulator is the one in `tests/cio_simulator`, imported the way `scripts/demo.py` does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import typing as t
import uuid
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Iterator

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class S3Endpoint:
    """A running moto S3 server with one empty bucket; moto accepts any credentials."""

    endpoint_url: str
    bucket: str
    region: str = "us-east-1"
    access_key_id: str = "moto-access-key-id"
    secret_access_key: str = "moto-secret-access-key"  # not a secret, moto takes anything

    def target_settings(self, prefix: str) -> dict[str, str]:
        """The target's settings for writing under `s3://<bucket>/<prefix>` on this server."""
        return {
            "bucket_url": f"s3://{self.bucket}/{prefix}",
            "s3_endpoint_url": self.endpoint_url,
            "s3_region": self.region,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
        }

    def client(self):  # boto3 clients are dynamically typed
        """A boto3 client for inspecting what the target wrote."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )


@contextlib.contextmanager
def moto_s3() -> Iterator[S3Endpoint]:
    """moto's threaded server on a free loopback port, with a fresh bucket."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = S3Endpoint(endpoint_url=f"http://{host}:{port}", bucket=f"bench-{uuid.uuid4().hex[:12]}")
        endpoint.client().create_bucket(Bucket=endpoint.bucket)
        yield endpoint
    finally:
        server.stop()


def simulator_class() -> type:
    """The Customer.io App API simulator class from `tests/cio_simulator`."""
    tests_dir = str(REPO_ROOT / "tests")
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)
    from cio_simulator import Simulator

    return Simulator


@contextlib.contextmanager
def simulator(**kwargs: t.Any) -> Iterator[t.Any]:
    """A started simulator (`Simulator(**kwargs)`), stopped on exit."""
    sim = simulator_class()(**kwargs)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()
