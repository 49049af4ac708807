"""Validation of request bodies against SmartRecruiters' published schemas.

The schemas are read from the spec extract shipped next to this module, so the simulator rejects
exactly what the published contract forbids, plus the few rules the spec states only in prose or
that SR needs to use what it stores (a score's `raw` lies within `[min, max]`; the assessment
types a partner supports are distinct; the partner's URLs are absolute http(s) URLs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from simulators.openapi import load_yaml

SPEC_FILE = "smartrecruiters-assessment-openapi.yaml"


@cache
def _component_schemas() -> dict[str, Any]:
    spec = load_yaml(resources.files(__package__).joinpath(SPEC_FILE).read_text("utf-8"))
    schemas = dict(spec["components"]["schemas"])
    # The extract's `Attachment` is a merge collision of unrelated SR schemas (it requires
    # `id` and `actions`), so it cannot judge a result's attachments; accept any object.
    schemas["Attachment"] = {"type": "object"}
    return schemas


# RFC 3339 `date-time`: a full date, a time, and an offset (Z or ±hh:mm), which is required.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the `type` keyword judges other values
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.upper())  # a real date and time
    return True


@cache
def validator(schema_name: str) -> jsonschema.Draft4Validator:
    """A validator for one of the spec's component schemas (also used by contract tests)."""
    # OpenAPI 3.0 schemas are a draft-4 dialect; draft 4 also ignores keywords beside `$ref`,
    # as OpenAPI 3.0 does (AssessmentResult.score carries a stray `type: string` there).
    root = {
        "$ref": f"#/components/schemas/{schema_name}",
        "components": {"schemas": _component_schemas()},
    }
    return jsonschema.Draft4Validator(root, format_checker=FORMATS)


def schema_properties(schema_name: str) -> dict[str, Any]:
    """The properties a component schema declares, by name."""
    return _component_schemas()[schema_name].get("properties", {})


def schema_errors(schema_name: str, document: Any) -> list[str]:
    """One "<path>: <reason>" message per way `document` breaks the schema; empty if it fits."""
    errors = sorted(
        validator(schema_name).iter_errors(document),
        key=lambda error: list(map(str, error.absolute_path)),
    )
    return [f"{_json_path(e.absolute_path)}: {e.message}" for e in errors]


def package_result_errors(patch: Any) -> list[str]:
    """One "<path>: <reason>" message per problem in a result patch; empty if it is valid.

    A `null` member of an object removes that member (RFC 7396, which the spec cites), so it is
    valid wherever the member is; everything else is checked as the schema says.
    """
    present = _without_removals(patch)
    return schema_errors("PackageResult", present) or [
        f"{path}: raw {score['raw']} is outside [{score['min']}, {score['max']}]"
        for path, score in _scores(present)
        if not score["min"] <= score["raw"] <= score["max"]
    ]


def _without_removals(patch: Any) -> Any:
    """The patch without its null members (at any depth of objects; an array is a value, whose
    nulls stay and are judged by the schema)."""
    if not isinstance(patch, dict):
        return patch
    return {name: _without_removals(value) for name, value in patch.items() if value is not None}


def partner_configuration_errors(configuration: Any) -> list[str]:
    """Problems in a `PartnerConfigurationRequest`; empty if SR can store and use it."""
    errors = schema_errors("PartnerConfigurationRequest", configuration)
    if errors:
        return errors
    url_fields = [
        name
        for name, schema in schema_properties("PartnerConfigurationRequest").items()
        if schema.get("format") == "uri" and name in configuration
    ]
    errors = [
        f"{name}: {configuration[name]!r} is not an absolute http(s) URL"
        for name in url_fields
        if not _is_absolute_web_url(configuration[name])
    ]
    types = configuration["supportedAssessmentTypes"]
    if len(set(types)) != len(types):
        errors.append(f"supportedAssessmentTypes: {types!r} has repeated values")
    return errors


def _is_absolute_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _scores(result: dict[str, Any]) -> Iterable[tuple[str, dict[str, int]]]:
    if "score" in result:
        yield "score", result["score"]
    for index, assessment in enumerate(result.get("assessmentResults", [])):
        if "score" in assessment:
            yield f"assessmentResults[{index}].score", assessment["score"]


def _json_path(parts: Iterable[str | int]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".") or "(body)"
