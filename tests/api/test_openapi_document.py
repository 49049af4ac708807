"""Our /openapi.json tells the truth: the error shapes we really send, and never FastAPI's default
422 `HTTPValidationError` (we answer every invalid request 400 in our ErrorResponse shape)."""

from __future__ import annotations

import json
import uuid

import httpx
import jsonschema
import pytest

from api.app import create_app
from settings import Settings
from simulators.smartrecruiters.validation import schema_errors
from tests.api.test_partner_api import an_inline_order_body, an_order_body
from tests.e2e.test_connect import connected_directly
from tests.hostile.test_limits import head, raw_request

ERROR_RESPONSE = {"$ref": "#/components/schemas/ErrorResponse"}
TOKEN_ERROR = {"$ref": "#/components/schemas/TokenErrorResponse"}
# The routes SmartRecruiters calls with our bearer token, and the one it calls without.
AUTHENTICATED = [
    ("get", "/packages"),
    ("get", "/packages/{package_id}"),
    ("post", "/packages/orders"),
    ("post", "/packages/inline/orders"),
]
SR_ROUTES = [
    *AUTHENTICATED,
    ("post", "/oauth/token"),
    ("delete", "/integrations/companies/{companyId}"),
]


@pytest.fixture(scope="module")
def document() -> dict:
    return create_app(Settings()).openapi()


def json_schema(response: dict) -> dict | None:
    return response.get("content", {}).get("application/json", {}).get("schema")


def test_no_default_422_and_no_httpvalidationerror_anywhere(document):
    text = json.dumps(document)
    assert "HTTPValidationError" not in text and '"ValidationError"' not in text
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answer = operation["responses"].get("422")
            # The only 422s we send are our own (a vendor refused to invite; a payload the codec
            # cannot open; an API vendor's Idempotency-Key used again), in our shape.
            assert answer is None or json_schema(answer) == ERROR_RESPONSE, (method, path)
            assert answer is None or path in (
                "/packages/inline/orders",
                "/codec/{direction}",
                "/codec/ui/{capability}/{direction}",
                "/vendor/v1/orders/{order_id}",
            ), (method, path)


@pytest.mark.parametrize(("method", "path"), SR_ROUTES)
def test_every_sr_route_documents_its_400_in_the_shape_we_send(document, method, path):
    answer = document["paths"][path][method]["responses"]["400"]
    assert json_schema(answer) == (TOKEN_ERROR if path == "/oauth/token" else ERROR_RESPONSE)


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
def test_every_authenticated_sr_route_documents_401_and_403(document, method, path):
    responses = document["paths"][path][method]["responses"]
    assert (
        json_schema(responses["401"]) == ERROR_RESPONSE
        and "WWW-Authenticate" in responses["401"]["headers"]
    )
    assert json_schema(responses["403"]) == ERROR_RESPONSE


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/packages/orders"), ("post", "/packages/inline/orders"), ("get", "/packages")],
)
def test_503_carries_retry_after(document, method, path):
    answer = document["paths"][path][method]["responses"]["503"]
    assert json_schema(answer) == ERROR_RESPONSE and answer["headers"]["Retry-After"]["schema"] == {
        "type": "integer"
    }


def test_bodies_may_be_too_large_and_the_token_endpoint_rate_limited(document):
    for path in ("/packages/orders", "/packages/inline/orders", "/oauth/token"):
        assert json_schema(document["paths"][path]["post"]["responses"]["413"]) == ERROR_RESPONSE
    too_many = document["paths"]["/oauth/token"]["post"]["responses"]["429"]
    assert json_schema(too_many) == ERROR_RESPONSE and "Retry-After" in too_many["headers"]


def test_the_token_endpoint_documents_rfc_6749_error_bodies(document):
    responses = document["paths"]["/oauth/token"]["post"]["responses"]
    assert (
        json_schema(responses["401"]) == TOKEN_ERROR
        and "WWW-Authenticate" in responses["401"]["headers"]
    )
    token_error = document["components"]["schemas"]["TokenErrorResponse"]
    assert token_error["required"] == ["error"] and set(token_error["properties"]) == {
        "error",
        "error_description",
    }


def test_the_error_shape_is_srs_error_response(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["ErrorResponse"]["required"]) == {"message", "errors"}
    assert schemas["ErrorResponse"]["properties"]["errors"]["items"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }
    assert (
        set(schemas["ErrorDetail"]["required"]) == {"code", "message"}
        and "field" in schemas["ErrorDetail"]["properties"]
    )


def test_the_inline_answer_is_documented_with_both_keys(document):
    answer = document["paths"]["/packages/inline/orders"]["post"]["responses"]["200"]
    assert json_schema(answer) == {"$ref": "#/components/schemas/InlineAssessmentPackageResponse"}
    assert set(
        document["components"]["schemas"]["InlineAssessmentPackageResponse"]["required"]
    ) == {"url", "assessmentPackageURL"}


# --- our real answers against the document ----------------------------------------------------


@pytest.fixture
async def served(api) -> dict:
    return (await api.get("/openapi.json")).raise_for_status().json()


async def token(api, client_id: str, secret: str) -> dict:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    token = (await api.post("/oauth/token", data=form)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def answers_as_documented(document: dict, method: str, path: str, response: httpx.Response) -> None:
    """The answer's status is documented for the route, its body fits the schema documented for
    that status, and the headers documented for it are there."""
    documented = document["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, (
        f"{method.upper()} {path} answered an undocumented {response.status_code}"
    )
    answer = documented[str(response.status_code)]
    schema = json_schema(answer)
    assert schema is not None, f"{response.status_code} of {path} documents no JSON body"
    validator = jsonschema.Draft202012Validator(schema | {"components": document["components"]})
    assert [e.message for e in validator.iter_errors(response.json())] == []
    for header in answer.get("headers", {}):
        assert header in response.headers, f"{response.status_code} of {path} lacks {header}"


async def test_our_refusals_are_what_the_document_says(api, bearer, served, store, stack):
    checks = [
        (
            "post",
            "/packages/orders",
            await api.post(
                "/packages/orders",
                json=an_order_body(candidate={"firstName": "Ada"}),
                headers=bearer,
            ),
            400,
        ),
        (
            "post",
            "/packages/orders",
            await api.post(
                "/packages/orders", json=an_order_body(), headers={"Authorization": "Bearer nope"}
            ),
            401,
        ),
        ("get", "/packages", await api.get("/packages"), 401),
        (
            "get",
            "/packages",
            await api.get("/packages", params={"remote": "sometimes"}, headers=bearer),
            400,
        ),
        (
            "get",
            "/packages/{package_id}",
            await api.get("/packages/no-such-package", headers=bearer),
            404,
        ),
        (
            "post",
            "/packages/orders",
            await api.post(
                "/packages/orders",
                json=an_order_body(assessmentPackageId="no-such"),
                headers=bearer,
            ),
            404,
        ),
        (
            "post",
            "/oauth/token",
            await api.post("/oauth/token", data={"grant_type": "password"}),
            400,
        ),
        (
            "post",
            "/oauth/token",
            await api.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
            ),
            400,
        ),
        (
            "post",
            "/oauth/token",
            await api.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=("x", "y")
            ),
            401,
        ),
    ]
    # Another company's token, for this company's order and catalog.
    account = await store.create_vendor_account(
        name=f"sandbox-{uuid.uuid4().hex[:8]}", adapter="sandbox", credentials={}
    )
    other = await token(
        api, *await connected_directly(store, account.id, f"company-{uuid.uuid4().hex[:6]}")
    )
    checks.append(
        (
            "post",
            "/packages/orders",
            await api.post("/packages/orders", json=an_order_body(), headers=other),
            403,
        )
    )
    for method, path, response, status in checks:
        assert response.status_code == status, (method, path, response.text)
        answers_as_documented(served, method, path, response)
    # A body larger than we take, refused as soon as its Content-Length says so.
    limit = stack.settings.max_request_bytes
    status, headers, body = await raw_request(
        stack.settings.public_url,
        head("POST", "/packages/inline/orders", f"Content-Length: {limit + 1}"),
        b"{",
    )
    too_large = httpx.Response(status, headers=headers, content=body)
    assert status == 413
    answers_as_documented(served, "post", "/packages/inline/orders", too_large)


async def test_our_inline_answer_is_what_the_document_and_srs_spec_say(api, bearer, served):
    response = await api.post(
        "/packages/inline/orders", json=an_inline_order_body(), headers=bearer
    )
    assert response.status_code == 200, response.text
    answers_as_documented(served, "post", "/packages/inline/orders", response)
    assert schema_errors("InlineAssessmentPackageResponse", response.json()) == []


def test_the_disconnect_says_its_bearer_token_is_optional(document):
    """SR's spec declares no security there:
    an SR engineer reading ours must see a bare call works."""
    operation = document["paths"]["/integrations/companies/{companyId}"]["delete"]
    assert {} in operation["security"] and {"HTTPBearer": []} in operation["security"]
    assert "Retry-After" in operation["responses"]["503"]["headers"]
