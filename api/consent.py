"""GET/POST /integration: the consent page an SR company admin fills in to connect us."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import EmailStr, TypeAdapter, ValidationError

from api.consent_form import COOKIE, FORM_LIFETIME_SECONDS, FormGuard
from api.deps import ConnectorDep, FormGuardDep, SettingsDep
from api.headers import STRICT_CSP
from connections.connect import COMPANY_ID_PATTERN, ConnectRefused
from origins import origin_allowed, origin_of
from settings import Settings
from smartrecruiters.observations import observed

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


def _page(
    request: Request, integration_name: str, template: str, status_code: int = 200, **context
) -> HTMLResponse:
    context["integration_name"] = integration_name
    return TEMPLATES.TemplateResponse(
        request, template, context, status_code=status_code, headers=SECURITY_HEADERS
    )


def problem_page(
    request: Request, integration_name: str, status_code: int, heading: str, message: str
) -> HTMLResponse:
    return _page(
        request, integration_name, "problem.html", status_code, heading=heading, message=message
    )


def _redirect_allowed(settings: Settings, redirect: str | None) -> bool:
    """SR's redirect must lead back to SR, never elsewhere
    (an open redirect would help phishing)."""
    return redirect is None or origin_allowed(redirect, settings.sr_redirect_origins_or_default)


def _observe_redirect(settings: Settings, redirect: str | None) -> None:
    """Once an admin connected (anyone can open the page with any link): which origin SR sent."""
    if redirect is None:
        observed("consent redirect origin", "none")
        return
    on_api = origin_of(redirect) == origin_of(settings.sr_base_url)
    observed("consent redirect origin", "SR API origin" if on_api else "SmartRecruiters web origin")


def _form(
    request: Request,
    settings: Settings,
    form_guard: FormGuard,
    company_id: str,
    redirect: str | None,
    *,
    error: str | None = None,
    email: str | None = None,
    token: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    form_token, nonce = form_guard.issue(company_id)
    response = _page(
        request,
        settings.integration_name,
        "consent.html",
        status_code,
        company_id=company_id,
        redirect=redirect,
        form_token=form_token,
        error=error,
        email=email,
        token=token,
    )
    response.set_cookie(
        COOKIE,
        nonce,
        max_age=FORM_LIFETIME_SECONDS,
        httponly=True,
        secure=settings.public_url.startswith("https://"),
        samesite="lax",
        path="/integration",
    )
    return response


def _checked_link(
    request: Request, settings: Settings, company_id: str | None, redirect: str | None
) -> str | HTMLResponse:
    """The company a well-formed link from SR names; for a malformed one, the page explaining it
    (rather than an answer in JSON)."""
    if company_id is None or not _COMPANY_ID.fullmatch(
        company_id
    ):  # fullmatch: `$` would allow a final newline
        return problem_page(
            request,
            settings.integration_name,
            400,
            "This link is not valid",
            "The link does not name a SmartRecruiters company. Please start again from "
            "SmartRecruiters.",
        )
    if not _redirect_allowed(settings, redirect):
        return problem_page(
            request,
            settings.integration_name,
            400,
            "This link is not valid",
            "The return address is not a SmartRecruiters address. Please start again from "
            "SmartRecruiters.",
        )
    return company_id


@router.get(
    "/integration",
    response_class=HTMLResponse,
    summary="Consent page SR opens when an admin clicks Connect",
)
async def consent_page(
    request: Request,
    settings: SettingsDep,
    form_guard: FormGuardDep,
    companyId: Annotated[str | None, Query(description="SmartRecruiters companyId")] = None,
    redirect: Annotated[str | None, Query()] = None,
):
    checked = _checked_link(request, settings, companyId, redirect)
    if isinstance(checked, HTMLResponse):
        return checked
    return _form(request, settings, form_guard, checked, redirect)


@router.post(
    "/integration",
    response_class=HTMLResponse,
    summary="Connect the company with an External Trigger Token",
)
async def submit_consent(
    request: Request,
    settings: SettingsDep,
    form_guard: FormGuardDep,
    connector: ConnectorDep,
    companyId: Annotated[str | None, Form()] = None,
    token: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
    redirect: Annotated[str | None, Form()] = None,
):
    checked = _checked_link(request, settings, companyId, redirect)
    if isinstance(checked, HTMLResponse):
        return checked
    company_id = checked

    def form(status_code: int = 400, **answer) -> HTMLResponse:
        """The form again, with what went wrong."""
        return _form(
            request, settings, form_guard, company_id, redirect, status_code=status_code, **answer
        )

    if not form_guard.check(form_token, request.cookies.get(COOKIE), company_id):
        return form(
            email=email,
            error=(
                "This form has expired or was not opened from SmartRecruiters. Please enter "
                "the token again."
            ),
        )
    token = token.strip()
    try:
        email = str(_EMAIL.validate_python(email.strip()[:320]))
    except ValidationError:
        # What the admin typed stays in the form (the token too, on this no-store page): only
        # the address needs mending.
        return form(
            email=email[:320],
            token=token[:200] or None,
            error="Please enter a valid email address.",
        )
    if not token or len(token) > 200:
        return form(email=email, error="Please enter your External Trigger Token.")
    try:
        connection = await connector.connect(company_id, token, email)
    except ConnectRefused as refusal:
        return form(email=email, error=str(refusal))
    except Exception:  # our own failure: the admin still gets the form, and we get the log
        log.exception("Connect failed for company %s", company_id)
        return form(email=email, status_code=500, error=UNEXPECTED)
    _observe_redirect(settings, redirect)
    try:
        vendor = await connector.vendor_name(connection)
    except Exception:  # the company is connected: a page without the vendor's name, not a 500
        log.exception("The connected company's vendor account could not be read")
        vendor = None
    response = _page(
        request,
        settings.integration_name,
        "connected.html",
        company_id=company_id,
        redirect=redirect,
        # Which vendor the token was for, so an admin connecting several can tell them apart.
        vendor=vendor,
    )
    response.delete_cookie(COOKIE, path="/integration")
    return response
