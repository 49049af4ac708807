"""The SmartRecruiters client: result updates and report uploads for orders, and with the
partner's master credentials, the partner configuration and each company's connection.

One client per credential. It caches the client-credentials token until shortly before it
expires and keeps within SR's published limits (10 requests/s, 8 in flight per credential).
It does not retry: the activities calling it own the retry policy (peers.py).
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from origins import origin_allowed
from peers import CallDeferred, PeerError, peer_client, send, steady_limiter
from smartrecruiters.callbacks import OtherCallbackAttachment, attachment_url, callback_origins
from smartrecruiters.oauth import TokenAnswer, token_request
from smartrecruiters.observations import observed
from store.limits import LimitUnavailable, SharedLimit, SharedLimits

PEER = "SmartRecruiters"
ASSESSMENT_API = "/assessment-api/v202010"
# The open point: how SR refuses a company it does not (or no longer) integrate. The spec lists
# 401 and 403 for result updates without saying when; RFC 6749 §5.2 allows 400 or 401 for
# invalid_client at the token endpoint. Each of them is an AccessRefused.
REFUSAL_POINT = "refusal of a company it does not integrate"
# Refresh a token this long before SR says it expires, so no request carries a stale one.
TOKEN_EXPIRY_MARGIN_SECONDS = 30
# SR's spec lists application/json for its merge patch, yet cites RFC 7396, whose type is the other.
PATCH_MEDIA_TYPES = ("application/json", "application/merge-patch+json")
# A shared in-flight slot is leased for twice the request timeout and this much more; the request
# is cut off before its lease runs out, so no slot is ever held by two requests.
LEASE_MARGIN_SECONDS = 5.0


class AccessRefused(PeerError):
    """SR refuses us for the company whose credentials these are: its token endpoint refuses
    them, or the API refuses a fresh token of theirs (401, 403). The company is not connected, or
    was disconnected at SR; no request of ours changes that, only the company or SR can."""


class SmartRecruitersClient:
    def __init__(
        self,
        *,
        base_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        timeout_seconds: float = 10.0,
        requests_per_second: float = 10.0,
        max_in_flight: int = 8,
        attachment_part_name: str = "attachment",
        callback_origins: list[str] | None = None,
        other_callback_attachment: OtherCallbackAttachment = "append",
        patch_media_type: str = PATCH_MEDIA_TYPES[0],
        shared_limits: SharedLimits | None = None,
        limit_wait_seconds: float = 10.0,
    ) -> None:
        self._http = peer_client(base_url=base_url.rstrip("/"), timeout=timeout_seconds)
        self._token_url = token_url
        self._client_id, self._client_secret = client_id, client_secret
        self._attachment_part_name = attachment_part_name
        # Where our bearer token may go besides base_url: the origins of SR's result callbacks.
        self._callback_origins = callback_origins if callback_origins is not None else []
        self._other_callback_attachment: OtherCallbackAttachment = other_callback_attachment
        # The media type SR took last (a 415 switches it), so one refusal costs one extra call.
        self._patch_media_type = patch_media_type
        # Evenly spaced, no burst, one request of headroom: SR counts requests in any one second,
        # and a second can hold both ends of the spacing plus the network's jitter (measured:
        # 12 arrivals in a second at exactly 1/rps spacing; bench.end_to_end).
        paced = max(1.0, requests_per_second - 1)
        self._rate = steady_limiter(paced, 1)
        self._in_flight = asyncio.Semaphore(max_in_flight)
        # The same limits for every process holding this credential (None: this process alone).
        self._shared = shared_limits
        self._shared_subject = f"{PEER}:{client_id}"
        self._shared_limit = SharedLimit(
            interval_seconds=1 / paced,
            capacity=max_in_flight,
            lease_seconds=2 * timeout_seconds + LEASE_MARGIN_SECONDS,
        )
        self._limit_wait = limit_wait_seconds
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def patch_result(
        self, order_id: str, patch: dict, callback_url: str | None = None
    ) -> None:
        """A JSON merge patch (RFC 7396) of the order's result, to SR's resultCallbackURL (None:
        an order received before we kept to it, at /orders/{orderId}/results of SR_BASE_URL)."""
        target = callback_url or f"/orders/{order_id}/results"
        body = json.dumps(patch, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8"
        )  # as httpx's json=
        media_type = self._patch_media_type
        try:
            await self._order_call(
                "result update", "PATCH", target, content=body, headers={"Content-Type": media_type}
            )
        except PeerError as err:
            if err.status != 415:
                raise
            # SR refused this media type: the other one, once; whichever it takes is kept.
            media_type = next(other for other in PATCH_MEDIA_TYPES if other != media_type)
            await self._order_call(
                "result update", "PATCH", target, content=body, headers={"Content-Type": media_type}
            )
        self._patch_media_type = media_type
        observed("the result PATCH's media type", media_type)

    async def upload_attachment(
        self,
        order_id: str,
        filename: str,
        content: bytes,
        content_type: str,
        callback_url: str | None = None,
    ) -> str | None:
        """POST the report to {resultCallbackURL}/attachment (None: to /orders/{orderId}/results/
        attachment of SR_BASE_URL); returns the URL SR keeps the file at, or None when a callback
        of its shape takes no upload (the settings say so)."""
        target = (
            attachment_url(callback_url, self._other_callback_attachment)
            if callback_url
            else f"/orders/{order_id}/results/attachment"
        )
        if target is None:
            return None
        files = {self._attachment_part_name: (filename, content, content_type)}
        response = await self._order_call("attachment upload", "POST", target, files=files)
        return _field(response, "url", "attachment upload")

    async def put_partner_configuration(self, configuration: dict) -> dict:
        """PUT /partner/configuration (master credentials):
        our URLs and supported assessment types."""
        return (
            await self._call(
                "partner configuration", "PUT", "/partner/configuration", json=configuration
            )
        ).json()

    async def get_partner_configuration(self) -> dict | None:
        """GET /partner/configuration (master credentials); None when SR holds none yet."""
        try:
            return (
                await self._call("partner configuration read", "GET", "/partner/configuration")
            ).json()
        except PeerError as err:
            if err.status == 404:
                return None
            raise

    async def integrate_company(
        self, company_id: str, client_id: str, client_secret: str
    ) -> tuple[str, str]:
        """POST /integration/company/{companyId} (master credentials): hand SR the credentials we
        minted for the company; SR answers with the customer credentials we post results with."""
        body = {"clientId": client_id, "clientSecret": client_secret}
        response = await self._call(
            "company integration", "POST", f"/integration/company/{company_id}", json=body
        )
        return _field(response, "clientId", "company integration"), _field(
            response, "clientSecret", "company integration"
        )

    async def _order_call(self, action: str, method: str, path: str, **content) -> httpx.Response:
        """A call about an order with the company's credentials: a 401 (with a fresh token) or a
        403 means SR refuses us for the company (AccessRefused), whatever the request held."""
        try:
            return await self._call(action, method, path, **content)
        except PeerError as err:
            if err.status in (401, 403) and not isinstance(err, AccessRefused):
                observed(REFUSAL_POINT, f"HTTP {err.status} to an order's {action}")
                raise AccessRefused(
                    PEER, str(err).removeprefix(f"{PEER}: "), status=err.status, retryable=False
                ) from None
            raise

    async def _call(self, action: str, method: str, path: str, **content) -> httpx.Response:
        """One call to the assessment API with a bearer token; a refused token is replaced once.

        `path` is under the assessment API of SR_BASE_URL, or an absolute URL SR gave (a result
        callback), which must be on SR_BASE_URL's origin or an allowed callback origin: our
        token never goes anywhere else, whatever an order stored before a setting changed says.
        """
        if "://" in path and not origin_allowed(
            path, [*self._callback_origins, str(self._http.base_url)]
        ):
            raise PeerError(
                PEER,
                f"{action}: the order's result callback is not on an allowed "
                "SmartRecruiters origin",
                retryable=False,
            )
        await self._ensure_token()
        token = self._token
        try:
            return await self._limited(action, self._request(method, path, content))
        except PeerError as err:
            if err.status != 401:
                raise
        # SR revoked or expired the token early. Another call may have replaced it meanwhile;
        # only the token SR refused is dropped.
        if self._token == token:
            self._token = None
        await self._ensure_token()
        return await self._limited(action, self._request(method, path, content))

    def _request(self, method: str, path: str, content: dict) -> httpx.Request:
        url = path if "://" in path else f"{ASSESSMENT_API}{path}"
        headers = {**content.get("headers", {}), "Authorization": f"Bearer {self._token}"}
        return self._http.build_request(method, url, **{**content, "headers": headers})

    async def _limited(self, action: str, request: httpx.Request) -> httpx.Response:
        async with self._in_flight:
            await self._rate.acquire()
            if self._shared is None:
                return await send(PEER, action, self._http, request)
            try:
                async with self._shared.turn(
                    self._shared_subject, self._shared_limit, self._limit_wait
                ):
                    # Ended before the slot's lease does.
                    async with asyncio.timeout(self._shared_limit.lease_seconds - 1):
                        return await send(PEER, action, self._http, request)
            except LimitUnavailable as err:
                raise CallDeferred(PEER, f"{action}: {err}", retry_after=err.retry_after) from None
            except TimeoutError:
                raise PeerError(PEER, f"{action} failed: the request took too long") from None

    async def _ensure_token(self) -> None:
        async with self._token_lock:
            if self._token and time.monotonic() < self._token_expires_at:
                return
            request = token_request(
                self._http, self._token_url, self._client_id, self._client_secret
            )
            try:
                response = await self._limited("token request", request)
            except PeerError as err:
                if err.status in (400, 401):
                    # Our credentials are wrong, or SR no longer integrates their company: the
                    # activities decide how long to try again.
                    observed(REFUSAL_POINT, f"HTTP {err.status} at the token endpoint")
                    raise AccessRefused(
                        PEER, "SmartRecruiters refused our client credentials", status=err.status
                    ) from None
                raise
            answer = TokenAnswer.of(response)
            try:
                expires_in = float((answer.body or {}).get("expires_in", 300))
            except (TypeError, ValueError):
                expires_in = None
            if answer.access_token is None or expires_in is None:
                raise PeerError(PEER, "token response without access_token", retryable=False)
            self._token = answer.access_token
            self._token_expires_at = time.monotonic() + max(
                0.0, expires_in - TOKEN_EXPIRY_MARGIN_SECONDS
            )


def _field(response: httpx.Response, name: str, action: str) -> str:
    try:
        return response.json()[name]
    except (ValueError, KeyError, TypeError) as err:
        raise PeerError(PEER, f"{action} answered without {name}", retryable=False) from err


def smartrecruiters_client(
    settings, client_id: str, client_secret: str, shared_limits: SharedLimits | None
) -> SmartRecruitersClient:
    """A client for one credential, configured from the settings; it keeps SR's limits together
    with every other process using `shared_limits` (unless the settings turn that off; None:
    this process alone)."""
    return SmartRecruitersClient(
        base_url=settings.sr_base_url,
        token_url=settings.sr_token_endpoint,
        client_id=client_id,
        client_secret=client_secret,
        timeout_seconds=settings.sr_timeout_seconds,
        requests_per_second=settings.sr_requests_per_second,
        max_in_flight=settings.sr_max_in_flight,
        attachment_part_name=settings.sr_attachment_part_name,
        callback_origins=callback_origins(settings.sr_callback_origins, settings.sr_base_url),
        other_callback_attachment=settings.sr_other_callback_attachment,
        patch_media_type=settings.sr_patch_media_type,
        shared_limits=shared_limits if settings.sr_shared_limits else None,
        limit_wait_seconds=settings.sr_limit_wait_seconds,
    )
