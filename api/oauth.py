"""POST /oauth/token: SmartRecruiters exchanges its client credentials for a bearer token."""

from __future__ import annotations

import base64
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from api.deps import TokensDep
from api.openapi import WWW_AUTHENTICATE
from smartrecruiters.models import AccessToken, TokenErrorResponse
from smartrecruiters.observations import observed

router = APIRouter(tags=["SmartRecruiters"])


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    # RFC 6749 §5.2 error body; token responses must not be cached. A 401 is only ever the answer
    # to HTTP Basic, whose scheme the client must be told again.
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="oauth", charset="UTF-8"'
    return JSONResponse(
        TokenErrorResponse(error=error, error_description=description).model_dump(),
        status,
        headers=headers,
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """Client credentials in an HTTP Basic header (RFC 6749 §2.3.1), if present.

    Both parts are form-urlencoded before base64, as the RFC asks. An undecodable header gives
    empty credentials, so the caller answers invalid_client.
    """
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (
        ValueError
    ):  # not base64 (binascii.Error, or non-ASCII characters) or not UTF-8 (UnicodeDecodeError)
        return "", ""
    return unquote_plus(client_id), unquote_plus(secret)


@router.post(
    "/oauth/token",
    response_model=AccessToken,
    responses={
        400: {
            "model": TokenErrorResponse,
            "description": (
                "RFC 6749 §5.2 error: `error` is invalid_request, unsupported_grant_type, or "
                "invalid_client (unknown client or wrong secret, sent in the form body)"
            ),
        },
        401: {
            "model": TokenErrorResponse,
            "description": (
                "RFC 6749 §5.2 error: `error` is invalid_client (unknown client or wrong "
                "secret, sent with HTTP Basic)"
            ),
            "headers": WWW_AUTHENTICATE,
        },
    },
    summary="Issue a bearer token for client credentials",
)
async def issue_token(
    request: Request,
    tokens: TokensDep,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
):
    if grant_type is None:
        return _oauth_error(400, "invalid_request", "grant_type is required")
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
    basic = _basic_credentials(request)
    if basic is not None and (client_secret is not None or client_id not in (None, basic[0])):
        # RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
        # A client_id in the body that repeats the Basic one authenticates nothing, so it may stay.
        return _oauth_error(
            400,
            "invalid_request",
            "use either HTTP Basic or client_id and client_secret in the body, not both",
        )
    if basic is not None:
        presented = basic
    elif client_id and client_secret:
        presented = (client_id, client_secret)
    else:
        return _oauth_error(400, "invalid_request", "client_id and client_secret are required")
    caller = await tokens.authenticate(*presented)
    if caller is not None:  # only a client we know tells us how SR authenticates
        observed(
            "client authentication at our token endpoint",
            "HTTP Basic" if basic is not None else "form body",
        )
    if caller is None:
        # RFC 6749 §5.2: 401 with WWW-Authenticate when the client authenticated with Basic;
        # otherwise 400, the status SR's own description of this endpoint documents.
        return _oauth_error(
            401 if basic is not None else 400, "invalid_client", "unknown client or wrong secret"
        )
    token, expires_in = tokens.issue(caller)
    return JSONResponse(
        AccessToken(access_token=token, expires_in=expires_in).model_dump(),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
