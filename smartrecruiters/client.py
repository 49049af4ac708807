"""The SmartRecruiters client: result updates and report uploads for orders.

One client per credential. It caches the client-credentials token until shortly before it
expires and keeps within SR's published limits (10 requests/s, 8 in flight per credential).
It does not retry: the activities calling it own the retry policy (DESIGN §5 "Errors").
"""

from __future__ import annotations

import asyncio
import time

import httpx
from aiolimiter import AsyncLimiter

from peers import PeerError, send

PEER = "SmartRecruiters"
ASSESSMENT_API = "/assessment-api/v202010"
# Refresh a token this long before SR says it expires, so no request carries a stale one.
TOKEN_EXPIRY_MARGIN_SECONDS = 30


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
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_seconds)
        self._token_url = token_url
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._attachment_part_name = attachment_part_name
        # One request per 1/rps seconds, with no burst: SR counts requests in any one second.
        self._rate = AsyncLimiter(1, 1 / requests_per_second)
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def patch_result(self, order_id: str, patch: dict) -> None:
        """PATCH /orders/{orderId}/results with a JSON merge patch (RFC 7396)."""
        await self._call(
            "result update",
            lambda: self._http.build_request(
                "PATCH",
                f"{ASSESSMENT_API}/orders/{order_id}/results",
                json=patch,
                headers={"Authorization": f"Bearer {self._token}"},
            ),
        )

    async def upload_attachment(self, order_id: str, filename: str, content: bytes, content_type: str) -> str:
        """POST /orders/{orderId}/results/attachment; returns the URL SR keeps the file at."""
        response = await self._call(
            "attachment upload",
            lambda: self._http.build_request(
                "POST",
                f"{ASSESSMENT_API}/orders/{order_id}/results/attachment",
                files={self._attachment_part_name: (filename, content, content_type)},
                headers={"Authorization": f"Bearer {self._token}"},
            ),
        )
        try:
            return response.json()["url"]
        except (ValueError, KeyError, TypeError) as err:
            raise PeerError(PEER, "attachment upload answered without a url", retryable=False) from err

    async def _call(self, action: str, build) -> httpx.Response:
        await self._ensure_token()
        token = self._token
        try:
            return await self._limited(action, build())
        except PeerError as err:
            if err.status != 401:
                raise
        # SR revoked or expired the token early: fetch a new one once, then give up. Another
        # call may have replaced it meanwhile; only the token SR refused is dropped.
        if self._token == token:
            self._token = None
        await self._ensure_token()
        return await self._limited(action, build())

    async def _limited(self, action: str, request: httpx.Request) -> httpx.Response:
        async with self._in_flight:
            await self._rate.acquire()
            return await send(PEER, action, self._http, request)

    async def _ensure_token(self) -> None:
        async with self._token_lock:
            if self._token and time.monotonic() < self._token_expires_at:
                return
            request = self._http.build_request("POST", self._token_url, data={"grant_type": "client_credentials", **self._credentials})
            try:
                response = await self._limited("token request", request)
            except PeerError as err:
                if err.status in (400, 401):
                    # Our credentials are wrong: retried, so orders resume once an operator fixes them.
                    raise PeerError(PEER, "SmartRecruiters refused our client credentials", status=err.status) from None
                raise
            try:
                body = response.json()
                self._token = body["access_token"]
                expires_in = float(body.get("expires_in", 300))
            except (ValueError, KeyError, TypeError) as err:
                raise PeerError(PEER, "token response without access_token", retryable=False) from err
            self._token_expires_at = time.monotonic() + max(0.0, expires_in - TOKEN_EXPIRY_MARGIN_SECONDS)
