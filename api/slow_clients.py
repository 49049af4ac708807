"""Requests that never finish arriving. Neither h11 nor httptools bounds how long a request may take
to arrive, and uvicorn's keep-alive timeout stops at a connection's first byte, so a client could
hold a connection (and a socket of ours) open for ever with half a request: a few hundred such
clients would exhaust the API. Each request gets `timeout` seconds for its head (request line and
headers) and as many again for its body.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


class RequestHeadDeadline(HttpToolsProtocol):
    """uvicorn's httptools protocol (its default, httptools being installed), closing a connection
    whose next request head is not complete within `head_timeout` seconds of the connection
    opening or of the previous answer."""

    def __init__(self, *args: Any, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timeout = head_timeout
        self._head_overdue: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's
        super().connection_made(transport)
        self._await_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_overdue is not None:
            self._head_overdue.cancel()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        if self._head_overdue is not None:
            self._head_overdue.cancel()
        self._head_overdue = self.loop.call_later(
            self._head_timeout, self._close_unless_a_request_runs
        )

    def _close_unless_a_request_runs(self) -> None:
        self._head_overdue = None
        # A request whose head arrived since has a cycle of its own; its body has BodyDeadline.
        # uvicorn types `cycle` as always set, yet it is None until a first request arrives.
        cycle = cast("RequestResponseCycle | None", self.cycle)
        if cycle is None or cycle.response_complete:
            self.transport.close()


class BodyTooSlow(HTTPException):
    """Raised from `receive` when the body is overdue; FastAPI lets HTTPExceptions from body reading
    through, so api/errors.py answers it in our shape,
    and uvicorn closes the connection after it."""

    def __init__(self, timeout: float) -> None:
        super().__init__(
            408,
            f"The request body did not arrive within {timeout:g} seconds",
            headers={"Connection": "close"},
        )


class BodyDeadline:
    """408 for a body still incomplete `timeout` seconds after its request's head arrived."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout
        body_complete = False

        async def within_deadline() -> Message:
            nonlocal body_complete
            if (
                body_complete
            ):  # later calls wait for the client to disconnect, which may take any time
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow(self.timeout) from None
            body_complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, within_deadline, send)
