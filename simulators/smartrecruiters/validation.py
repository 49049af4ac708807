"""Validation of result patches against SmartRecruiters' published `PackageResult` schema.

The schema is read from the spec extract shipped next to this module, so the simulator rejects
exactly what the published contract forbids, plus the one rule the spec states only in prose
(a score's `raw` lies within `[min, max]`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Iterable

import jsonschema
import yaml

SPEC_FILE = "smartrecruiters-assessment-openapi.yaml"


@cache
def validator(schema_name: str) -> jsonschema.Draft4Validator:
    """A validator for one of the spec's component schemas (also used by contract tests)."""
    spec = yaml.safe_load(resources.files(__package__).joinpath(SPEC_FILE).read_text("utf-8"))
    schemas = dict(spec["components"]["schemas"])
    # The extract's `Attachment` is a merge collision of unrelated SR schemas (it requires
    # `id` and `actions`), so it cannot judge a result's attachments; accept any object.
    schemas["Attachment"] = {"type": "object"}
    # OpenAPI 3.0 schemas are a draft-4 dialect; draft 4 also ignores keywords beside `$ref`,
    # as OpenAPI 3.0 does (AssessmentResult.score carries a stray `type: string` there).
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": {"schemas": schemas}}
    return jsonschema.Draft4Validator(root)


def package_result_errors(patch: Any) -> list[str]:
    """One "<path>: <reason>" message per problem in a result patch; empty if it is valid."""
    schema_errors = sorted(
        validator("PackageResult").iter_errors(patch),
        key=lambda error: list(map(str, error.absolute_path)),
    )
    if schema_errors:
        return [f"{_json_path(e.absolute_path)}: {e.message}" for e in schema_errors]
    return [
        f"{path}: raw {score['raw']} is outside [{score['min']}, {score['max']}]"
        for path, score in _scores(patch)
        if not score["min"] <= score["raw"] <= score["max"]
    ]


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
