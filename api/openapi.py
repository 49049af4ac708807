"""Our OpenAPI document as the API really answers: every error in our ErrorResponse shape
(api/errors.py), never FastAPI's default 422 `HTTPValidationError`.

Routes declare the refusals only they make (`refusals(404, 409, …)`); the ones that follow from
how a route is built are added here, so they cannot be forgotten: 400 wherever a parameter or a
body is validated (FastAPI would say 422), 401 and 403 behind SR's bearer token, 401 and 503
behind the admin key, 408 and 413 for a body, 429 at the rate-limited routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from api.deps import admin_actor, changes, smartrecruiters_caller
from api.limits import guarded_bucket


class ErrorDetail(BaseModel):
    code: str = Field(description="What went wrong, e.g. INVALID_FIELD, HTTP_404, UNAVAILABLE")
    message: str
    # Only for an invalid field; left out otherwise (never null).
    field: str | SkipJsonSchema[None] = Field(
        None, description="The invalid field, dotted (e.g. candidate.email)"
    )


class ErrorResponse(BaseModel):
    """Every refusal (SmartRecruiters' ErrorResponse shape); never echoes the request's values."""

    message: str
    errors: list[ErrorDetail]


RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "The authentication scheme expected",
        "schema": {"type": "string"},
    }
}

DESCRIPTIONS = {
    400: "Invalid request: `errors[]` names each invalid field (never its value)",
    401: "No valid credentials",
    403: "The credentials do not speak for this company, or the company has disconnected",
    404: "Not found",
    408: "The request body did not arrive in time",
    409: "Conflict",
    413: "The request body is larger than this service accepts",
    415: "The body is not of a type this route takes",
    422: "The request was understood but cannot be carried out",
    429: "Too many requests; retry after Retry-After seconds",
    502: (
        "A vendor refused the request, or its account is misconfigured; the provider has been told"
    ),
    503: "Temporarily unavailable; retry after Retry-After seconds",
}
HEADERS = {401: WWW_AUTHENTICATE, 429: RETRY_AFTER, 503: RETRY_AFTER}


def refusal(status: int, description: str | None = None) -> dict[str, Any]:
    """One error answer in our shape, as FastAPI's `responses=` takes it."""
    answer: dict[str, Any] = {
        "model": ErrorResponse,
        "description": description or DESCRIPTIONS[status],
    }
    if status in HEADERS:
        answer["headers"] = HEADERS[status]
    return answer


def refusals(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """The error answers of a route; `descriptions` override the default ones, keyed `_404`."""
    return {status: refusal(status, descriptions.get(f"_{status}")) for status in statuses}


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for dependency in dependant.dependencies:
        yield from _dependants(dependency)


def _depends_on(dependant: Dependant, call: Any) -> bool:
    return any(each.call is call for each in _dependants(dependant))


def _has_body(route: Any) -> bool:
    return route.body_field is not None or any(
        each.body_params for each in _dependants(route.dependant)
    )


def _validated(route: Any) -> bool:
    """Whether FastAPI checks a parameter or a body of the route (a failure answers 400)."""
    return _has_body(route) or bool(get_flat_params(route.dependant))


def _implied(route: Any, method: str, validated: bool) -> dict[int, dict[str, Any]]:
    """The refusals that follow from how the route is built (see the module's docstring)."""
    statuses: dict[int, str | None] = {}
    if validated:
        statuses[400] = None
    if _depends_on(route.dependant, smartrecruiters_caller):
        statuses |= {
            401: "No bearer token from POST /oauth/token, or one that is invalid or expired",
            403: None,
        }
    if _depends_on(route.dependant, admin_actor):
        statuses |= {
            401: "No valid admin API key as a bearer token",
            503: "The admin API is turned off (no admin key is set)",
        }
        if changes(method, route.path):
            statuses[403] = "The operator's role is viewer: they read, but change nothing"
    if _has_body(route):
        statuses |= {408: None, 413: None}
    if guarded_bucket(method, route.path) is not None:
        statuses[429] = None
    return {status: refusal(status, description) for status, description in statuses.items()}


def _schema(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer of `refusal()` as it stands in the document."""
    documented = {key: value for key, value in answer.items() if key != "model"}
    documented["content"] = {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
    }
    return documented


def _page(answer: dict[str, Any], status: int) -> dict[str, Any]:
    """The same refusal on a page of ours: an HTML page that says what went wrong. A 400 may also
    come from api/limits.py before the page runs (a NUL in the path or query), in JSON."""
    documented = _schema(answer)
    html = {"text/html": {"schema": {"type": "string"}}}
    if status == 400:
        documented["description"] = (
            "The link or the form is not valid: a page that says why (JSON for a NUL in "
            "the path or query)"
        )
        documented["content"] = html | documented["content"]
    else:
        documented["content"] = html
    return documented


def truthful_document(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.setdefault(
        "ErrorResponse",
        ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}"),
    )
    schemas.setdefault("ErrorDetail", ErrorDetail.model_json_schema())
    schemas["ErrorResponse"].pop("$defs", None)
    # Routes as the document sees them (an included router's routes with its prefix and
    # dependencies), as FastAPI's get_openapi walks them.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = document["paths"][route.path_format][method.lower()]
            responses = operation["responses"]
            default = (
                responses.get("422", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            if default == {"$ref": "#/components/schemas/HTTPValidationError"}:
                del responses["422"]  # our own 422s (a vendor's refusal) stay
            page = isinstance(route.response_class, type) and issubclass(
                route.response_class, HTMLResponse
            )
            for status, answer in _implied(route, method, _validated(route)).items():
                # Our pages explain a bad link or too many attempts on a page; the body limits
                # (408, 413) answer before any route, in JSON.
                html = page and status in (400, 429)
                responses.setdefault(
                    str(status), _page(answer, status) if html else _schema(answer)
                )
    return document


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = truthful_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
