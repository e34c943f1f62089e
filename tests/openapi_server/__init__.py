"""An App API answering from Customer.io's published OpenAPI document instead of from our own simulator.

    from openapi_server import OpenAPIServer
    with OpenAPIServer(SPEC_PATH, identity=("id", "cio_id", "email")) as server:
        server.base_url   # "http://127.0.0.1:<port>/v1"
        server.served     # {"/v1/campaigns": [body, ...], ...}

Every response is built from the document's schemas (`instances.py`); requests are checked against the
operation's parameters and request body (`spec.py`), as the published API describes them.
"""

from .server import OpenAPIServer

__all__ = ["OpenAPIServer"]
