"""An App API answering from Customer.io's published OpenAPI document instead of from our own simulator.

    from openapi_server import SPEC, OpenAPIServer
    with OpenAPIServer(SPEC, identity=("id", "cio_id", "email")) as server:
        server.base_url   # "http://127.0.0.1:<port>/v1"
        server.log        # every request with its status and the body sent back

Every response is built from the document's schemas (`instances.py`); requests are checked against the
operation's parameters and request body (`spec.py`), as the published API describes them.

`journeys-app-api.json.gz` is Customer.io's "Journeys App API" OpenAPI 3.0 document (the 2025-07 copy
of the project's reference material, `customerio-openapi/journeys-app-api.json`; its research notes trace
it to `specs/cio_journeys_app_api.json` in the public repository `shawndeggans/customer_io_notebooks`),
gzipped, otherwise unchanged.
"""

from pathlib import Path

from .server import OpenAPIServer

SPEC = Path(__file__).with_name("journeys-app-api.json.gz")

__all__ = ["SPEC", "OpenAPIServer"]
