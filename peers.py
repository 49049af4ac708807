"""How a failed call to another system (SmartRecruiters, a vendor) is classified.

Shared by the SmartRecruiters client and the vendor adapters so that activities turn every
peer failure into the same retry decision: a peer's 4xx is final, a 408, 409, 429 or 5xx is
retried, after its Retry-After when it sends one.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Callable
from datetime import UTC, datetime

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
