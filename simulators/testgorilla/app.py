"""The TestGorilla simulator's HTTP surface.

- ``/api/*``: the partner API as docs.testgorilla.com describes it (``Authorization: Token …``),
  with per-endpoint, per-user limits and ``X-RateLimit-*`` headers on every answer;
- ``/testtaker/welcome/{uuid}``: the candidate's link (opening it starts the candidature), in
  the form public consumer code links candidates to;
- ``/`` and ``/outbox``: pages for a person driving the simulator by hand: the candidatures with
  buttons for what a candidate would do (the control API's start and complete), and the emails;
- ``/_sim/*``: no-auth switches for tests and demos: drive candidates, expire tokens, set limits,
  inject faults, choose the answers' forms (variants), read request counts and the outbox.

Every answer carries ``X-Request-Id``. Errors have Django REST framework's ``{"detail": …}``
shape, except the duplicate invitation's `errors[]` with its `error_key` (public consumer code;
the `detail` form is a variant). Where the record is silent, config.Variants holds each form.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from ..docstore import DocumentStore
from ..gateway import CallNext, api_gateway
from ..openapi import ApiDescription
from ..pages import back_home, message_page, templates
from .catalog import DEFAULT_DISPLAYS, DEFAULT_SCORE, Assessment
from .config import (
    AssessmentTests,
    CandidateDetail,
    CandidatureGet,
    DuplicateInvite,
    InviteAnswer,
    TestGorillaSimConfig,
    TestTakerField,
)
from .report import render_report
from .service import Candidature, Fault, FaultKind, SimError, TestGorillaSim, page

SPEC_FILE = "testgorilla/testgorilla-api.yaml"
TEMPLATES = templates(Path(__file__).parent / "templates")
# Globals, so the score fields' macro sees the defaults blank fields get.
TEMPLATES.env.globals.update(default_score=DEFAULT_SCORE, default_displays=DEFAULT_DISPLAYS)


def api_description() -> ApiDescription:
    """Our reading of TestGorilla's API, shipped next to this module."""
    return ApiDescription.packaged(SPEC_FILE)


def create_app(config: TestGorillaSimConfig) -> FastAPI:
    store = DocumentStore(config.database_path)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    app = FastAPI(title="TestGorilla simulator", lifespan=lifespan)
    app.state.sim = TestGorillaSim(config, store)
    app.exception_handler(SimError)(_sim_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.middleware("http")(api_gateway("/api/", _rate_limit_headers))
    app.include_router(api)
    app.include_router(pages)
    app.include_router(control)
    return app


def _sim(request: Request) -> TestGorillaSim:
    return request.app.state.sim


Sim = Annotated[TestGorillaSim, Depends(_sim)]


async def _sim_error(_: Request, exc: SimError) -> JSONResponse:
    return JSONResponse(exc.body, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """400 with the offending fields, as Django REST framework answers
    (FastAPI's default is 422)."""
    fields: dict[str, list[str]] = {}
    for error in exc.errors():
        name = str(error["loc"][-1]) if error["loc"] else "non_field_errors"
        fields.setdefault(name, []).append(error["msg"])
    return JSONResponse(fields, status_code=400)


async def _rate_limit_headers(request: Request, call_next: CallNext) -> Response:
    """API answers carry the rate-limit headers of their endpoint, as `endpoint` admitted them."""
    request.state.rate_headers = {}
    response = await call_next(request)
    for name, value in request.state.rate_headers.items():
        response.headers.setdefault(name, value)
    return response


def endpoint(name: str) -> Callable[..., Awaitable[None]]:
    """Authenticate, apply a pending fault, then count the request against `name`'s limit."""

    async def check(
        request: Request, sim: Sim, authorization: Annotated[str | None, Header()] = None
    ) -> None:
        user = sim.authenticate(authorization)
        fault = sim.take_fault(name)
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay_seconds)
        elif fault is not None:
            raise sim.forced_error(name, fault)
        request.state.rate_headers = sim.admit(name, user)

    return check


def _checked_body(method: str, path: str, body: Any) -> None:
    """Refuse a body our reading of the API forbids,
    in Django REST framework's field-error shape."""
    problems = api_description().request_errors(method, path, body)
    if problems:
        raise SimError(400, body={"non_field_errors": problems})


# Partner API

api = APIRouter(prefix="/api")


@api.post("/profiles/login/")
async def login(sim: Sim, body: Annotated[Any, Body()] = None) -> dict[str, str]:
    _checked_body("post", "/profiles/login/", body)
    return {"token": sim.login(body["username"], body["password"])}


@api.get("/assessments/", dependencies=[Depends(endpoint("assessments"))])
async def list_assessments(
    request: Request, sim: Sim, status: str | None = None, limit: int = 10, offset: int = 0
) -> dict[str, Any]:
    wanted = status.split(",") if status else None
    found = [
        _assessment_summary(sim, a.id)
        for a in sim.assessments.values()
        if wanted is None or a.status in wanted
    ]
    return page(found, limit, offset, str(request.url), sim.config.max_page_size)


@api.get("/assessments/candidature/", dependencies=[Depends(endpoint("candidatures"))])
async def list_candidatures(
    request: Request,
    sim: Sim,
    assessment: int,
    email: str | None = None,
    search: str | None = None,
    status: str | None = None,
    limit: int = 10,
    offset: int = 0,
) -> dict[str, Any]:
    found = sim.find(assessment=assessment, email=email, search=search, status=status)
    return page(
        [sim.view(c) for c in found], limit, offset, str(request.url), sim.config.max_page_size
    )


@api.get(
    "/assessments/candidature/{candidature_id}/", dependencies=[Depends(endpoint("candidature"))]
)
async def get_candidature(candidature_id: int, sim: Sim) -> dict[str, Any]:
    """Not in TestGorilla's docs (which list only DELETE here): answers as the variant says."""
    if sim.variants.candidature_get == "405":
        raise SimError(405, 'Method "GET" not allowed.', headers={"Allow": "DELETE, OPTIONS"})
    if sim.variants.candidature_get == "404":
        raise SimError(404, "Not found.")
    return sim.view(sim.candidature(candidature_id))


@api.get("/assessments/candidates/{test_taker}/", dependencies=[Depends(endpoint("candidate"))])
async def get_candidate(
    test_taker: int, sim: Sim, candidature: int | None = None
) -> dict[str, Any]:
    return sim.candidate_detail(test_taker, candidature)


@api.delete(
    "/assessments/candidature/{candidature_id}/",
    status_code=204,
    dependencies=[Depends(endpoint("delete"))],
)
async def delete_candidature(candidature_id: int, sim: Sim) -> Response:
    sim.delete(candidature_id)
    return Response(status_code=204)


@api.post(
    "/assessments/candidature/{candidature_id}/send-invitation/",
    dependencies=[Depends(endpoint("reinvite"))],
)
async def send_invitation(candidature_id: int, sim: Sim) -> dict[str, Any]:
    return sim.view(sim.reinvite(candidature_id))


@api.get("/assessments/results/", dependencies=[Depends(endpoint("results"))])
async def list_results(
    request: Request,
    sim: Sim,
    assessment: Annotated[int, Query(alias="candidature__assessment")],
    test_taker: Annotated[int, Query(alias="candidature__test_taker")],
) -> dict[str, Any]:
    found = [r.view() for r in sim.results(assessment, test_taker)]
    return page(found, len(found) or 1, 0, str(request.url), len(found) or 1)


@api.get(
    "/assessments/candidates/{test_taker}/render_pdf/", dependencies=[Depends(endpoint("pdf"))]
)
async def render_pdf(test_taker: int, candidature: int, sim: Sim) -> Response:
    found = sim.candidature(candidature)
    if found.test_taker != test_taker:
        raise SimError(404, "Not found.")
    return Response(
        render_report(found),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="candidate-{found.id}.pdf"'},
    )


@api.get("/assessments/{assessment_id}/", dependencies=[Depends(endpoint("assessment"))])
async def get_assessment(assessment_id: int, sim: Sim) -> dict[str, Any]:
    assessment = sim.assessment(assessment_id)
    tests = [
        {"id": t.id, "name": t.name, "algorithm": t.algorithm, "description": t.description}
        for t in assessment.tests
    ]
    if sim.variants.assessment_tests == "tests_detail":
        forms: dict[str, Any] = {
            "tests": [t.id for t in assessment.tests],
            "tests_detail": [
                {"id": t.id * 10, "order": n, "test": test}
                for n, (t, test) in enumerate(zip(assessment.tests, tests, strict=False))
            ],
        }
    else:
        forms = {"tests": tests}
    return (
        _assessment_summary(sim, assessment_id)
        | forms
        | {
            "public_links": [
                {
                    "id": assessment.id * 10,
                    "public_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"tg-sim/{assessment.id}")),
                    "active": True,
                    "label": "Main",
                }
            ],
        }
    )


@api.post(
    "/assessments/{assessment_id}/invite_candidate/",
    status_code=201,
    dependencies=[Depends(endpoint("invite"))],
)
async def invite_candidate(
    assessment_id: int, sim: Sim, body: Annotated[Any, Body()] = None
) -> dict[str, Any]:
    _checked_body("post", f"/assessments/{assessment_id}/invite_candidate/", body)
    if "@" not in body["email"]:
        raise SimError(400, body={"email": ["Enter a valid email address."]})
    candidature = sim.invite(
        assessment_id, body["email"], body.get("first_name", ""), body.get("last_name", "")
    )
    return sim.invite_answer(candidature)


def _assessment_summary(sim: TestGorillaSim, assessment_id: int) -> dict[str, Any]:
    assessment = sim.assessment(assessment_id)
    statuses = [c.status for c in sim.candidatures.values() if c.assessment.id == assessment_id]
    finished = statuses.count("completed")
    return {
        "id": assessment.id,
        "name": assessment.name,
        "status": assessment.status,
        "candidates": len(statuses),
        "invited": statuses.count("invited"),
        "started": statuses.count("started"),
        "finished": finished,
        "finished_percentage": round(100 * finished / len(statuses)) if statuses else 0,
    }


# Pages for people: the candidatures, the outbox and the candidate's link

pages = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

# Each status in words, with the shared look's badge class.
STATUS_BADGES = {
    "invited": ("Invited, not started", "waiting"),
    "started": ("In progress", "attention"),
    "completed": ("Completed", "good"),
}


@pages.get("/")
async def home(
    request: Request, sim: Sim, error: str | None = None, notice: str | None = None
) -> HTMLResponse:
    """Every candidature, newest first, with the buttons a candidate's actions stand for."""
    context = {
        "candidatures": sorted(sim.candidatures.values(), key=lambda c: c.id, reverse=True),
        "assessments": list(sim.assessments.values()),
        "statuses": STATUS_BADGES,
        "error": error,
        "notice": notice,
    }
    return TEMPLATES.TemplateResponse(request, "index.html", context)


@pages.post("/candidatures/{candidature_id}/start")
async def start_page(candidature_id: int, sim: Sim) -> RedirectResponse:
    try:
        found = sim.start(candidature_id)
    except SimError as exc:
        return back_home(error=f"Could not start candidature {candidature_id}: {_reason(exc)}")
    # Notices travel in the redirect's URL (and so access logs): the candidature, not the email.
    return back_home(notice=f"Started candidature #{found.id}: {found.assessment.name}.")


@pages.post("/candidatures/{candidature_id}/complete")
async def complete_page(request: Request, candidature_id: int, sim: Sim) -> RedirectResponse:
    what = f"Could not complete candidature {candidature_id}"
    try:
        found = sim.candidature(candidature_id)
        scores = _form_scores(found.assessment, await request.form())
        found = sim.complete(candidature_id, scores, {})
    except SimError as exc:
        return back_home(error=f"{what}: {_reason(exc)}")
    except ValueError as exc:
        return back_home(error=f"{what}: {exc}")
    return back_home(notice=f"Completed candidature #{found.id}: {found.assessment.name}.")


@pages.get("/outbox")
async def outbox_page(request: Request, sim: Sim) -> HTMLResponse:
    emails = sorted(sim.outbox, key=lambda e: e.sent_at, reverse=True)
    return TEMPLATES.TemplateResponse(request, "outbox.html", {"emails": emails})


@pages.get("/testtaker/welcome/{invitation_uuid}")
@pages.get("/testtaker/invitation/{invitation_uuid}")  # the form links had before
async def take(request: Request, invitation_uuid: str, sim: Sim) -> HTMLResponse:
    """Opening the link starts the assessment; the simulator has no questions to answer."""
    candidature = sim.by_invitation(invitation_uuid)
    if candidature is None:
        return _not_found(request)
    if candidature.status == "completed":
        return message_page(
            TEMPLATES,
            request,
            "completed",
            "You have completed this assessment",
            "Your results were sent to the employer. Thank you for your time.",
        )
    if candidature.status == "invited":
        sim.start(candidature.id)
    return _take_page(request, candidature)


@pages.post("/testtaker/welcome/{invitation_uuid}")
@pages.post("/testtaker/invitation/{invitation_uuid}")
async def finish(request: Request, invitation_uuid: str, sim: Sim) -> HTMLResponse:
    candidature = sim.by_invitation(invitation_uuid)
    if candidature is None:
        return _not_found(request)
    if candidature.status != "completed":  # finishing twice keeps the first results
        try:
            scores = _form_scores(candidature.assessment, await request.form())
        except ValueError as exc:
            return _take_page(
                request, candidature, error=f"Not finished yet: {exc}", status_code=422
            )
        sim.complete(candidature.id, scores, {})
    return message_page(
        TEMPLATES,
        request,
        "thank-you",
        "Thank you",
        f"Your answers to the {candidature.assessment.name} assessment were submitted.",
    )


def _form_scores(assessment: Assessment, form: Any) -> dict[str, float | str]:
    """The score fields a page sent, as the control API's `scores`; blank ones are left out so
    the simulator's defaults apply."""
    scores: dict[str, float | str] = {}
    for test in assessment.tests:
        given = str(form.get(f"score-{test.id}") or "").strip()
        if not given:
            continue
        if not test.scored:
            scores[str(test.id)] = given
            continue
        try:
            score = float(given)
        except ValueError:
            score = math.nan
        if not 0 <= score <= 100:  # NaN fails too
            raise ValueError(f"the score for {test.name} must be a number from 0 to 100.")
        scores[str(test.id)] = score
    return scores


def _reason(exc: SimError) -> str:
    if exc.status_code == 404:
        return "it no longer exists (deleted through the API?)."
    detail = exc.body.get("detail") if isinstance(exc.body, dict) else None
    return str(detail or exc.body)


def _take_page(
    request: Request, candidature: Candidature, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    context = {"candidature": candidature, "error": error}
    return TEMPLATES.TemplateResponse(request, "take.html", context, status_code=status_code)


def _not_found(request: Request) -> HTMLResponse:
    return message_page(
        TEMPLATES,
        request,
        "not-found",
        "Invitation not found",
        "This link is not (or no longer) valid. Ask the employer for a new invitation.",
        status_code=404,
    )


# Control API

control = APIRouter(prefix="/_sim", tags=["control"])


class CompleteRequest(BaseModel):
    # Per test id: a number (0–100) for scored tests,
    # a string (score_display) for personality tests.
    scores: dict[str, float | str] = Field(default_factory=dict)
    # Per test id: the normalized percentile; scored tests default to their score.
    percentiles: dict[str, float] = Field(default_factory=dict)


class VariantsBody(BaseModel):
    """The forms the simulator answers in (config.Variants says each one's source); unset: kept."""

    candidature_get: CandidatureGet | None = None
    candidate_detail: CandidateDetail | None = None
    invite_answer: InviteAnswer | None = None
    duplicate_invite: DuplicateInvite | None = None
    test_taker_field: TestTakerField | None = None
    invitation_links: bool | None = None
    assessment_tests: AssessmentTests | None = None


class Limits(BaseModel):
    window_seconds: float
    limits: dict[str, int]


class FaultRequest(BaseModel):
    # throttle: 429 (no Retry-After); error: `status` (5xx); slow: answer after `delay_seconds`.
    kind: FaultKind
    count: int = Field(default=1, ge=1)
    endpoint: str | None = None  # one of the limit names; None: any API endpoint
    status: int = 503
    delay_seconds: float = 0.5
    reset_seconds: int | None = None  # X-RateLimit-Reset of a forced 429; default: the window


@control.get("/candidatures")
async def control_candidatures(
    sim: Sim, email: str | None = None, assessment: int | None = None
) -> list[dict[str, Any]]:
    return [sim.control_view(c) for c in sim.find(assessment=assessment, email=email)]


@control.post("/candidatures/{candidature_id}/start")
async def control_start(candidature_id: int, sim: Sim) -> dict[str, Any]:
    return sim.control_view(sim.start(candidature_id))


@control.post("/candidatures/{candidature_id}/complete")
async def control_complete(
    candidature_id: int, sim: Sim, body: Annotated[CompleteRequest | None, Body()] = None
) -> dict[str, Any]:
    body = body or CompleteRequest()
    return sim.control_view(sim.complete(candidature_id, body.scores, body.percentiles))


@control.get("/variants")
async def control_variants(sim: Sim) -> dict[str, Any]:
    return dataclasses.asdict(sim.variants)


@control.put("/variants")
async def control_set_variants(body: VariantsBody, sim: Sim) -> dict[str, Any]:
    sim.variants = dataclasses.replace(sim.variants, **body.model_dump(exclude_none=True))
    return dataclasses.asdict(sim.variants)


@control.delete("/variants")
async def control_reset_variants(sim: Sim) -> dict[str, Any]:
    sim.variants = dataclasses.replace(sim.config.variants)
    return dataclasses.asdict(sim.variants)


@control.get("/tokens")
async def control_tokens(sim: Sim) -> list[dict[str, Any]]:
    return sim.tokens()


@control.post("/tokens/expire")
async def control_expire_tokens(sim: Sim) -> dict[str, int]:
    return {"expired": sim.expire_tokens()}


@control.get("/limits")
async def control_limits(sim: Sim) -> Limits:
    return Limits(window_seconds=sim.window_seconds, limits=sim.limits)


@control.put("/limits")
async def control_set_limits(body: Limits, sim: Sim) -> Limits:
    sim.set_limits(body.window_seconds, sim.limits | body.limits)
    return Limits(window_seconds=sim.window_seconds, limits=sim.limits)


@control.get("/faults")
async def control_faults(sim: Sim) -> list[dict[str, Any]]:
    return sim.faults()


@control.post("/faults")
async def control_add_fault(body: FaultRequest, sim: Sim) -> list[dict[str, Any]]:
    sim.add_fault(
        Fault(
            body.kind,
            body.count,
            body.endpoint,
            body.status,
            body.delay_seconds,
            body.reset_seconds,
        )
    )
    return sim.faults()


@control.delete("/faults")
async def control_clear_faults(sim: Sim) -> list[dict[str, Any]]:
    sim.clear_faults()
    return sim.faults()


@control.get("/requests")
async def control_requests(sim: Sim) -> dict[str, Any]:
    """Per endpoint: the limit, requests let through, 429s, forced faults and counts per window."""
    return {
        "logins": sim.logins,
        "window_seconds": sim.window_seconds,
        "endpoints": {k: v.view() for k, v in sim.stats.items()},
    }


@control.delete("/requests")
async def control_reset_requests(sim: Sim) -> dict[str, Any]:
    sim.reset_stats()
    return await control_requests(sim)


@control.get("/outbox")
async def control_outbox(sim: Sim, email: str | None = None) -> dict[str, Any]:
    return sim.emails(email)
