"""The API SmartRecruiters hosts for an assessment partner.

OAuth token, result PATCH and attachment upload (Assessment API 2021), the Customer-API read of
an application's assessment orders, and the download of uploaded reports. Error bodies use SR's
`ErrorResponse`, except on the token endpoint, which answers in RFC 6749 form.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Awaitable, Callable
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from .presentation import assessment_order
from .simulator import Sim, Simulator
from .validation import package_result_errors

RESULTS_PATH = "/assessment-api/v202010/orders/{order_id}/results"
# SR lists only application/json but cites RFC 7396, whose own media type is merge-patch (Gap 8).
JSON_MEDIA_TYPES = {"application/json", "application/merge-patch+json"}
# The partner-facing write API: requests here are recorded and subject to injected faults.
RECORDED_PATH_PREFIXES = ("/identity/oauth/token", "/assessment-api/v202010/")
INVALID_PATCH = "Invalid result partial update"


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
    body = await request.body()
    fault = simulator.faults.take(request.method, path)
    if fault is not None:
        await asyncio.sleep(fault.latency_ms / 1000)
    # A failing fault answers in place of the handler, so the request changes nothing.
    if fault is None or fault.passes_through:
        response = await call_next(request)
    else:
        response = fault.response()
    simulator.record_request(
        request.method, path, response.status_code, request.headers.get("content-type"), body
    )
    return response


def require_bearer(request: Request, sim: Sim) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not sim.token_is_valid(token.strip()):
        raise SrApiError(
            401,
            "NOT_AUTHORIZED_TO_ACCESS_RESOURCE",
            "Missing, invalid or expired bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter()
authorized = [Depends(require_bearer)]


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@router.post("/identity/oauth/token")
async def issue_token(request: Request, sim: Sim) -> JSONResponse:
    form = await request.form()
    fields = {name: form.get(name) for name in ("grant_type", "client_id", "client_secret")}
    missing = [name for name, value in fields.items() if not isinstance(value, str) or not value]
    if missing:
        return _oauth_error(400, "invalid_request", f"Missing form field(s): {', '.join(missing)}")
    if fields["grant_type"] != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported")
    if not sim.credentials_match(fields["client_id"], fields["client_secret"]):
        return _oauth_error(401, "invalid_client", "Unknown client or wrong secret")
    return JSONResponse(sim.issue_token(), headers={"Cache-Control": "no-store"})


def _order_or_404(sim: Simulator, order_id: str) -> dict:
    order = sim.order(order_id)
    if order is None:
        raise SrApiError(404, "ORDER_NOT_FOUND", "Order with given id does not exist")
    return order


# The body is read before the order is loaded: an await between loading and saving an order
# could let a concurrent request's change be overwritten.


@router.patch(RESULTS_PATH, dependencies=authorized)
async def update_result(order_id: str, request: Request, sim: Sim) -> dict:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in JSON_MEDIA_TYPES:
        message = f"Unsupported payload format {media_type!r}"
        raise SrApiError(415, "UNSUPPORTED_MEDIA_TYPE", message)
    try:
        patch = json.loads(await request.body())
    except ValueError as exc:
        message = f"(body): malformed JSON: {exc}"
        raise SrApiError(400, "INVALID_RESULT", message, INVALID_PATCH) from exc
    order = _order_or_404(sim, order_id)
    errors = package_result_errors(patch)
    if errors:
        raise SrApiError(400, "INVALID_RESULT", errors, INVALID_PATCH)
    return sim.apply_result_patch(order, patch)


@router.post(RESULTS_PATH + "/attachment", status_code=201, dependencies=authorized)
async def add_attachment(order_id: str, request: Request, sim: Sim) -> dict:
    part_name = sim.config.attachment_part_name
    try:
        form = await request.form()
    except StarletteHTTPException as exc:  # malformed multipart body
        raise SrApiError(400, "INVALID_ATTACHMENT", str(exc.detail)) from exc
    upload = form.get(part_name)
    data = await upload.read() if isinstance(upload, UploadFile) else None
    order = _order_or_404(sim, order_id)
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


@router.get("/assessment-api/v202107/assessment-orders", dependencies=authorized)
def assessment_orders(
    sim: Sim, application_id: Annotated[str, Query(alias="applicationId")]
) -> list[dict]:
    if not sim.application_exists(application_id):
        raise SrApiError(404, "APPLICATION_NOT_FOUND", "There is no application with given id")
    return [assessment_order(order) for order in sim.orders_of_application(application_id)]
