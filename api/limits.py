"""Hostile input refused before any route runs: oversized bodies (413), bodies that stop arriving
(408, api/slow_clients.py), a NUL in the path or query (400), too many attempts at the token
endpoint, the consent page, the console's sign-in or the unauthenticated disconnect from one
address (429).

All pure ASGI middleware, so nothing is parsed, buffered or looked up for a refused request.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable

from aiolimiter import AsyncLimiter
from fastapi import FastAPI, HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.consent import problem_page
from api.errors import error_response
from api.slow_clients import BodyDeadline
from settings import Settings
from vendors.api_protocol import REPORT_BYTES_AT_MOST

TOO_LARGE = "The request body is larger than this service accepts ({limit} bytes)"


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body without a Content-Length grows past the limit; FastAPI
    lets HTTPExceptions from body reading through, so api/errors.py answers it in our shape."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, TOO_LARGE.format(limit=limit), headers={"Connection": "close"})


class BodySizeLimit:
    """413 for a body over `max_bytes`: at once by its Content-Length (never reading it), or as soon
    as a chunked body grows past the limit while the route reads it."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: tuple[tuple[str, str, int], ...] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # (method, path suffix, limit): the few routes that take files.
        self.larger = larger

    def _limit(self, scope: Scope) -> int:
        method, path = scope.get("method", ""), scope.get("path", "")
        return next(
            (limit for m, suffix, limit in self.larger if m == method and path.endswith(suffix)),
            self.max_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            refusal = error_response(
                413,
                TOO_LARGE.format(limit=limit),
                "HTTP_413",
                headers={"Connection": "close"},
            )
            await refusal(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


class NulRefused:
    """400 for a NUL character in the path or the query: never part of an id, a name or a token
    here, and PostgreSQL cannot even compare one (the store would fail with a 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
        ):
            await error_response(
                400, "The request's path or query holds a NUL character", "INVALID_VALUE"
            )(scope, receive, send)
            return
        await self.app(scope, receive, send)


# The guarded routes and their buckets: one bucket per route family and client address, so a
# burst at the consent page never holds up token requests from the same address.
GUARDED: dict[tuple[str, str], str] = {
    ("POST", "/oauth/token"): "token",
    ("GET", "/integration"): "consent",
    ("POST", "/integration"): "consent",
    # Each attempt costs an Argon2 hash: a flood of them would cost the server, not the caller.
    ("POST", "/console/sign-in"): "sign-in",
}
# Routes guarded under a path prefix: SR's DELETE on integrationDisableUrl needs no token, so
# anyone may send it, and each one starts work (a disconnection check).
GUARDED_PREFIXES: dict[tuple[str, str], str] = {
    ("DELETE", "/integrations/companies/"): "disconnect",
}


def guarded_bucket(method: str, path: str) -> str | None:
    """The rate-limit bucket of a request, or None for a route that has none."""
    if (bucket := GUARDED.get((method, path))) is not None:
        return bucket
    return next(
        (
            bucket
            for (m, prefix), bucket in GUARDED_PREFIXES.items()
            if m == method and path.startswith(prefix)
        ),
        None,
    )


# Keys (addresses, accounts) remembered at most; the least recently seen is forgotten first (a
# fresh bucket).
MAX_TRACKED_ADDRESSES = 10_000


class Buckets:
    """Per key, a bucket of `burst` requests refilled evenly at `per_second`. Keys seen least
    lately are forgotten first, so a stream of new keys costs bounded memory."""

    def __init__(self, tracked: int = MAX_TRACKED_ADDRESSES) -> None:
        self._limiters: OrderedDict[Hashable, AsyncLimiter] = OrderedDict()
        self._tracked = tracked

    async def admit(self, key: Hashable, per_second: float, burst: int) -> bool:
        """Whether the key's bucket has a request left (it is taken); False when it is empty."""
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = AsyncLimiter(burst, burst / per_second)
            while len(self._limiters) > self._tracked:
                self._limiters.popitem(last=False)
        self._limiters.move_to_end(key)
        if not limiter.has_capacity():
            return False
        await limiter.acquire()  # has capacity: returns at once
        return True


class AuthRateLimit:
    """Per client address, a bucket of `per_minute` requests (a burst of as many), refilled evenly
    over the minute. Beyond it: 429 with Retry-After, JSON for the token endpoint, the consent
    page's own HTML page for the form."""

    def __init__(self, app: ASGIApp, per_minute: int, integration_name: str) -> None:
        self.app = app
        self.per_minute = per_minute
        self.integration_name = integration_name
        # A full bucket frees one request after 60 / per_minute seconds.
        self.retry_after = str(max(1, math.ceil(60 / per_minute)))
        self._buckets = Buckets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bucket = (
            guarded_bucket(scope.get("method", ""), scope.get("path", ""))
            if scope["type"] == "http"
            else None
        )
        if bucket is None or await self._admit(bucket, scope):
            await self.app(scope, receive, send)
            return
        await self._refusal(bucket, scope)(scope, receive, send)

    async def _admit(self, bucket: str, scope: Scope) -> bool:
        client = scope.get("client")
        key = (bucket, client[0] if client else "")
        return await self._buckets.admit(key, self.per_minute / 60, self.per_minute)

    def _refusal(self, bucket: str, scope: Scope):
        message = "Too many requests from this address; please retry later"
        headers = {"Retry-After": self.retry_after}
        if bucket != "consent":
            return error_response(429, message, "HTTP_429", headers=headers)
        page = problem_page(
            Request(scope),
            self.integration_name,
            429,
            "Too many attempts",
            "Please wait a minute, then start again from SmartRecruiters.",
        )
        page.headers.update(headers)
        return page


def install(app: FastAPI, settings: Settings) -> None:
    """Oversized bodies are refused first, then too many attempts, then NULs
    (add_middleware wraps outwards)."""
    app.add_middleware(NulRefused)
    app.add_middleware(
        AuthRateLimit,
        per_minute=settings.auth_requests_per_minute,
        integration_name=settings.integration_name,
    )
    app.add_middleware(BodyDeadline, timeout=settings.request_read_timeout_seconds)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_bytes,
        # An API vendor's report file (the route checks its path fully).
        larger=(("PUT", "/report", REPORT_BYTES_AT_MOST),),
    )
