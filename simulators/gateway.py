"""The middleware in front of the HackerRank, Checkr and TestGorilla simulators: the vendor's own
gate for its API, and an ``X-Request-Id`` on every answer, as the real vendors send."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from fastapi import Request, Response

CallNext = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, CallNext], Awaitable[Response]]


def api_gateway(api_prefix: str, gate: Middleware) -> Middleware:
    """Requests for paths under `api_prefix` go through `gate`; every answer, gated or not
    (pages, files, the control API), gets a fresh request id."""

    async def middleware(request: Request, call_next: CallNext) -> Response:
        if request.url.path.startswith(api_prefix):
            response = await gate(request, call_next)
        else:
            response = await call_next(request)
        response.headers["X-Request-Id"] = uuid.uuid4().hex
        return response

    return middleware
