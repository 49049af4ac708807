"""GET/POST /integration: the consent page an SR company admin fills in to connect us."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import EmailStr, TypeAdapter, ValidationError

from api.consent_form import COOKIE, FORM_LIFETIME_SECONDS
from api.headers import STRICT_CSP
from connections.connect import COMPANY_ID_PATTERN, ConnectRefused
from smartrecruiters.observations import observed
from smartrecruiters.origins import origin_allowed, origin_of

router = APIRouter(tags=["SmartRecruiters Connect"])
log = logging.getLogger("assessments.consent")
UNEXPECTED = (
    "Something went wrong on our side, and the company may or may not be connected. "
    "Please contact support before trying again."
)
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
_EMAIL = TypeAdapter(EmailStr)


# No caching (the form carries a signed token); no framing, no referrer and the strict CSP come
# with every HTML page of ours (api/headers.py).
SECURITY_HEADERS = {"Content-Security-Policy": STRICT_CSP, "Cache-Control": "no-store"}
_COMPANY_ID = re.compile(COMPANY_ID_PATTERN)


def _page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    context["integration_name"] = request.app.state.settings.integration_name
    return TEMPLATES.TemplateResponse(
        request, template, context, status_code=status_code, headers=SECURITY_HEADERS
    )


def problem_page(request: Request, status_code: int, heading: str, message: str) -> HTMLResponse:
    return _page(request, "problem.html", status_code, heading=heading, message=message)


def _redirect_allowed(request: Request, redirect: str | None) -> bool:
    """SR's redirect must lead back to SR, never elsewhere
    (an open redirect would help phishing)."""
    return redirect is None or origin_allowed(
        redirect, request.app.state.settings.sr_redirect_origins_or_default
    )


def _observe_redirect(request: Request, redirect: str | None) -> None:
    """Once an admin connected (anyone can open the page with any link): which origin SR sent."""
    if redirect is None:
        observed("consent redirect origin", "none")
        return
    on_api = origin_of(redirect) == origin_of(request.app.state.settings.sr_base_url)
    observed("consent redirect origin", "SR API origin" if on_api else "SmartRecruiters web origin")


def _form(
    request: Request,
    company_id: str,
    redirect: str | None,
    *,
    error: str | None = None,
    email: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    form_token, nonce = request.app.state.form_guard.issue(company_id)
    response = _page(
        request,
        "consent.html",
        status_code,
        company_id=company_id,
        redirect=redirect,
        form_token=form_token,
        error=error,
        email=email,
    )
    secure = request.app.state.settings.public_url.startswith("https://")
    response.set_cookie(
        COOKIE,
        nonce,
        max_age=FORM_LIFETIME_SECONDS,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/integration",
    )
    return response


def _bad_link(
    request: Request, company_id: str | None, redirect: str | None
) -> HTMLResponse | None:
    """The page explains a malformed link from SR rather than answering JSON."""
    if company_id is None or not _COMPANY_ID.fullmatch(
        company_id
    ):  # fullmatch: `$` would allow a final newline
        return problem_page(
            request,
            400,
            "This link is not valid",
            "The link does not name a SmartRecruiters company. Please start again from "
            "SmartRecruiters.",
        )
    if not _redirect_allowed(request, redirect):
        return problem_page(
            request,
            400,
            "This link is not valid",
            "The return address is not a SmartRecruiters address. Please start again from "
            "SmartRecruiters.",
        )
    return None


@router.get(
    "/integration",
    response_class=HTMLResponse,
    summary="Consent page SR opens when an admin clicks Connect",
)
async def consent_page(
    request: Request,
    companyId: str | None = Query(None, description="SmartRecruiters companyId"),
    redirect: str | None = Query(None),
):
    if problem := _bad_link(request, companyId, redirect):
        return problem
    assert companyId is not None  # a link without one is bad, answered above
    return _form(request, companyId, redirect)


@router.post(
    "/integration",
    response_class=HTMLResponse,
    summary="Connect the company with an External Trigger Token",
)
async def submit_consent(
    request: Request,
    companyId: str | None = Form(None),
    token: str = Form(""),
    email: str = Form(""),
    form_token: str = Form(""),
    redirect: str | None = Form(None),
):
    if problem := _bad_link(request, companyId, redirect):
        return problem
    assert companyId is not None  # a form without one is bad, answered above
    if not request.app.state.form_guard.check(form_token, request.cookies.get(COOKIE), companyId):
        return _form(
            request,
            companyId,
            redirect,
            email=email,
            status_code=400,
            error=(
                "This form has expired or was not opened from SmartRecruiters. Please enter "
                "the token again."
            ),
        )
    token = token.strip()
    try:
        email = str(_EMAIL.validate_python(email.strip()[:320]))
    except ValidationError:
        return _form(
            request,
            companyId,
            redirect,
            status_code=400,
            error="Please enter a valid email address.",
        )
    if not token or len(token) > 200:
        return _form(
            request,
            companyId,
            redirect,
            email=email,
            status_code=400,
            error="Please enter your External Trigger Token.",
        )
    try:
        await request.app.state.connector.connect(companyId, token, email)
    except ConnectRefused as refusal:
        return _form(request, companyId, redirect, email=email, status_code=400, error=str(refusal))
    except Exception:  # our own failure: the admin still gets the form, and we get the log
        log.exception("Connect failed for company %s", companyId)
        return _form(request, companyId, redirect, email=email, status_code=500, error=UNEXPECTED)
    _observe_redirect(request, redirect)
    response = _page(request, "connected.html", company_id=companyId, redirect=redirect)
    response.delete_cookie(COOKIE, path="/integration")
    return response
