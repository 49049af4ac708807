"""The API SmartRecruiters hosts for an assessment partner.

OAuth token; partner configuration and per-company integration (Connect), with master tokens;
result PATCH and attachment upload (Assessment API 2021), with a company's customer tokens, for
that company's orders only; the Customer-API read of an application's assessment orders; and the
download of uploaded reports. Error bodies use SR's `ErrorResponse`, except on the token
endpoint, which answers in RFC 6749 form.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from .companies import AlreadyIntegrated, ConnectError, ConsentRequired, NoPartnerConfiguration
from .presentation import assessment_order
from .simulator import (
    ORDERS_READ_SCOPE,
    OTHER_CALLBACK_PATH,
    PARTNER_CONFIGURATION_SCOPE,
    RESULT_SCOPE,
    Grant,
    Sim,
    Simulator,
)
from .validation import package_result_errors, partner_configuration_errors, schema_errors

RESULTS_PATH = "/assessment-api/v202010/orders/{order_id}/results"
PARTNER_CONFIGURATION_PATH = "/assessment-api/v202010/partner/configuration"
INTEGRATION_PATH = "/assessment-api/v202010/integration/company/{company_id}"
# SR lists only application/json but cites RFC 7396, whose own media type is merge-patch (Gap 8).
JSON_MEDIA_TYPES = {"application/json", "application/merge-patch+json"}
# Which of them the result PATCH takes, by variant `patch_media_type`.
PATCH_MEDIA_TYPES = {
    "json": {"application/json"},
    "merge-patch": {"application/merge-patch+json"},
    "both": JSON_MEDIA_TYPES,
}
# The partner-facing write API: requests here are recorded and subject to injected faults.
RECORDED_PATH_PREFIXES = ("/identity/oauth/token", "/assessment-api/v202010/")
INVALID_PATCH = "Invalid result partial update"
INVALID_CONFIGURATION = "Invalid configuration provided"
INVALID_CREDENTIALS = "Invalid request body"
# SR's status and error code for each reason it refuses to integrate a company.
INTEGRATION_REFUSALS: dict[type[ConnectError], tuple[int, str]] = {
    NoPartnerConfiguration: (404, "CONFIGURATION_NOT_FOUND"),
    ConsentRequired: (403, "CONSENT_REQUIRED"),
    AlreadyIntegrated: (409, "ALREADY_INTEGRATED"),
}


class SrApiError(Exception):
    """An error answered with SR's `ErrorResponse` body."""

    def __init__(
        self,
        status: int,
        code: str,
        messages: str | list[str],
        summary: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(messages)
        self.status = status
        self.code = code
        self.messages = [messages] if isinstance(messages, str) else messages
        self.summary = summary
        self.headers = headers

    def response(self) -> JSONResponse:
        body: dict = {"errors": [{"code": self.code, "message": m} for m in self.messages]}
        if self.summary:
            body["message"] = self.summary
        return JSONResponse(body, status_code=self.status, headers=self.headers)


async def sr_api_error_handler(_request: Request, exc: SrApiError) -> JSONResponse:
    return exc.response()


async def record_and_inject_faults(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """HTTP middleware: apply any queued fault to a partner-facing request, then record it."""
    path = request.url.path
    if not path.startswith(RECORDED_PATH_PREFIXES):
        return await call_next(request)
    simulator: Simulator = request.app.state.simulator
    received_at = datetime.now(UTC).isoformat()
    body = await request.body()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    grant = simulator.token_grant(token.strip()) if scheme.lower() == "bearer" else None
    credential = grant.client_id if grant else _token_client_id(request, body)
    counted = simulator.variants.rate_limits == "enforced" and credential is not None
    refused = simulator.limits.enter(credential) if counted and credential else None
    try:
        if refused is not None:
            response: Response = refused
        else:
            response = await _answer(simulator, request, call_next)
    finally:
        # The same decision as on entering: switching the variant meanwhile changes nothing.
        if counted and credential and refused is None:
            simulator.limits.leave(credential)
    simulator.record_request(
        request.method,
        path,
        response.status_code,
        request.headers.get("content-type"),
        body,
        received_at=received_at,
        client_id=credential,
        host=request.headers.get("host"),
        query=request.url.query,
    )
    return response


async def _answer(
    simulator: Simulator, request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    fault = simulator.faults.take(request.method, request.url.path)
    if fault is not None:
        await asyncio.sleep(fault.latency_ms / 1000)
    # A failing fault answers in place of the handler, so the request changes nothing.
    if fault is None or fault.passes_through:
        return await call_next(request)
    return fault.response()


def _token_client_id(request: Request, body: bytes) -> str | None:
    """The client id a token request presents (SR's token endpoint takes a form)."""
    if not request.url.path.startswith("/identity/oauth/token"):
        return None
    values = parse_qs(body.decode("utf-8", "replace")).get("client_id")
    return values[0] if values else None


def bearer_grant(request: Request, sim: Sim) -> Grant:
    """The grant of the request's bearer token; 401 without a valid one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    grant = sim.token_grant(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        raise SrApiError(
            401,
            "NOT_AUTHORIZED_TO_ACCESS_RESOURCE",
            "Missing, invalid or expired bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return grant


def scope_required(scope: str) -> Callable[[Grant], Grant]:
    """A dependency: the request's grant, which must include `scope` (403 otherwise)."""

    def granted(grant: Annotated[Grant, Depends(bearer_grant)]) -> Grant:
        if scope not in grant.scopes:
            raise SrApiError(403, "INSUFFICIENT_SCOPE", f"Request missed required scope {scope}")
        return grant

    return granted


MasterGrant = Annotated[Grant, Depends(scope_required(PARTNER_CONFIGURATION_SCOPE))]
ResultGrant = Annotated[Grant, Depends(scope_required(RESULT_SCOPE))]
OrdersReadGrant = Annotated[Grant, Depends(scope_required(ORDERS_READ_SCOPE))]


def require_company(grant: Grant, company_id: str, what: str) -> None:
    """A customer token reaches only its own company's data."""
    if grant.company_id != company_id:
        raise SrApiError(403, "ACCESS_DENIED", f"{what} belongs to another company")


async def json_body(
    request: Request, code: str, summary: str, media_types: set[str] = JSON_MEDIA_TYPES
) -> Any:
    """The request's JSON body; 415 for another media type, 400 (with `code`) if malformed."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in media_types:
        message = f"Unsupported payload format {media_type!r}"
        raise SrApiError(415, "UNSUPPORTED_MEDIA_TYPE", message)
    try:
        return json.loads(await request.body())
    except ValueError as exc:
        raise SrApiError(400, code, f"(body): malformed JSON: {exc}", summary) from exc


router = APIRouter()


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@router.post("/identity/oauth/token")
async def issue_token(request: Request, sim: Sim) -> JSONResponse:
    form = await request.form()
    names = ("grant_type", "client_id", "client_secret")
    fields = {name: value for name in names if isinstance(value := form.get(name), str) and value}
    missing = [name for name in names if name not in fields]
    if missing:
        return _oauth_error(400, "invalid_request", f"Missing form field(s): {', '.join(missing)}")
    if fields["grant_type"] != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported")
    grant = sim.authenticate(fields["client_id"], fields["client_secret"])
    if grant is None:
        return _oauth_error(401, "invalid_client", "Unknown client or wrong secret")
    return JSONResponse(sim.issue_token(grant), headers={"Cache-Control": "no-store"})


# --- partner configuration and Connect (master token) -------------------------------------------


@router.put(PARTNER_CONFIGURATION_PATH)
async def save_partner_configuration(request: Request, sim: Sim, _grant: MasterGrant) -> dict:
    configuration = await json_body(request, "INVALID_CONFIGURATION", INVALID_CONFIGURATION)
    errors = partner_configuration_errors(configuration)
    if errors:
        raise SrApiError(400, "INVALID_CONFIGURATION", errors, INVALID_CONFIGURATION)
    return sim.companies.save_partner_configuration(configuration)


@router.get(PARTNER_CONFIGURATION_PATH)
def partner_configuration(sim: Sim, _grant: MasterGrant) -> dict:
    configuration = sim.companies.partner_configuration()
    if configuration is None:
        raise SrApiError(404, "CONFIGURATION_NOT_FOUND", "Configuration does not exist")
    return configuration


@router.post(INTEGRATION_PATH)
async def integrate_company(
    company_id: str, request: Request, sim: Sim, _grant: MasterGrant
) -> dict:
    """The partner hands over the credentials it issued for a company that consented, and gets
    SR-issued customer credentials for it in return."""
    credentials = await json_body(request, "INVALID_CREDENTIALS", INVALID_CREDENTIALS)
    errors = schema_errors("ClientCredentials", credentials)
    if errors:
        raise SrApiError(400, "INVALID_CREDENTIALS", errors, INVALID_CREDENTIALS)
    try:
        return sim.companies.integrate(company_id, credentials)
    except ConnectError as exc:
        status, code = INTEGRATION_REFUSALS[type(exc)]
        raise SrApiError(status, code, str(exc)) from exc


# --- results (customer token of the order's company) -------------------------------------------


def _company_order(sim: Simulator, order: dict | None, grant: Grant) -> dict:
    """The order, if there is one and it is the grant's company's."""
    if order is None:
        raise SrApiError(404, "ORDER_NOT_FOUND", "Order with given id does not exist")
    require_company(grant, sim.company_of(order), "Order")
    return order


# The body is read before the order is loaded: an await between loading and saving an order
# could let a concurrent request's change be overwritten.


def _at_its_callback(order: dict, request: Request, suffix: str = "") -> dict:
    """An order is reached at the resultCallbackURL SR gave for it (host, path and query; plus
    `suffix` for the attachment), like an unknown order anywhere else. Orders stored before
    callbacks were kept are reached at /orders/{orderId}/results of any host."""
    callback = order.get("result_callback_url")
    if callback is None:
        return order
    expected = urlsplit(callback)
    path = expected.path.rstrip("/") + suffix if suffix else expected.path
    host = request.headers.get("host", "").lower()
    if (host, request.url.path, request.url.query) != (
        expected.netloc.lower(),
        path,
        expected.query,
    ):
        raise SrApiError(404, "ORDER_NOT_FOUND", "Order with given id does not exist")
    return order


@router.patch(RESULTS_PATH)
@router.patch(RESULTS_PATH + "/")
async def update_result(order_id: str, request: Request, sim: Sim, grant: ResultGrant) -> dict:
    patch = await _result_patch(request, sim)
    return _apply(
        sim, _at_its_callback(_company_order(sim, sim.order(order_id), grant), request), patch
    )


@router.patch(OTHER_CALLBACK_PATH)
async def update_result_at_other_callback(
    token: str, request: Request, sim: Sim, grant: ResultGrant
) -> dict:
    patch = await _result_patch(request, sim)
    return _apply(
        sim,
        _at_its_callback(_company_order(sim, sim.order_of_callback(token), grant), request),
        patch,
    )


async def _result_patch(request: Request, sim: Simulator) -> Any:
    media_types = PATCH_MEDIA_TYPES[sim.variants.patch_media_type]
    return await json_body(request, "INVALID_RESULT", INVALID_PATCH, media_types)


def _apply(sim: Simulator, order: dict, patch: Any) -> dict:
    if (
        sim.variants.result_attachments == "refused"
        and isinstance(patch, dict)
        and patch.get("attachments")
    ):
        raise SrApiError(
            400, "INVALID_RESULT", "attachments: not supported for this order", INVALID_PATCH
        )
    errors = package_result_errors(patch)
    if errors:
        raise SrApiError(400, "INVALID_RESULT", errors, INVALID_PATCH)
    return sim.apply_result_patch(order, patch)


@router.post(RESULTS_PATH + "/attachment", status_code=201)
async def add_attachment(order_id: str, request: Request, sim: Sim, grant: ResultGrant) -> dict:
    upload, data = await _uploaded(request, sim)
    order = _at_its_callback(
        _company_order(sim, sim.order(order_id), grant), request, "/attachment"
    )
    return _attach(sim, order, upload, data)


@router.post(OTHER_CALLBACK_PATH + "/attachment", status_code=201)
async def add_attachment_at_other_callback(
    token: str, request: Request, sim: Sim, grant: ResultGrant
) -> dict:
    upload, data = await _uploaded(request, sim)
    order = _at_its_callback(
        _company_order(sim, sim.order_of_callback(token), grant), request, "/attachment"
    )
    return _attach(sim, order, upload, data)


async def _uploaded(request: Request, sim: Simulator) -> tuple[Any, bytes | None]:
    part_name = sim.config.attachment_part_name
    try:
        form = await request.form()
    except StarletteHTTPException as exc:  # malformed multipart body
        raise SrApiError(400, "INVALID_ATTACHMENT", str(exc.detail)) from exc
    upload = form.get(part_name)
    data = await upload.read() if isinstance(upload, UploadFile) else None
    if data is not None and len(data) > sim.config.max_attachment_bytes:
        limit = sim.config.max_attachment_bytes
        raise SrApiError(
            413, "ATTACHMENT_TOO_LARGE", f"The attachment is larger than {limit} bytes"
        )
    return upload, data


def _attach(sim: Simulator, order: dict, upload: Any, data: bytes | None) -> dict:
    part_name = sim.config.attachment_part_name
    if order["kind"] == "inline":
        raise SrApiError(
            400, "INLINE_ORDER", "Adding attachment to inline assessment orders is not supported."
        )
    if data is None:
        message = f"Expected a file in multipart part {part_name!r}"
        raise SrApiError(400, "INVALID_ATTACHMENT", message)
    attachment = sim.add_attachment(
        order, upload.filename or part_name, upload.content_type or "application/octet-stream", data
    )
    return {"url": attachment["url"]}


@router.get("/files/{file_id}")
def download_file(file_id: str, sim: Sim) -> Response:
    found = sim.file(file_id)
    if found is None:
        raise SrApiError(404, "FILE_NOT_FOUND", "File with given id does not exist")
    meta, data = found
    disposition = f"inline; filename*=UTF-8''{quote(meta['filename'])}"
    headers = {"Content-Disposition": disposition}
    return Response(data, media_type=meta["content_type"], headers=headers)


@router.get("/assessment-api/v202107/assessment-orders")
def assessment_orders(
    sim: Sim, grant: OrdersReadGrant, application_id: Annotated[str, Query(alias="applicationId")]
) -> list[dict]:
    candidate = sim.application_candidate(application_id)
    if candidate is None:
        raise SrApiError(404, "APPLICATION_NOT_FOUND", "There is no application with given id")
    require_company(grant, sim.company_of(candidate), "Application")
    return [assessment_order(order) for order in sim.orders_of_application(application_id)]
