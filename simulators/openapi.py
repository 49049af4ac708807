"""Checking JSON bodies against a vendor's published API description (OpenAPI 3 or Swagger 2).

The vendor simulators use it to refuse requests the specification forbids, and the contract
tests use it to check both what our adapters send and what the simulators answer. The vendor
files next to this module are unchanged copies of the published ones, so a few non-standard
spellings are read leniently: HackerRank's path keys carry query strings and its schemas use
the types `dateTime`, `datetime` and `float`; OpenAPI 3.0's `nullable` is honoured.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

# libyaml's parser where PyYAML has it (its wheels do): Checkr's 570 KB description loads in
# 0.13 s instead of 1 s, paid by every start of a simulator that validates against one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """A YAML document's data, read as yaml.safe_load reads it."""
    return yaml.load(text, Loader=_SAFE_LOADER)


# Non-standard type names in the published files, read as the JSON types they mean.
_TYPE_ALIASES = {
    "dateTime": "string",
    "datetime": "string",
    "date": "string",
    "float": "number",
    "int": "integer",
    "long": "integer",
}


class UnknownOperation(LookupError):
    """The specification has no such method and path."""


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: dict[str, Any]


class ApiDescription:
    """One vendor's API description; operations are found by method and concrete path."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = _normalise(document)
        self._swagger2 = "swagger" in document
        self._operations: list[tuple[re.Pattern[str], Operation]] = []
        for key, item in self._document.get("paths", {}).items():
            template = key.split("?", 1)[0]
            if not template.startswith("/"):
                continue  # documentation-only pseudo-paths and absolute URLs
            pattern = re.compile(
                "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "/?$"
            )
            for method, spec in item.items():
                if isinstance(spec, dict) and method in ("get", "post", "put", "patch", "delete"):
                    self._operations.append((pattern, Operation(method, template, spec)))
        # Literal segments win over parameters: /candidates/search before /candidates/{id}.
        self._operations.sort(key=lambda entry: entry[1].template.count("{"))

    @classmethod
    @cache
    def packaged(cls, filename: str) -> ApiDescription:
        """A description shipped in the simulators package (JSON or YAML)."""
        text = resources.files(__package__).joinpath(filename).read_text("utf-8")
        return cls(json.loads(text) if filename.endswith(".json") else load_yaml(text))

    def operation(self, method: str, path: str) -> Operation:
        method = method.lower()
        for pattern, operation in self._operations:
            if operation.method == method and pattern.match(path):
                return operation
        raise UnknownOperation(f"{method.upper()} {path}")

    def request_errors(self, method: str, path: str, body: Any) -> list[str]:
        """Ways a JSON request body breaks the operation's schema; empty if it fits."""
        schema = self._request_schema(self.operation(method, path))
        return [] if schema is None else self._errors(schema, body)

    def response_errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Ways a JSON response body breaks the schema declared for that status;
        empty if it fits."""
        operation = self.operation(method, path)
        responses = operation.spec.get("responses", {})
        response = responses.get(str(status)) or responses.get("default")
        if response is None:
            return [
                f"(status): {status} is not a documented response of {method.upper()} "
                f"{operation.template}"
            ]
        schema = self._response_schema(self._resolve(response))
        return [] if schema is None else self._errors(schema, body)

    def schema_errors(self, name: str, document: Any) -> list[str]:
        """Ways a document breaks one named schema (components.schemas or definitions)."""
        pointer = f"#/definitions/{name}" if self._swagger2 else f"#/components/schemas/{name}"
        return self._errors({"$ref": pointer}, document)

    def _request_schema(self, operation: Operation) -> dict | None:
        if self._swagger2:
            bodies = [p for p in operation.spec.get("parameters", []) if p.get("in") == "body"]
            return bodies[0].get("schema") if bodies else None
        body = operation.spec.get("requestBody")
        if body is None:
            return None
        return self._resolve(body).get("content", {}).get("application/json", {}).get("schema")

    def _response_schema(self, response: dict) -> dict | None:
        if self._swagger2:
            return response.get("schema")
        return response.get("content", {}).get("application/json", {}).get("schema")

    def _resolve(self, node: dict) -> dict:
        while "$ref" in node:
            target: Any = self._document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _errors(self, schema: dict, document: Any) -> list[str]:
        # OpenAPI 3.0 and Swagger 2.0 schemas are a draft-4 dialect; refs resolve in the document.
        root = {
            **schema,
            "definitions": self._document.get("definitions", {}),
            "components": self._document.get("components", {}),
        }
        validator = jsonschema.Draft4Validator(root)
        errors = sorted(
            validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))
        )
        return [f"{_json_path(e.absolute_path)}: {e.message}" for e in errors]


def _normalise(node: Any) -> Any:
    """Read the files' non-standard spellings and OpenAPI's
    `nullable` as JSON Schema understands them."""
    if isinstance(node, list):
        return [_normalise(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _normalise(value) for key, value in node.items()}
    if isinstance(node.get("required"), bool):
        del node["required"]  # HackerRank marks required properties Swagger-parameter style
    kind = node.get("type")
    if isinstance(kind, str) and kind in _TYPE_ALIASES:
        node["type"] = _TYPE_ALIASES[kind]
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
    return node


def _json_path(parts) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".") or "(body)"
