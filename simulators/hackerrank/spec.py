"""HackerRank's published Swagger 2.0, read the way its own descriptions mean it.

The response schemas list nearly every property as required, and Swagger 2.0 has no way to say
"or null"; yet the descriptions say that `attempt_starttime` "will be null if candidate has not
attempted the test yet", that a null `invite_valid_to` "indicates that invite is permanently
valid", that `cutoff_score` applies "if set", and many properties document `null` as their
default. So in the response shapes (`*Show`, `*Index`) a property may be null when the file
documents no non-null default for it, its description mentions null, or it starts with "If set,".
A property marked `"additional": true` comes only when asked for in `additional_fields` (the
introduction: additional attributes "will not be the part of the basic response"), so it is not
required. An `enum` placed on an array (`experience`) lists the values of its items, as its default
shows. Everything else is checked as published: types, required properties, enums. Requests are
checked strictly. The simulator refuses requests with it, and the contract tests check both sides
with it.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from importlib import resources
from typing import Any

from simulators.openapi import ApiDescription

SPEC_FILE = "hackerrank-v3-swagger.json"

_MENTIONS_NULL = re.compile(r"\bnull\b|^If set,", re.IGNORECASE)


def published_document() -> dict[str, Any]:
    return json.loads(resources.files("simulators").joinpath(SPEC_FILE).read_text("utf-8"))


def _may_be_null(schema: dict[str, Any]) -> bool:
    return schema.get("default") is None or bool(
        _MENTIONS_NULL.search(schema.get("description", ""))
    )


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:  # siblings of $ref are ignored by JSON Schema draft 4
        return {"anyOf": [{"$ref": schema["$ref"]}, {"type": "null"}]}
    return {**schema, "nullable": True}


def _enums_on_items(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _enums_on_items(item)
    elif isinstance(node, dict):
        if node.get("type") == "array" and "enum" in node and isinstance(node.get("items"), dict):
            node["items"] = {**node["items"], "enum": node.pop("enum")}
        for value in node.values():
            _enums_on_items(value)


def lenient_document() -> dict[str, Any]:
    document = copy.deepcopy(published_document())
    _enums_on_items(document)
    for name, definition in document["definitions"].items():
        if name.endswith(("Show", "Index")):
            properties = definition.get("properties", {})
            opt_in = {key for key, schema in properties.items() if schema.get("additional")}
            if "required" in definition:
                definition["required"] = [
                    key for key in definition["required"] if key not in opt_in
                ]
            for key, schema in properties.items():
                if _may_be_null(schema):
                    properties[key] = _nullable(schema)
    return document


@cache
def hackerrank_api() -> ApiDescription:
    """The description the simulator and the contract tests check against."""
    return ApiDescription(lenient_document())
