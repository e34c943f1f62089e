"""The OpenAPI server answers in every shape the document allows and refuses what the document forbids."""

from __future__ import annotations

import json

import pytest
import requests

from openapi_server import SPEC, OpenAPIServer
from openapi_server.instances import Generator
from openapi_server.spec import Spec

AUTH = {"Authorization": "Bearer any-key"}


@pytest.fixture(scope="module")
def server():
    with OpenAPIServer(SPEC, identity=("id", "cio_id", "email")) as running:
        yield running


def get(server: OpenAPIServer, path: str, **params) -> requests.Response:
    return requests.get(server.base_url + path, params=params, headers=AUTH, timeout=10)


def test_every_enum_value_of_a_record_occurs_in_the_list(server) -> None:
    activities = get(server, "/activities").json()["activities"]
    found = Spec(SPEC).find("GET", "/v1/activities")
    assert found is not None, "the spec has GET /v1/activities"
    enum = found[0].response["properties"]["activities"]["items"]["properties"]["type"]["enum"]

    assert {a.get("type") for a in activities} >= set(enum)
    assert len(enum) == 107


def test_every_one_of_branch_the_example_an_all_absent_and_an_all_null_record_are_served(server) -> None:
    campaigns = get(server, "/campaigns").json()["campaigns"]
    broadcasts = get(server, "/broadcasts").json()["broadcasts"]
    segments = get(server, "/segments").json()["segments"]

    assert {c.get("type") for c in campaigns} >= {
        "segment",
        "event",
        "form",
        "date",
        "relationship",
        "object",
        "webhook",
    }
    assert broadcasts[0]["tags"] == "nil" and broadcasts[0]["created_by"] == "ExamplePerson"  # the example
    assert any(set(c) == {"id"} for c in campaigns)  # every optional property absent
    assert any(s["progress"] is None and s["tags"] is None for s in segments)  # nullable properties null
    assert len({c["id"] for c in campaigns}) == len(campaigns)  # each one its own record


def test_lists_end_their_pagination(server) -> None:
    assert get(server, "/newsletters").json()["next"] == ""


def test_requests_outside_the_documents_parameters_are_refused(server) -> None:
    assert get(server, "/esp/suppression/blocks").status_code == 400  # path enum: bounces|spam_reports
    assert get(server, "/campaigns/3/metrics", res="days").status_code == 400  # `version` is required
    assert get(server, "/campaigns/3/metrics", version="2", res="days", tz="America/New_York").status_code == 200
    too_many = requests.post(
        server.base_url + "/customers/attributes", headers=AUTH, timeout=10, json={"ids": [str(i) for i in range(101)]}
    )
    assert too_many.status_code == 400 and "ids" in json.dumps(too_many.json())
    assert requests.get(server.base_url + "/campaigns", timeout=10).status_code == 401


def test_examples_that_contradict_their_own_type_give_way_to_a_value_of_that_type() -> None:
    found = Spec(SPEC).find("GET", "/v1/workspaces")
    assert found is not None, "the spec has GET /v1/workspaces"
    workspace = found[0].response["properties"]["workspaces"]["items"]

    assert workspace["properties"]["id"]["example"] == "13XXXX"
    assert isinstance(Generator().value(workspace)["id"], int)


def test_references_are_resolved_and_all_of_parts_merged() -> None:
    from openapi_server.spec import merged, resolve

    root = {
        "components": {
            "schemas": {
                "Id": {"type": "integer", "example": 4},
                "Named": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
                "Loop": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Loop"}}},
            }
        }
    }
    schema = resolve(
        {
            "allOf": [
                {"$ref": "#/components/schemas/Named"},
                {"properties": {"id": {"$ref": "#/components/schemas/Id"}}, "required": ["id"]},
            ]
        },
        root,
    )

    assert merged(schema) == {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"name": {"type": "string"}, "id": {"type": "integer", "example": 4}},
    }
    assert Generator().value(schema, "minimal") == {"name": "text", "id": 4}
    assert resolve({"$ref": "#/components/schemas/Loop"}, root)["properties"]["next"] == {}  # a cycle stops
