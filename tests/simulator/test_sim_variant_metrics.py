"""The simulator serves a newsletter variant's metrics and link metrics as the published spec shapes them."""

from __future__ import annotations

from cio_simulator import Simulator
from jsonschema import Draft7Validator
from openapi_server import SPEC
from openapi_server.spec import Spec, as_json_schema, merged
from simulator.sim_api import Api

VARIANT_PATHS = (
    "/newsletters/{newsletter_id}/contents/{content_id}/metrics",
    "/newsletters/{newsletter_id}/contents/{content_id}/metrics/links",
)


def test_every_variant_answers_both_endpoints_within_the_spec_with_the_series_it_documents(make_cio_sim) -> None:
    sim: Simulator = make_cio_sim(scale=0.2)
    api, spec = Api(sim), Spec(SPEC)
    variants = [(nid, c["id"]) for nid, contents in sim.data.newsletter_contents.items() for c in contents]
    assert variants

    for template in VARIANT_PATHS:
        for newsletter_id, content_id in variants:
            path = template.format(newsletter_id=newsletter_id, content_id=content_id)
            found = spec.find("GET", f"/v1{path}")
            assert found is not None, path
            operation, path_params = found
            query = {"period": "days", "steps": 4}
            operation.check(path_params, {k: str(v) for k, v in query.items()}, None)
            body = api.ok(path, **query)
            assert list(Draft7Validator(as_json_schema(operation.response)).iter_errors(body)) == [], path
            if path.endswith("/links"):
                assert body["links"], path
                assert all(set(item["metric"]["series"]) == {"clicked"} for item in body["links"]), path
                series = [values for item in body["links"] for values in item["metric"]["series"].values()]
            else:
                documented = merged(operation.response["properties"]["metric"]["properties"]["series"])["properties"]
                assert set(body["metric"]["series"]) <= set(documented), path
                series = list(body["metric"]["series"].values())
            assert {len(values) for values in series} == {4}, path


def test_a_content_id_of_another_newsletter_is_a_404(make_cio_sim) -> None:
    sim: Simulator = make_cio_sim(scale=0.2)
    (first, first_contents), (second, _) = list(sim.data.newsletter_contents.items())[:2]
    api = Api(sim)

    assert api.get(f"/newsletters/{first}/contents/{first_contents[0]['id']}/metrics/links").status_code == 200
    assert api.get(f"/newsletters/{second}/contents/{first_contents[0]['id']}/metrics/links").status_code == 404
    assert api.get(f"/newsletters/{second}/contents/{first_contents[0]['id']}/metrics").status_code == 404
