"""The Checkr simulator's HTTP surface.

- ``/v1/*``: Checkr's API as published (HTTP Basic, API key as user name), request bodies
  checked against the spec, with Checkr's rate limit, idempotency keys and error shape;
- ``/downloads/*``: document links, signed and valid for 15 minutes like Checkr's;
- ``/``, ``/outbox``, ``/apply/{token}``: web pages (pages.py) for a person driving the
  simulator by hand, and the candidate's invitation page;
- ``/_sim/*``: no-auth control API driving the life cycle, faults, the account's variants (the
  documented forms a real account may take) and logs for tests and demos.
Every response carries ``X-Request-Id``.
"""

from __future__ import annotations

import asyncio
import base64
import math
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, with_config
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..docstore import DocumentStore
from ..gateway import CallNext, api_gateway
from ..openapi import ApiDescription
from ..ratelimit import FixedWindowLimiter
from .config import CheckrSimConfig
from .pages import pages
from .state import PACKAGES, Account, CheckrError, Faults, Variants, iso
from .webhooks import DeliveryAttempt, Dispatcher

SPEC = ApiDescription.packaged("checkr-openapi.yaml")
# Kind of the store's documents holding the answers saved under idempotency keys.
_IDEMPOTENCY_KEY = "idempotency_key"
Forward = Callable[[], Awaitable[Response]]


def create_app(config: CheckrSimConfig) -> FastAPI:
    store = DocumentStore(config.database_path)
    account = Account(config, store)
    dispatcher = Dispatcher(
        config.api_key, config.webhook_retry_delays, config.webhook_timeout_seconds, store
    )
    account.on_event = lambda event: dispatcher.publish(
        event,
        [(hook.url, hook.include_object) for hook in account.webhooks.values()],
        account.faults,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            async with dispatcher.running():
                dispatcher.resume()
                yield
        finally:
            store.close()

    app = FastAPI(title="Checkr simulator", lifespan=lifespan)
    app.state.account = account
    app.state.dispatcher = dispatcher
    app.state.limiter = FixedWindowLimiter(config.rate_window_seconds)
    app.state.idempotency = IdempotencyKeys(store)
    app.exception_handler(CheckrError)(_checkr_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.middleware("http")(api_gateway("/v1/", _api_call))
    app.include_router(api)
    app.include_router(files)
    app.include_router(control)
    app.include_router(pages)
    return app


def _account(request: Request) -> Account:
    return request.app.state.account


def _error(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code, headers=headers)


async def _checkr_error(_: Request, exc: CheckrError) -> JSONResponse:
    return _error(exc.status_code, exc.message, exc.headers)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    return _error(exc.status_code, str(exc.detail))


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return _error(400, "; ".join(problems))


# The gate in front of the API: rate limit, injected faults, authentication, idempotency


async def _api_call(request: Request, call_next: CallNext) -> Response:
    account = _account(request)
    config, faults = account.config, account.faults
    if config.public_url is None:
        account.base_url = str(request.base_url).rstrip("/")
    window = request.app.state.limiter.hit(config.api_key, config.rate_limit)
    limited = not window.allowed
    if not limited and faults.rate_limit_next:
        faults.rate_limit_next -= 1
        limited = True
    response: Response
    if limited:
        response = _error(429, "Too Many Requests")
    elif faults.server_error_next:
        faults.server_error_next -= 1
        response = _error(faults.server_error_status, "Internal Server Error")
    elif not _authorized(request, config.api_key):
        response = _error(
            401, "Bad authentication error", {"WWW-Authenticate": 'Basic realm="Checkr"'}
        )
    else:

        async def forward() -> Response:
            if faults.slow_seconds:
                await asyncio.sleep(faults.slow_seconds)  # the "slow answers" fault
            return await call_next(request)

        keys: IdempotencyKeys = request.app.state.idempotency
        response = await keys.call(
            request, forward, account.now(), timedelta(seconds=config.idempotency_ttl_seconds)
        )
    # Checkr: the limit per minute, what is left of it, and when the count starts again.
    response.headers["X-Ratelimit-Limit"] = str(window.limit)
    response.headers["X-Ratelimit-Remaining"] = "0" if limited else str(window.remaining)
    response.headers["X-Ratelimit-Reset"] = datetime.fromtimestamp(
        math.ceil(window.resets_at), UTC
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
    return response


def _authorized(request: Request, api_key: str) -> bool:
    """HTTP Basic with the API key as the user name (the password is empty and not checked)."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user = base64.b64decode(encoded, validate=True).decode().partition(":")[0]
    except ValueError:  # bad base64 or not UTF-8
        return False
    return secrets.compare_digest(user.encode(), api_key.encode())


@with_config(
    ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")
)  # a body need not be text
@dataclass
class _Saved:
    status_code: int
    headers: dict[str, str]
    body: bytes
    expires_at: datetime


class IdempotencyKeys:
    """Checkr's Idempotency-Key on POST: the first 2xx answer is saved and replayed for 24 h;
    a request arriving while another with its key is still being served gets 409. Saved answers
    are in the store: a partner retrying after a restart of the simulator gets the first one."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._in_flight: set[str] = set()

    def clear(self) -> None:
        self._in_flight.clear()
        self._store.clear(_IDEMPOTENCY_KEY)

    async def call(
        self, request: Request, forward: Forward, now: datetime, ttl: timedelta
    ) -> Response:
        key = request.headers.get("idempotency-key")
        if request.method != "POST" or not key:
            return await forward()
        if key in self._in_flight:
            return _error(409, "Another request with this Idempotency-Key is still being processed")
        saved = self._store.record(_IDEMPOTENCY_KEY, key, _Saved)
        if saved is not None and saved.expires_at > now:
            return Response(saved.body, saved.status_code, headers=saved.headers)
        self._in_flight.add(key)
        try:
            response = await forward()
            # call_next answers with Starlette's streaming response, typed as a plain one.
            chunks = response.body_iterator  # type: ignore[attr-defined]
            body = b"".join([chunk async for chunk in chunks])
        finally:
            self._in_flight.discard(key)
        headers = dict(response.headers)
        if 200 <= response.status_code < 300:
            self._store.put_record(
                _IDEMPOTENCY_KEY, key, _Saved(response.status_code, headers, body, now + ttl)
            )
        return Response(body, response.status_code, headers=headers)


# Checkr's API

api = APIRouter(prefix="/v1")


async def _body(request: Request) -> dict[str, Any]:
    """The JSON body, refused with 400 where the published spec refuses it."""
    if "json" not in request.headers.get("content-type", ""):
        raise CheckrError(400, "Send the body as JSON (Content-Type: application/json)")
    try:
        body = await request.json()
    except ValueError:
        raise CheckrError(400, "Body is not valid JSON") from None
    errors = SPEC.request_errors(request.method, request.url.path.removeprefix("/v1"), body)
    if errors:
        raise CheckrError(400, "; ".join(errors))
    return body


def _list(request: Request, items: list[dict], page: int, per_page: int) -> dict[str, Any]:
    start = (page - 1) * per_page
    view: dict[str, Any] = {
        "object": "list",
        "data": items[start : start + per_page],
        "count": len(items),
    }
    here = f"{_account(request).base_url}{request.url.path}"
    if start + per_page < len(items):
        view["next_href"] = f"{here}?page={page + 1}&per_page={per_page}"
    if page > 1:
        view["previous_href"] = f"{here}?page={page - 1}&per_page={per_page}"
    return view


Page = Annotated[int, Query(ge=1)]
PerPage = Annotated[int, Query(ge=1, le=100)]


@api.post("/candidates", status_code=201)
async def create_candidate(request: Request) -> dict:
    account = _account(request)
    return account.candidate_view(account.create_candidate(await _body(request)))


@api.get("/candidates")
async def list_candidates(
    request: Request,
    page: Page = 1,
    per_page: PerPage = 25,
    email: str | None = None,
    custom_id: str | None = None,
) -> dict:
    """The spec's candidate list, with two of its filters (exact matches)."""
    account = _account(request)
    found = [
        account.candidate_view(candidate)
        for candidate in account.candidates.values()
        if (email is None or candidate.fields.get("email") == email)
        and (custom_id is None or candidate.fields.get("custom_id") == custom_id)
    ]
    return _list(request, found, page, per_page)


@api.get("/candidates/{candidate_id}")
async def get_candidate(candidate_id: str, request: Request) -> dict:
    account = _account(request)
    return account.candidate_view(account.candidate(candidate_id))


@api.post("/invitations", status_code=201)
async def create_invitation(request: Request) -> dict:
    account = _account(request)
    return account.invitation_view(account.create_invitation(await _body(request)))


@api.get("/invitations")
async def list_invitations(
    request: Request,
    page: Page = 1,
    per_page: PerPage = 25,
    candidate_id: str | None = None,
    status: str | None = None,
) -> dict:
    """The spec's invitation list, filtered by candidate and status. Deleted ones are left out:
    our assumption, as the spec's single read shows them only with `include_deleted`."""
    account = _account(request)
    found = [
        account.invitation_view(invitation)
        for invitation in (account.invitation(i) for i in list(account.invitations))
        if not invitation.deleted_at
        and (candidate_id is None or invitation.candidate_id == candidate_id)
        and (status is None or invitation.status == status)
    ]
    return _list(request, found, page, per_page)


@api.get("/invitations/{invitation_id}")
async def get_invitation(
    invitation_id: str, request: Request, include_deleted: bool = False
) -> dict:
    account = _account(request)
    return account.invitation_view(account.invitation(invitation_id, include_deleted))


@api.delete("/invitations/{invitation_id}")
async def delete_invitation(invitation_id: str, request: Request) -> dict:
    account = _account(request)
    return account.invitation_view(account.delete_invitation(invitation_id))


@api.get("/packages")
async def list_packages(request: Request, page: Page = 1, per_page: PerPage = 25) -> dict:
    account = _account(request)
    return _list(request, [account.package_view(slug) for slug in PACKAGES], page, per_page)


@api.get("/reports/{report_id}")
async def get_report(report_id: str, request: Request, include: str = "") -> dict:
    account = _account(request)
    return account.report_view(account.report(report_id), frozenset(include.split(",")))


@api.get("/documents/{document_id}")
async def get_document(document_id: str, request: Request) -> dict:
    account = _account(request)
    return account.document_view(account.document(document_id))


@api.post("/webhooks", status_code=201)
async def create_webhook(request: Request) -> dict:
    account, body = _account(request), await _body(request)
    return account.webhook_view(
        account.add_webhook(body["webhook_url"], body.get("include_object", True))
    )


@api.get("/webhooks")
async def list_webhooks(request: Request, page: Page = 1, per_page: PerPage = 25) -> dict:
    account = _account(request)
    return _list(
        request, [account.webhook_view(hook) for hook in account.webhooks.values()], page, per_page
    )


@api.delete("/webhooks/{webhook_id}")
async def delete_webhook(webhook_id: str, request: Request) -> dict:
    account = _account(request)
    return account.webhook_view(account.delete_webhook(webhook_id)) | {
        "deleted_at": iso(account.now())
    }


# Document links

files = APIRouter(include_in_schema=False)


@files.get("/downloads/{document_id}")
async def download(document_id: str, expires: int, signature: str, request: Request) -> Response:
    document = _account(request).download(document_id, expires, signature)
    headers = {"Content-Disposition": f'attachment; filename="{document.filename}"'}
    return Response(document.content, media_type="application/pdf", headers=headers)


# Control API

control = APIRouter(prefix="/_sim", tags=["control"])


class ClockAdvance(BaseModel):
    seconds: float


class CompleteReport(BaseModel):
    result: Literal["clear", "consider"] = "clear"
    assessment: Literal["eligible", "review", "escalated"] | None = None


class Eta(BaseModel):
    estimated_completion_time: datetime


@control.post("/reset")
async def reset(request: Request) -> dict:
    """Forget everything: candidates, webhooks, faults, outbox, logs,
    rate and idempotency counts."""
    _account(request).reset()
    request.app.state.dispatcher.reset()
    request.app.state.limiter.reset()
    request.app.state.idempotency.clear()
    return {"reset": True}


@control.post("/clock/advance")
async def advance_clock(body: ClockAdvance, request: Request) -> dict:
    """Move the simulator's clock on, e.g. past an invitation's or a document link's expiry."""
    return {"now": iso(_account(request).advance_clock(body.seconds))}


@control.get("/candidates")
async def all_candidates(request: Request) -> list[dict]:
    account = _account(request)
    return [account.candidate_view(candidate) for candidate in account.candidates.values()]


@control.get("/invitations")
async def all_invitations(request: Request) -> list[dict]:
    account = _account(request)
    return [account.invitation_view(account.invitation(i)) for i in list(account.invitations)]


@control.post("/invitations/{invitation_id}/complete")
async def candidate_completes(invitation_id: str, request: Request) -> dict:
    """As if the candidate submitted the invitation form: the report is created, pending."""
    account = _account(request)
    return account.invitation_view(account.complete_invitation(invitation_id))


@control.post("/invitations/{invitation_id}/expire")
async def expire_invitation(invitation_id: str, request: Request) -> dict:
    account = _account(request)
    return account.invitation_view(account.expire_invitation(invitation_id))


@control.post("/reports/{report_id}/complete")
async def complete_report(
    report_id: str, request: Request, body: Annotated[CompleteReport | None, Body()] = None
) -> dict:
    """Complete (or, after a dispute, re-complete) the report with the given result."""
    account, body = _account(request), body or CompleteReport()
    return account.report_view(account.complete_report(report_id, body.result, body.assessment))


@control.post("/reports/{report_id}/eta")
async def move_eta(report_id: str, body: Eta, request: Request) -> dict:
    account = _account(request)
    return account.report_view(account.update_eta(report_id, body.estimated_completion_time))


@control.post("/reports/{report_id}/{action}")
async def move_report(
    report_id: str, action: Literal["suspend", "resume", "dispute", "cancel"], request: Request
) -> dict:
    account = _account(request)
    return account.report_view(account.move_report(report_id, action))


@control.get("/outbox")
async def outbox(request: Request, to: str | None = None) -> dict:
    """The emails Checkr "sent", and how many went to each address."""
    account = _account(request)
    emails = [
        vars(email) | {"sent_at": iso(email.sent_at)}
        for email in account.outbox
        if to in (None, email.to)
    ]
    return {"emails": emails, "counts": account.outbox_counts()}


@control.get("/faults")
async def get_faults(request: Request) -> Faults:
    return _account(request).faults


@control.put("/faults")
async def set_faults(body: Faults, request: Request) -> Faults:
    _account(request).faults = body
    return body


@control.get("/variants")
async def get_variants(request: Request) -> Variants:
    return _account(request).variants


@control.put("/variants")
async def set_variants(body: Variants, request: Request) -> Variants:
    """How this account differs from the default: hierarchy nodes, list shapes, revision marks."""
    _account(request).variants = body
    return body


@control.post("/webhooks/release")
async def release_held_events(request: Request) -> dict:
    """Send the events held by the `hold` fault, newest first."""
    return {"released": request.app.state.dispatcher.release()}


@control.get("/events")
async def events(request: Request, type: str | None = None) -> list[dict]:
    return [event for event in _account(request).events if type in (None, event["type"])]


@control.get("/deliveries")
async def deliveries(
    request: Request, event_id: str | None = None, type: str | None = None
) -> list[DeliveryAttempt]:
    attempts: list[DeliveryAttempt] = request.app.state.dispatcher.attempts
    return [a for a in attempts if event_id in (None, a.event_id) and type in (None, a.type)]
