"""Who is signed in to the console, and the checks every console page and form makes.

A session is a random token in an HttpOnly cookie (Secure, and `__Host-` named, when the hub is
served over HTTPS), its keyed hash in the store: signing out or disabling an operator ends it at
once. Every form that changes something carries a CSRF token derived from the session's token
(HMAC under the token signing key), so a page of another site cannot post one; the sign-in form,
before any session, carries a signed token bound to a cookie nonce instead (`FormGuard`).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, Request

from admin.audit import Actor
from admin.identity import Identities
from settings import Settings

SIGN_IN_PURPOSE = "console-sign-in"
SIGN_IN_COOKIE = "console_sign_in"


class SignInNeeded(Exception):
    """The page needs a signed-in operator: the console answers with the sign-in page."""


class Refused(Exception):
    """A console request refused, with a message safe to show and its status code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def secure(settings: Settings) -> bool:
    return urlsplit(settings.public_url).scheme == "https"


def cookie_name(settings: Settings) -> str:
    # `__Host-`: the browser keeps it only if Secure, for this host alone and path /.
    return "__Host-console" if secure(settings) else "console_session"


def csrf_token(settings: Settings, session_token: str) -> str:
    key = settings.token_signing_key.get_secret_value().encode()
    return hmac.new(key, b"console-csrf\0" + session_token.encode(), hashlib.sha256).hexdigest()


def _identities(request: Request) -> Identities:
    return request.app.state.identities


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def session_token(request: Request) -> str:
    return request.cookies.get(cookie_name(_settings(request)), "")


async def signed_in(request: Request) -> Actor:
    """Dependency of every console page: the signed-in operator, or the sign-in page."""
    token = session_token(request)
    actor = await _identities(request).session(token) if token else None
    if actor is None:
        raise SignInNeeded()
    request.state.actor = actor
    request.state.csrf = csrf_token(_settings(request), token)
    return actor


SignedInDep = Annotated[Actor, Depends(signed_in)]


async def form_checked(
    actor: SignedInDep, request: Request, csrf: Annotated[str, Form()] = ""
) -> Actor:
    """Dependency of every console form that posts: the form came from our page in this
    session."""
    if not hmac.compare_digest(csrf.encode(), request.state.csrf.encode()):
        raise Refused(
            403, "This form has expired or did not come from the console: open the page again."
        )
    return actor


async def operator_form(actor: Annotated[Actor, Depends(form_checked)]) -> Actor:
    """Dependency of every form that changes something: a signed-in operator whose role allows
    it."""
    if not actor.may_change:
        raise Refused(
            403, f"{actor.name} may read only (role viewer): ask an operator with role operator."
        )
    return actor


FormDep = Annotated[Actor, Depends(form_checked)]
OperatorFormDep = Annotated[Actor, Depends(operator_form)]
