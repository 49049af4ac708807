"""Error answers: every refusal names what was wrong, never echoes the input (PII), never a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from temporalio.service import RPCError

from peers import PeerError
from vendors.api_protocol import Refused
from vendors.registry import CompanyDisconnected, UnknownAdapter

log = logging.getLogger("assessments.api")


def _body(message: str, code: str, errors: list[dict] | None = None) -> dict:
    # The shape of SmartRecruiters' ErrorResponse: {message, errors: [{code, message}]}.
    return {"message": message, "errors": errors or [{"code": code, "message": message}]}


def error_response(
    status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Our error answer outside a route (the ASGI middleware of api/limits.py)."""
    return JSONResponse(_body(message, code), status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"] if part != "body") or "body"
            errors.append(
                {"code": "INVALID_FIELD", "field": field, "message": f"{field}: {error['msg']}"}
            )
        return JSONResponse(
            _body(
                "Invalid request: " + "; ".join(e["message"] for e in errors),
                "INVALID_FIELD",
                errors,
            ),
            400,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            _body(str(exc.detail), f"HTTP_{exc.status_code}"), exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RPCError)
    async def temporal_unavailable(_: Request, exc: RPCError) -> JSONResponse:
        log.error("Temporal call failed: %s", exc.status)
        return JSONResponse(
            _body("The service is temporarily unavailable; please retry", "UNAVAILABLE"),
            503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(PeerError)
    async def peer_failed(_: Request, exc: PeerError) -> JSONResponse:
        log.error("%s", exc)
        if not exc.retryable:  # e.g. the vendor refuses the account's key: retrying will not help
            return JSONResponse(
                _body(
                    f"{exc.peer} refused the request; the provider has been told",
                    "UPSTREAM_REFUSED",
                ),
                502,
            )
        return JSONResponse(
            _body(f"{exc.peer} is temporarily unavailable; please retry", "UNAVAILABLE"),
            503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(UnknownAdapter)
    async def misconfigured_vendor_account(_: Request, exc: UnknownAdapter) -> JSONResponse:
        log.error("vendor account unusable: %s", exc)
        return JSONResponse(
            _body(
                "The provider's vendor account is misconfigured; the provider has been told",
                "UPSTREAM_MISCONFIGURED",
            ),
            502,
        )

    @app.exception_handler(Refused)
    async def vendor_api_refusal(_: Request, exc: Refused) -> JSONResponse:
        # The Vendor API's refusals carry codes of their own, which vendors act on.
        return JSONResponse(_body(exc.message, exc.code), exc.status)

    @app.exception_handler(CompanyDisconnected)
    async def company_disconnected(_: Request, exc: CompanyDisconnected) -> JSONResponse:
        return JSONResponse(
            _body("This company has disconnected the integration", "DISCONNECTED"), 403
        )

    @app.exception_handler(DataError)
    async def unstorable_value(_: Request, exc: DataError) -> JSONResponse:
        # The database refused a value from the request (PostgreSQL: a NUL character in a JSON
        # string). Logged by type only: the message quotes the SQL and its parameters.
        log.warning("the store refused a value of the request (%s)", type(exc.orig).__name__)
        return JSONResponse(
            _body("The request holds a value that cannot be stored", "INVALID_VALUE"), 400
        )

    @app.exception_handler(ClientDisconnect)
    async def client_went_away(_: Request, __: ClientDisconnect) -> JSONResponse:
        # Clients and networks drop connections; nobody is left to answer, and nothing is wrong
        # here. Without the path: the Temporal UI's codec path holds its capability.
        log.info("the client closed the connection before sending the whole request")
        return JSONResponse(_body("The request body was not received in full", "HTTP_400"), 400)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # A bug: logged with its type only (the message could carry request data).
        log.error("unexpected %s", type(exc).__name__, exc_info=exc)
        return JSONResponse(_body("Internal error; it has been logged", "INTERNAL"), 500)
