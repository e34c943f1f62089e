"""Reading the OpenAPI document: `$ref` resolution, `allOf` merging, operations by request path, and the
checks of a request against the operation's parameters and body."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

Schema = dict[str, Any]


class RequestRejected(Exception):
    """The request breaks the operation's parameters or body: the API's 400."""


def resolve(schema: Any, root: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`schema` with every `$ref` replaced by its target (recursively; a reference cycle stops at an empty
    schema), and `nullable` kept as the OpenAPI flag it is."""
    if isinstance(schema, list):
        return [resolve(item, root, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:
            return {}
        target: Any = root
        for part in ref.lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return resolve(target, root, (*seen, ref))
    return {key: resolve(value, root, seen) for key, value in schema.items()}


def merged(schema: Schema) -> Schema:
    """An `allOf` folded into one object schema (properties and `required` united), recursively."""
    if "allOf" not in schema:
        return schema
    result: Schema = {key: value for key, value in schema.items() if key != "allOf"}
    for part in (merged(p) for p in schema["allOf"]):
        for key, value in part.items():
            if key == "properties":
                result["properties"] = {**result.get("properties", {}), **value}
            elif key == "required":
                result["required"] = sorted({*result.get("required", []), *value})
            else:
                result.setdefault(key, value)
    return result


def as_json_schema(schema: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable: true` becomes a `null` alternative, and `oneOf`
    becomes `anyOf` (the document's `oneOf` branches require nothing, so any object matches several)."""
    if isinstance(schema, list):
        return [as_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {
        "anyOf" if key == "oneOf" else key: as_json_schema(value)
        for key, value in schema.items()
        if key not in ("nullable", "example", "format")
    }
    if schema.get("nullable") and isinstance(schema.get("type"), str):
        converted["type"] = [schema["type"], "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
    return converted


@dataclass
class Operation:
    """One `paths` entry for one method: its parameters, request body schema and 200 response schema."""

    method: str
    template: str
    parameters: list[dict[str, Any]]
    body: Schema | None
    response: Schema

    def check(self, path_params: dict[str, str], query: dict[str, str], body: Any) -> None:
        """Raise `RequestRejected` for a missing required parameter, a value outside the parameter's schema
        (type, enum, maximum) or a body the request schema does not allow. Parameters the document does not
        list are ignored, as the API ignores them."""
        for parameter in self.parameters:
            given = (path_params if parameter["in"] == "path" else query).get(parameter["name"])
            if given is None:
                if parameter.get("required") and parameter["in"] in ("path", "query"):
                    raise RequestRejected(f"{parameter['name']} is required")
                continue
            schema = as_json_schema(parameter.get("schema", {}))
            error = next(Draft7Validator(schema).iter_errors(typed(given, schema)), None)
            if error is not None:
                raise RequestRejected(f"{parameter['name']}: {error.message[:200]}")
        if self.body is not None:
            error = next(Draft7Validator(as_json_schema(self.body)).iter_errors(body), None)
            if error is not None:
                raise RequestRejected(
                    f"request body {error.json_path} breaks {error.validator} {json.dumps(error.validator_value)[:100]}"
                )


def typed(raw: str, schema: Schema) -> Any:
    """A query or path string as the type its schema declares (left as text when it is not one)."""
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "integer" and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


class Spec:
    """The operations of an OpenAPI document, found by method and concrete request path."""

    def __init__(self, path: Path) -> None:
        root = json.loads(gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_text())
        self.operations: list[tuple[re.Pattern[str], Operation]] = []
        for template, item in root["paths"].items():
            shared = item.get("parameters", [])
            for method, operation in item.items():
                if method not in ("get", "post") or "200" not in operation.get("responses", {}):
                    continue
                content = operation["responses"]["200"].get("content", {}).get("application/json", {})
                body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                self.operations.append(
                    (
                        re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"),
                        Operation(
                            method.upper(),
                            template,
                            resolve([*shared, *operation.get("parameters", [])], root),
                            resolve(body["schema"], root) if "schema" in body else None,
                            resolve(content.get("schema", {}), root),
                        ),
                    )
                )
        # Literal segments win over parameters (`/v1/customers/attributes` is not `/v1/customers/{id}`).
        self.operations.sort(key=lambda entry: entry[1].template.count("{"))

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation answering `method path`, with the path parameters, or None."""
        for pattern, operation in self.operations:
            match = pattern.match(path)
            if match and operation.method == method:
                return operation, match.groupdict()
        return None
