"""The sandbox vendor's HTTP surface.

- ``/api/*``: the partner API (bearer API key), what our service integrates against;
- ``/take/{token}``: the candidate's assessment pages (the unguessable token is the credential);
- ``/outbox``: the emails the vendor "sent", for people clicking through a demo;
- ``/control/*``: no-auth switches and shortcuts for tests and demos.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from ..docstore import DocumentStore
from ..pages import templates
from .catalog import PACKAGES, Package, grade, grade_uniformly
from .config import SandboxVendorConfig
from .models import (
    FINAL_STATUSES,
    CompleteAtOnce,
    CompleteRequest,
    Email,
    Invitation,
    InvitationRecord,
    InvitationRequest,
    InvitationResult,
    PackageInfo,
    ReportDelay,
    StatusReadCounting,
)
from .service import SandboxError, SandboxVendor
from .webhooks import DeliveryAttempt, WebhookDispatcher, WebhookSettings

TEMPLATES = templates(Path(__file__).parent / "templates")

# What the candidate page says once an invitation is final: (heading id, heading, text).
_FINAL_PAGES = {
    "completed": (
        "thank-you",
        "Thank you, your answers were submitted",
        "There is nothing more to do. The employer will be in touch with you.",
    ),
    "declined": (
        "declined",
        "You declined the assessment",
        "The employer has been told. You can close this page.",
    ),
    "cancelled": (
        "withdrawn",
        "This invitation was withdrawn",
        "The employer withdrew this invitation, so there is nothing to complete.",
    ),
}


def create_app(config: SandboxVendorConfig) -> FastAPI:
    store = DocumentStore(config.database_path)
    webhooks = WebhookDispatcher(
        store, config.webhook_url, config.webhook_secret, config.webhook_retry_delays
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            async with webhooks.running():
                yield
        finally:
            store.close()

    app = FastAPI(title="Sandbox Vendor", lifespan=lifespan)
    app.state.api_key = config.api_key
    app.state.vendor = SandboxVendor(config, store, webhooks)
    app.state.webhooks = webhooks
    # Status reads per wall-clock second and per invitation: what a partner's polling costs.
    # Counted only once a benchmark asks (POST /control/status-reads), in this process's memory.
    app.state.status_reads = StatusReads()
    app.exception_handler(SandboxError)(_sandbox_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(_UnknownToken)(_unknown_token)
    app.include_router(api)
    app.include_router(pages)
    app.include_router(control)
    return app


@dataclass
class StatusReads:
    counting: bool = False
    per_second: Counter[int] = field(default_factory=Counter)
    per_invitation: Counter[str] = field(default_factory=Counter)

    def count(self, invitation_id: str) -> None:
        if not self.counting:
            return
        self.per_second[int(time.time())] += 1
        self.per_invitation[invitation_id] += 1


# Dependencies and error handling


class _Unauthorized(SandboxError):
    status_code = 401


class _UnknownToken(Exception):
    """A candidate link that matches no invitation; answered with an HTML page, not JSON."""


def _vendor(request: Request) -> SandboxVendor:
    return request.app.state.vendor


def _webhooks(request: Request) -> WebhookDispatcher:
    return request.app.state.webhooks


Vendor = Annotated[SandboxVendor, Depends(_vendor)]
Webhooks = Annotated[WebhookDispatcher, Depends(_webhooks)]


def _require_api_key(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    scheme, _, key = (authorization or "").partition(" ")
    expected: str = request.app.state.api_key
    # compare_digest keeps the comparison time independent of how much of the key matched.
    if scheme.lower() != "bearer" or not secrets.compare_digest(key.encode(), expected.encode()):
        raise _Unauthorized("missing or invalid API key", headers={"WWW-Authenticate": "Bearer"})


async def _sandbox_error(_: Request, exc: SandboxError) -> JSONResponse:
    return JSONResponse({"error": exc.message}, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with one readable message naming each offending field (FastAPI's default is a list)."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"] if part != "body") or "body"
        problems.append(f"{field}: {error['msg']}")
    return JSONResponse({"error": f"invalid request: {'; '.join(problems)}"}, status_code=422)


async def _unknown_token(request: Request, _: _UnknownToken) -> HTMLResponse:
    return _message_page(
        request,
        heading_id="not-found",
        heading="Invitation not found",
        text="This link is not valid. Check that you copied the whole link from your email.",
        status_code=404,
    )


# Partner API

api = APIRouter(prefix="/api", dependencies=[Depends(_require_api_key)])


@api.get("/packages")
async def list_packages() -> list[PackageInfo]:
    return [PackageInfo.from_package(package) for package in PACKAGES.values()]


@api.get("/packages/{package_id}")
async def get_package(package_id: str, vendor: Vendor) -> PackageInfo:
    return PackageInfo.from_package(vendor.package(package_id))


@api.post("/invitations", status_code=201, responses={200: {"description": "Already invited"}})
async def create_invitation(
    body: InvitationRequest, response: Response, vendor: Vendor
) -> Invitation:
    record, created = vendor.invite(body)
    if not created:
        response.status_code = 200
    return vendor.view(record)


@api.get("/invitations/{invitation_id}")
async def get_invitation(invitation_id: str, vendor: Vendor, request: Request) -> Invitation:
    invitation = vendor.invitation(invitation_id)
    request.app.state.status_reads.count(invitation_id)
    return vendor.view(invitation)


@api.delete("/invitations/{invitation_id}")
async def cancel_invitation(invitation_id: str, vendor: Vendor) -> Invitation:
    return vendor.view(vendor.cancel(vendor.invitation(invitation_id).id))


@api.post(
    "/invitations/{invitation_id}/resend",
    responses={409: {"description": "Opened, finished, declined or cancelled"}},
)
async def resend_invitation(invitation_id: str, vendor: Vendor) -> Invitation:
    """Email the candidate the invitation again, with the same link."""
    return vendor.view(vendor.resend(invitation_id))


@api.get("/invitations/{invitation_id}/result")
async def get_result(invitation_id: str, vendor: Vendor) -> InvitationResult:
    return vendor.result(vendor.invitation(invitation_id))


@api.get(
    "/invitations/{invitation_id}/report",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def get_report(invitation_id: str, vendor: Vendor) -> Response:
    record = vendor.invitation(invitation_id)
    return Response(
        vendor.report(record),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{record.id}.pdf"'},
    )


# Candidate pages and the outbox

pages = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)


@pages.get("/")
async def index(request: Request) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "index.html", {"packages": list(PACKAGES.values())})


@pages.get("/outbox")
async def outbox_page(request: Request, vendor: Vendor) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "outbox.html", {"emails": vendor.outbox()})


@pages.get("/take/{token}")
async def take_page(request: Request, token: str, vendor: Vendor) -> HTMLResponse:
    """The assessment; opening it is what starts an invitation."""
    record = _by_token(vendor, token)
    if record.status in FINAL_STATUSES:
        return _final_page(request, record)
    record = vendor.start(record.id)
    return _take_page(request, record, vendor.package(record.package_id))


@pages.post("/take/{token}")
async def submit_answers(request: Request, token: str, vendor: Vendor) -> HTMLResponse:
    form = await request.form()
    record = _by_token(vendor, token)
    if record.status in FINAL_STATUSES:  # e.g. submitted twice: never score again
        return _final_page(request, record)
    package = vendor.package(record.package_id)
    if package.kind == "background_check" and not form.get("consent"):
        return _take_page(
            request,
            record,
            package,
            error="Please confirm that you authorise the background check.",
            status_code=422,
        )
    answers = {
        question.id: _choice(form.get(f"q-{question.id}"))
        for test in package.tests
        for question in test.questions
    }
    unanswered = sum(answer is None for answer in answers.values())
    if package.kind != "background_check" and unanswered and not form.get("unanswered_ok"):
        # A candidate who pressed Submit too early gets their answers back with the count, not a
        # score they cannot undo.
        return _take_page(request, record, package, answers=answers, unanswered=unanswered)
    return _final_page(request, vendor.complete(record.id, grade(package, answers)))


@pages.post("/take/{token}/decline")
async def decline(request: Request, token: str, vendor: Vendor) -> HTMLResponse:
    """Declining cannot be undone and tells the recruiter, so it is confirmed first."""
    record = _by_token(vendor, token)
    if record.status in FINAL_STATUSES:
        return _final_page(request, record)
    if (await request.form()).get("confirmed") != "yes":
        context = {"package": vendor.package(record.package_id), "token": record.token}
        return TEMPLATES.TemplateResponse(request, "decline.html", context)
    return _final_page(request, vendor.decline(record.id))


def _by_token(vendor: SandboxVendor, token: str) -> InvitationRecord:
    record = vendor.invitation_by_token(token)
    if record is None:
        raise _UnknownToken
    return record


def _choice(value: object) -> int | None:
    """A submitted radio value as a choice index; anything else counts as unanswered."""
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _take_page(
    request: Request,
    record: InvitationRecord,
    package: Package,
    error: str | None = None,
    status_code: int = 200,
    answers: Mapping[str, int | None] | None = None,
    unanswered: int = 0,
) -> HTMLResponse:
    context = {
        "package": package,
        "token": record.token,
        "first_name": record.candidate.first_name,
        "error": error,
        "answers": answers or {},
        "unanswered": unanswered,
        "question_count": sum(len(test.questions) for test in package.tests),
    }
    return TEMPLATES.TemplateResponse(request, "take.html", context, status_code=status_code)


def _final_page(request: Request, record: InvitationRecord) -> HTMLResponse:
    heading_id, heading, text = _FINAL_PAGES[record.status]
    return _message_page(
        request, heading_id=heading_id, heading=heading, text=text, continue_url=record.redirect_url
    )


def _message_page(
    request: Request,
    *,
    heading_id: str,
    heading: str,
    text: str,
    status_code: int = 200,
    continue_url: str | None = None,
) -> HTMLResponse:
    context = {
        "heading_id": heading_id,
        "heading": heading,
        "text": text,
        "continue_url": continue_url,
    }
    return TEMPLATES.TemplateResponse(request, "message.html", context, status_code=status_code)


# Control API

control = APIRouter(prefix="/control", tags=["control"])


@control.post("/orders/{reference}/start")
async def control_start(reference: str, vendor: Vendor) -> Invitation:
    """As if the candidate opened the assessment page."""
    record = vendor.invitation_by_reference(reference)
    return vendor.view(vendor.start(record.id))


@control.post("/orders/{reference}/complete")
async def control_complete(
    reference: str,
    vendor: Vendor,
    body: Annotated[CompleteRequest | None, Body()] = None,
) -> Invitation:
    """Complete with every test at the given score (a background check comes back clear)."""
    record = vendor.invitation_by_reference(reference)
    score = (body or CompleteRequest()).score
    result = grade_uniformly(vendor.package(record.package_id), score)
    return vendor.view(vendor.complete(record.id, result))


@control.post("/orders/{reference}/decline")
async def control_decline(reference: str, vendor: Vendor) -> Invitation:
    record = vendor.invitation_by_reference(reference)
    return vendor.view(vendor.decline(record.id))


@control.get("/webhooks")
async def get_webhook_settings(vendor: Vendor) -> WebhookSettings:
    return WebhookSettings(mode=vendor.settings().webhook_mode)


@control.post("/webhooks")
async def set_webhook_settings(body: WebhookSettings, vendor: Vendor) -> WebhookSettings:
    return WebhookSettings(mode=vendor.update_settings(webhook_mode=body.mode).webhook_mode)


@control.get("/webhooks/deliveries")
async def webhook_deliveries(
    webhooks: Webhooks, reference: str | None = None
) -> list[DeliveryAttempt]:
    return webhooks.deliveries(reference)


@control.post("/complete-at-once")
async def set_complete_at_once(body: CompleteAtOnce, vendor: Vendor) -> CompleteAtOnce:
    """Benchmarks: candidates finish the moment they are invited, without a request each."""
    return CompleteAtOnce(
        score=vendor.update_settings(complete_at_once_score=body.score).complete_at_once_score
    )


@control.post("/report")
async def set_report_delay(body: ReportDelay, vendor: Vendor) -> ReportDelay:
    settings = vendor.update_settings(report_delay_seconds=body.delay_seconds)
    return ReportDelay(delay_seconds=settings.report_delay_seconds)


@control.get("/status-reads")
async def control_status_reads(request: Request) -> StatusReads:
    """How many invitation status reads arrived in each second (Unix time), and for each invitation,
    while counting was on."""
    return request.app.state.status_reads


@control.post("/status-reads")
async def set_status_read_counting(
    body: StatusReadCounting, request: Request
) -> StatusReadCounting:
    """Benchmarks: tally status reads from now on (or stop; the tally so far is kept)."""
    request.app.state.status_reads.counting = body.counting
    return StatusReadCounting(counting=body.counting)


@control.get("/outbox")
async def control_outbox(vendor: Vendor, reference: str | None = None) -> list[Email]:
    return vendor.outbox(reference)
