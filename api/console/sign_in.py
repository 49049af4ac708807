"""Signing in and out of the console."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from admin.identity import IdentityError
from api.console.pages import render, see_other
from api.console.session import (
    SIGN_IN_COOKIE,
    SIGN_IN_PURPOSE,
    FormDep,
    cookie_name,
    secure,
    session_token,
)
from settings import Settings

router = APIRouter()


def safe_next(wanted: str) -> str:
    """Only a console page of ours: never another site (an open redirect)."""
    if wanted.startswith("/console") and not wanted.startswith("//") and "\\" not in wanted:
        return wanted
    return "/console"


def sso_name(settings: Settings) -> str:
    """The identity provider's name on the *Sign in with …* button; "" when single sign-on is
    off."""
    issuer = settings.console_oidc_issuer
    if not issuer:
        return ""
    return settings.console_oidc_provider_name or urlsplit(issuer).hostname or issuer


def sign_in_page(
    request: Request,
    *,
    next_page: str,
    name: str = "",
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    settings = request.app.state.settings
    form_token, nonce = request.app.state.form_guard.issue(SIGN_IN_PURPOSE)
    page = render(
        request,
        "sign_in.html",
        status_code=status_code,
        form_token=form_token,
        next=safe_next(next_page),
        name=name,
        error=error,
        notice=notice,
        # Only where the repository's published secrets are in use: `make run` on this machine.
        embedded=bool(settings.public_secrets_in_use()),
        sso_name=sso_name(settings),
    )
    page.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        httponly=True,
        secure=secure(settings),
        samesite="strict",
        path="/console",
    )
    return page


def set_session_cookie(answer: Response, settings: Settings, token: str) -> None:
    """The console's session, however the operator signed in (password or single sign-on)."""
    answer.set_cookie(
        cookie_name(settings),
        token,
        max_age=int(settings.console_session_hours * 3600),
        httponly=True,
        secure=secure(settings),
        samesite="lax",
        path="/",
    )


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, next: str = "/console") -> HTMLResponse:
    notice = "You have signed out." if next == "signed-out" else ""
    return sign_in_page(request, next_page=next, notice=notice)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    form_token: Annotated[str, Form(max_length=2048)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/console",
) -> Response:
    guard = request.app.state.form_guard
    if not guard.check(form_token, request.cookies.get(SIGN_IN_COOKIE), SIGN_IN_PURPOSE):
        return sign_in_page(
            request,
            next_page=next,
            name=name,
            error="The sign-in form expired or did not come from this page: try again.",
            status_code=403,
        )
    try:
        signed = await request.app.state.identities.sign_in(name, password)
    except IdentityError as err:
        return sign_in_page(request, next_page=next, name=name, error=str(err), status_code=401)
    answer = see_other(safe_next(next))
    set_session_cookie(answer, request.app.state.settings, signed.token)
    answer.delete_cookie(SIGN_IN_COOKIE, path="/console")
    return answer


@router.post("/sign-out")
async def sign_out(request: Request, actor: FormDep) -> Response:
    settings = request.app.state.settings
    await request.app.state.identities.sign_out(session_token(request), actor)
    answer = see_other("/console/sign-in?next=signed-out")
    answer.delete_cookie(cookie_name(settings), path="/", secure=secure(settings), httponly=True)
    return answer
