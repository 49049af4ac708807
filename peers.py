"""Calls to other systems (SmartRecruiters, a vendor): the HTTP client they take, and how a
failed call is classified.

Shared by the SmartRecruiters client and the vendor adapters so that activities turn every
peer failure into the same retry decision: a peer's 4xx is final, a 408, 409, 429 or 5xx is
retried, after its Retry-After when it sends one.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ssl
import urllib.request
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx
from aiolimiter import AsyncLimiter

# How long a refusing peer asks us to wait, read from its response; vendors spell it differently.
WaitHint = Callable[[httpx.Response], "float | None"]
# What a refusing peer says it refused, in our own words (never quoting the body, which may hold
# PII): e.g. "it refused the candidate's first name"; None when it does not say.
Refusal = Callable[[httpx.Response], "str | None"]

# 408 Request Timeout, 409 Conflict and 429 Too Many Requests may succeed when tried again;
# any other 4xx means the request itself is wrong.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 409, 429})


# The types of the ApplicationErrors our activities raise for a PeerError. Their messages are
# ours (the peer, the action, an HTTP status; never a body), so log lines may keep them.
PEER_REJECTED = "PeerRejected"
PEER_UNAVAILABLE = "PeerUnavailable"
CREDENTIALS_REFUSED = "VendorCredentialsRefused"
# A vendor answered 404 for an invitation of ours: its records may be lost, or the account's key
# may be another account's. Never taken as a cancellation: the workflow decides what it means.
INVITATION_UNKNOWN = "VendorInvitationUnknown"


class PeerError(Exception):
    """A call to a peer failed. The message never carries request or response bodies (PII)."""

    def __init__(
        self,
        peer: str,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = True,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{peer}: {message}")
        self.peer = peer
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class CallDeferred(PeerError):
    """We did not call the peer: our own budget for it is spent for `retry_after` seconds.

    Expected under load (polling a vendor with strict limits), so it is not reported as a failure.
    """


# The longest wait a peer's Retry-After gets: the header is the peer's to write, and thousands of
# digits would otherwise make a wait no timer can hold (the retry would crash, not wait).
MAX_RETRY_AFTER_SECONDS = 86400.0


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date (RFC 9110 §10.2.3),
    at most a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(0.0, (when - datetime.now(UTC)).total_seconds()), MAX_RETRY_AFTER_SECONDS)


def retry_after_header(response: httpx.Response) -> float | None:
    return retry_after_seconds(response.headers.get("Retry-After"))


def raise_for_status(
    peer: str,
    response: httpx.Response,
    action: str,
    wait_hint: WaitHint = retry_after_header,
    refusal: Refusal | None = None,
) -> None:
    """Raise a classified PeerError unless the response is a success."""
    if response.is_success:
        return
    status = response.status_code
    retryable = status >= 500 or status in RETRYABLE_CLIENT_ERRORS
    refused = refusal(response) if refusal and 400 <= status < 500 else None
    raise PeerError(
        peer,
        f"{action} answered HTTP {status}" + (f": {refused}" if refused else ""),
        status=status,
        retryable=retryable,
        retry_after=wait_hint(response),
    )


async def send(
    peer: str,
    action: str,
    client: httpx.AsyncClient,
    request: httpx.Request,
    wait_hint: WaitHint = retry_after_header,
    refusal: Refusal | None = None,
) -> httpx.Response:
    """Send a request; transport failures (timeouts, refused connections) are retryable."""
    try:
        response = await client.send(request)
    except httpx.TransportError as err:
        raise PeerError(peer, f"{action} failed: {type(err).__name__}") from err
    raise_for_status(peer, response, action, wait_hint, refusal)
    return response


# aiohttp's failures as the httpx errors our callers classify, the most specific first: a refused
# connection is a ConnectError, a timeout says which phase timed out.
_TRANSPORT_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientConnectionError, httpx.ReadError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientError, httpx.NetworkError),
    (TimeoutError, httpx.PoolTimeout),
)


def _as_httpx_error(err: Exception) -> httpx.TransportError | None:
    return next(
        (ours(type(err).__name__) for theirs, ours in _TRANSPORT_ERRORS if isinstance(err, theirs)),
        None,
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every peer session of the process, as httpx builds it (certifi's CAs,
    or SSL_CERT_FILE): building one loads the CA bundle, 30 ms of CPU each time."""
    return httpx.create_ssl_context()


class _AiohttpBody(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except Exception as err:
            if (mapped := _as_httpx_error(err)) is None:
                raise
            raise mapped from err

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx's requests sent by aiohttp, whose HTTP/1.1 client costs a fifth of httpcore's CPU
    per request (0.4 ms against 2 ms, measured with small JSON bodies). Callers keep httpx's
    API: its requests, responses, errors, auth, redirects and decoding. aiohttp keeps no cookies
    (httpx does) and, like httpx, takes proxies and certificate files from the environment.
    (The httpx-aiohttp package does this too, but reports a refused connection as a timeout.)"""

    def __init__(self, keepalive_seconds: float, max_connections: int) -> None:
        self._keepalive = keepalive_seconds
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _opened(self) -> aiohttp.ClientSession:
        # Made at the first request: a session belongs to the event loop that runs it.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections,
                    keepalive_timeout=self._keepalive,
                    ssl=_tls_context(),
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                # aiohttp reads the environment's proxies (and ~/.netrc) at every request when
                # it trusts the environment: 5 % of the worker's CPU. Only where proxies are set.
                trust_env=bool(urllib.request.getproxies()),
                auto_decompress=False,  # httpx decodes, as with its own transport
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout: dict[str, Any] = request.extensions.get("timeout", {})
        body = await request.aread()
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if name.lower() != "transfer-encoding"  # the body is whole: aiohttp frames it
        ]
        try:
            response = await self._opened().request(
                request.method,
                str(request.url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        except Exception as err:
            if (mapped := _as_httpx_error(err)) is None:
                raise
            raise mapped from err
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_AiohttpBody(response),
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode(),
            },
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


# Called with each client peer_client makes (telemetry adds its tracing here).
_new_client_hooks: list[Callable[[httpx.AsyncClient], None]] = []


def on_new_peer_client(hook: Callable[[httpx.AsyncClient], None]) -> None:
    _new_client_hooks.append(hook)


# Idle connections are dropped before common servers drop theirs (uvicorn and Node after 5 s), so a
# request rarely leaves on a connection its server is closing.
KEEPALIVE_SECONDS = 4.0


def peer_client(
    *,
    keepalive_seconds: float = KEEPALIVE_SECONDS,
    max_connections: int = 100,
    transport: httpx.AsyncBaseTransport | None = None,
    **options: Any,
) -> httpx.AsyncClient:
    """An httpx client for calls to SmartRecruiters and vendors, sent through aiohttp
    (AiohttpTransport) unless a test gives a transport; `options` are httpx.AsyncClient's."""
    client = httpx.AsyncClient(
        transport=transport or AiohttpTransport(keepalive_seconds, max_connections),
        **options,
    )
    for hook in _new_client_hooks:
        hook(client)
    return client


def steady_limiter(requests: float, per_seconds: float) -> AsyncLimiter:
    """At most `requests` per `per_seconds`, evenly spaced:
    no burst above a peer's published rate."""
    return AsyncLimiter(1, per_seconds / requests)


# A call waits this long at most for our own rate budget (well inside an activity's timeout).
BUDGET_WAIT_SECONDS = 5.0


async def take_turn(
    limiter: AsyncLimiter, peer: str, action: str, max_wait: float = BUDGET_WAIT_SECONDS
) -> None:
    """Wait for our rate budget, but not for long: a call that would wait more is deferred
    (CallDeferred, retried later), so no activity sits in a queue past its timeout."""
    try:
        await asyncio.wait_for(limiter.acquire(), max_wait)
    except TimeoutError:
        raise CallDeferred(
            peer, f"{action}: our request budget is used up for now", retry_after=max_wait
        ) from None
