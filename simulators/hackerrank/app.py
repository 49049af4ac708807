"""The HackerRank for Work v3 simulator's HTTP surface.

- `/x/api/v3/*`: the partner API, as the published Swagger describes it (see spec.py);
- `/_files/reports/{token}.pdf`: the short-lived PDF links `pdf?format=url` hands out;
- `/`, `/outbox`, `/tests/{unique_id}/login`: web pages for a person (pages.py): the
  candidates with buttons for their next moves, the sent emails, and the candidate's test page;
- `/_sim/*`: no-auth control API for tests and demos: drive the candidate, read the outbox,
  the webhook attempts and the API exchanges, switch faults.

Auth: HTTP Basic with the API key as user name (empty password), `Authorization: Bearer <key>`,
or the older `access_token` query parameter; anything else is 401.

Rate limit: HackerRank recommends up to 10 requests per second and answers 429 above; it says
its headers carry "the rate-limit value and time until reset" but not their names. **Our
assumption**: `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until
the window resets) on every API answer, and `Retry-After` (seconds) on a 429, which the faults
can switch off. Every answer carries `X-Request-Id`. Errors are JSON `{"message", "errors"}`
(the shape is not published either).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..docstore import DocumentStore
from ..gateway import CallNext, api_gateway
from ..ratelimit import FixedWindowLimiter, WindowState
from .catalog import TESTS, test_view
from .config import HackerRankSimConfig
from .pages import pages
from .service import Account, Faults, SimError
from .spec import hackerrank_api
from .webhooks import WebhookMode, WebhookSender

API_PREFIX = "/x/api/v3"
MAX_LIMIT = 100
EXCHANGES_KEPT = 2000


def create_app(config: HackerRankSimConfig) -> FastAPI:
    webhooks = WebhookSender(config.webhook_retry_delays, config.webhook_timeout_seconds)
    store = DocumentStore(config.database_path)
    account = Account(
        report_delay_seconds=config.report_delay_seconds,
        pdf_link_seconds=config.pdf_link_seconds,
        webhooks=webhooks,
        store=store,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with webhooks.running():
            account.resume_reports()
            try:
                yield
            finally:
                await account.close()
                store.close()

    app = FastAPI(title="HackerRank for Work v3 (simulator)", lifespan=lifespan)
    app.state.config = config
    app.state.account = account
    app.state.limiter = FixedWindowLimiter(1.0)
    app.state.exchanges = deque(maxlen=EXCHANGES_KEPT)
    app.middleware("http")(api_gateway(API_PREFIX, _api_call))
    app.exception_handler(SimError)(_sim_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.include_router(api)
    app.include_router(files)
    app.include_router(control)
    app.include_router(pages)
    return app


def _account(request: Request) -> Account:
    return request.app.state.account


def _base_url(request: Request) -> str:
    return (request.app.state.config.public_url or str(request.base_url)).rstrip("/")


AccountDep = Annotated[Account, Depends(_account)]
BaseUrl = Annotated[str, Depends(_base_url)]


def _error(
    status: int,
    message: str,
    errors: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"message": message, "errors": errors or []}, status_code=status, headers=headers
    )


async def _sim_error(_: Request, exc: SimError) -> JSONResponse:
    return _error(exc.status, exc.message, exc.errors)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Unknown paths and methods, in the same error shape as everything else."""
    return _error(exc.status_code, str(exc.detail), headers=exc.headers)


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        f"{'.'.join(str(p) for p in e['loc'] if p not in ('body', 'query'))}: {e['msg']}"
        for e in exc.errors()
    ]
    return _error(400, "Invalid request", errors)


# The gate in front of the API: auth, faults, the rate limit, and the record of API exchanges


async def _api_call(request: Request, call_next: CallNext) -> Response:
    config: HackerRankSimConfig = request.app.state.config
    faults: Faults = request.app.state.account.faults
    if faults.slow_seconds:
        await asyncio.sleep(faults.slow_seconds)  # the "slow answers" fault
    request_body = await request.body()
    if not _authorised(request, config.api_key):
        response: Response = _error(
            401,
            "Invalid or missing API key",
            headers={"WWW-Authenticate": 'Basic realm="HackerRank"'},
        )
    else:
        window = request.app.state.limiter.hit(config.api_key, config.requests_per_second)
        if faults.rate_limit_next > 0:
            faults.rate_limit_next -= 1
            window = replace(window, allowed=False, remaining=0)
        headers = _rate_headers(window)
        if not window.allowed:
            if faults.retry_after:
                headers["Retry-After"] = str(window.seconds_to_reset)
            response = _error(
                429, f"Rate limit exceeded: up to {config.requests_per_second} requests per second"
            )
        elif faults.server_error_next > 0:
            faults.server_error_next -= 1
            response = _error(500, "Internal server error")
        else:
            response = await _buffered(await call_next(request))
        response.headers.update(headers)
    request.app.state.exchanges.append(_exchange(request, request_body, response))
    return response


def _authorised(request: Request, api_key: str) -> bool:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    presented = request.query_params.get("access_token", "")
    if scheme.lower() == "bearer":
        presented = credential.strip()
    elif scheme.lower() == "basic":
        try:
            presented = (
                base64.b64decode(credential.strip(), validate=True).decode().partition(":")[0]
            )
        except (binascii.Error, UnicodeDecodeError):
            return False
    return bool(presented) and secrets.compare_digest(presented.encode(), api_key.encode())


def _rate_headers(window: WindowState) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(window.limit),
        "X-RateLimit-Remaining": str(window.remaining),
        "X-RateLimit-Reset": str(window.seconds_to_reset),
    }


async def _buffered(response: Response) -> Response:
    """The handler's streamed answer as one body, so the exchange can be recorded."""
    body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(body, status_code=response.status_code, headers=headers)


def _exchange(request: Request, request_body: bytes, response: Response) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.url.path,
        "query": dict(request.query_params),
        "request": _json_or_text(request_body),
        "status": response.status_code,
        "content_type": response.headers.get("content-type", ""),
        "response": _json_or_text(bytes(response.body))
        if "json" in response.headers.get("content-type", "")
        else None,
    }


def _json_or_text(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


# Partner API

api = APIRouter(prefix=API_PREFIX)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0)]


def _page(
    request: Request, base_url: str, items: list[dict[str, Any]], limit: int, offset: int
) -> dict[str, Any]:
    """HackerRank's list envelope; `next`/`previous` are empty at the ends."""
    total = len(items)

    query = {
        key: value for key, value in request.query_params.items() if key != "access_token"
    }  # never echo the key

    def link(at: int) -> str:
        return f"{base_url}{request.url.path}?{urlencode({**query, 'limit': limit, 'offset': at})}"

    data = items[offset : offset + limit]
    return {
        "data": data,
        "page_total": len(data),
        "offset": offset,
        "previous": link(max(0, offset - limit)) if offset > 0 else "",
        "next": link(offset + limit) if offset + limit < total else "",
        "first": link(0),
        "last": link(max(0, (total - 1) // limit * limit)),
        "total": str(total),  # a string, as the published schema types it
    }


@api.get("/tests")
async def list_tests(
    request: Request, base_url: BaseUrl, limit: Limit = 10, offset: Offset = 0
) -> dict[str, Any]:
    return _page(request, base_url, [test_view(test) for test in TESTS.values()], limit, offset)


@api.get("/tests/{test_id}")
async def get_test(
    test_id: str, account: AccountDep, additional_fields: str = ""
) -> dict[str, Any]:
    return test_view(account.test(test_id), _names(additional_fields))


def _names(additional_fields: str) -> frozenset[str]:
    """`additional_fields`: comma separated field names."""
    return frozenset(name.strip() for name in additional_fields.split(",") if name.strip())


@api.post("/tests/{test_id}/candidates")
async def invite_candidate(
    test_id: str, request: Request, account: AccountDep, base_url: BaseUrl
) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise SimError(400, "Invalid request", ["(body): not JSON"]) from None
    errors = hackerrank_api().request_errors("POST", request.url.path, body)
    if errors:
        raise SimError(400, "Invalid request", errors)
    record = account.invite(test_id, body, base_url)
    return {
        "id": record.id,
        "email": record.email,
        "test_link": account.test_link(record, base_url),
    }


@api.get("/tests/{test_id}/candidates/search")
async def search_candidates(
    test_id: str,
    request: Request,
    account: AccountDep,
    base_url: BaseUrl,
    search: str,
    limit: Limit = 10,
    offset: Offset = 0,
) -> dict[str, Any]:
    found = [account.search_row(record, base_url) for record in account.search(test_id, search)]
    return _page(request, base_url, found, limit, offset)


@api.get("/tests/{test_id}/candidates/{candidate_id}")
async def get_candidate(
    test_id: str,
    candidate_id: str,
    account: AccountDep,
    base_url: BaseUrl,
    additional_fields: str = "",
) -> dict[str, Any]:
    return account.view(
        account.candidate(test_id, candidate_id), base_url, _names(additional_fields)
    )


@api.get("/tests/{test_id}/candidates/{candidate_id}/pdf", response_model=None)
async def get_pdf(
    test_id: str,
    candidate_id: str,
    account: AccountDep,
    base_url: BaseUrl,
    format: str | None = None,
) -> Response:
    """503 until the report is ready; `format=url` answers a short-lived link as plain text."""
    record = account.candidate(test_id, candidate_id)
    if format == "url":
        return PlainTextResponse(account.pdf_link(record, base_url))
    return Response(account.pdf(record), media_type="application/pdf")


@api.delete("/tests/{test_id}/candidates/{candidate_id}/invite")
async def cancel_invite(test_id: str, candidate_id: str, account: AccountDep) -> dict[str, Any]:
    record = account.cancel(test_id, candidate_id)
    return {"id": str(record.id), "email": record.email, "status": record.status}


# The links the partner API hands out

files = APIRouter(include_in_schema=False)


@files.get("/_files/reports/{token}.pdf")
async def download_pdf(token: str, account: AccountDep) -> Response:
    return Response(account.pdf_by_link(token), media_type="application/pdf")


# Control API

control = APIRouter(prefix="/_sim", tags=["control"])


class Submission(BaseModel):
    """`score` out of the test's maximum; or `skill_scores`, a percentage for each of the test's
    skills, whose weighted combination makes the score (simulators/hackerrank/skills.py)."""

    score: float | None = None
    skill_scores: dict[str, float] | None = None
    integrity_status: str | None = None
    integrity_summary: str | None = None


class Rescore(BaseModel):
    score: float | None = None
    skill_scores: dict[str, float] | None = None


class FaultSwitches(BaseModel):
    """Any subset; unnamed switches keep their value."""

    rate_limit_next: int | None = None
    server_error_next: int | None = None
    slow_seconds: float | None = None
    retry_after: bool | None = None
    webhook: WebhookMode | None = None
    webhook_delay_seconds: float | None = None
    search_row_omits: list[str] | None = None


@control.get("/candidates")
async def control_candidates(
    account: AccountDep, base_url: BaseUrl, email: str | None = None
) -> list[dict[str, Any]]:
    return [
        account.view(c, base_url, None)
        for c in account.candidates.values()
        if email is None or c.email.lower() == email.lower()
    ]


@control.post("/candidates/{candidate_id}/start")
async def control_start(
    candidate_id: int, account: AccountDep, base_url: BaseUrl
) -> dict[str, Any]:
    """As if the candidate opened the test and began the attempt."""
    return account.view(account.start(candidate_id), base_url, None)


@control.post("/candidates/{candidate_id}/submit")
async def control_submit(
    candidate_id: int, body: Submission, account: AccountDep, base_url: BaseUrl
) -> dict[str, Any]:
    """The candidate hands in with this score; the report is ready
    (status 7) after the report delay."""
    record = account.submit(
        candidate_id,
        body.score,
        body.integrity_status,
        body.integrity_summary,
        body.skill_scores,
    )
    return account.view(record, base_url, None)


@control.post("/candidates/{candidate_id}/report")
async def control_report(
    candidate_id: int, account: AccountDep, base_url: BaseUrl
) -> dict[str, Any]:
    """Finish the report now (status 7, result pushed), whatever the report delay."""
    return account.view(account.finish_report(candidate_id), base_url, None)


@control.post("/candidates/{candidate_id}/expire")
async def control_expire(
    candidate_id: int, account: AccountDep, base_url: BaseUrl
) -> dict[str, Any]:
    return account.view(account.expire(candidate_id), base_url, None)


@control.post("/candidates/{candidate_id}/rescore")
async def control_rescore(
    candidate_id: int, body: Rescore, account: AccountDep, base_url: BaseUrl
) -> dict[str, Any]:
    """A later score change; pushed again when the invite asked for `accept_result_updates`."""
    record = account.rescore(candidate_id, body.score, body.skill_scores)
    return account.view(record, base_url, None)


@control.get("/outbox")
async def control_outbox(account: AccountDep, to: str | None = None) -> dict[str, Any]:
    emails = [e for e in account.outbox if to is None or e["to"].lower() == to.lower()]
    return {"count": len(emails), "emails": emails}


@control.get("/webhooks")
async def control_webhooks(account: AccountDep, candidate_id: str | None = None) -> dict[str, Any]:
    """The pushes decided on (recorded at once,
    even when dropped) and the delivery attempts so far."""

    def wanted(entry: dict[str, Any]) -> bool:
        return candidate_id is None or entry["candidate_id"] == candidate_id

    sender = account.webhooks
    return {
        "published": [p for p in sender.published if wanted(p)],
        "attempts": [a for a in sender.attempts if wanted(a)],
    }


@control.get("/requests")
async def control_requests(request: Request) -> list[dict[str, Any]]:
    """The partner API exchanges, oldest first (for contract tests)."""
    return list(request.app.state.exchanges)


@control.get("/faults")
async def get_faults(account: AccountDep) -> dict[str, Any]:
    return asdict(account.faults)


@control.post("/faults")
async def set_faults(body: FaultSwitches, account: AccountDep) -> dict[str, Any]:
    switches = body.model_dump(exclude_none=True)
    if "search_row_omits" in switches:
        switches["search_row_omits"] = tuple(switches["search_row_omits"])
    account.faults = replace(account.faults, **switches)
    return asdict(account.faults)


@control.delete("/faults")
async def reset_faults(account: AccountDep) -> dict[str, Any]:
    account.faults = Faults()
    return asdict(account.faults)
