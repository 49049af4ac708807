"""Result webhooks: POSTed to each invite's `test_result_url` with the partner's chosen credentials.

HackerRank documents only that "when the report is processed the report data will be sent to
this URL" and that the request carries the `webhook_authentication` the partner gave (a bearer
token or basic auth). The body is not published (docs/vendors.md); **our assumption** is
`{id, test_id, email, score, max_score, percentage_score, plagiarism_status, status,
invite_metadata}`, a superset of the fields one real consumer reads. So is the retry policy: each
failed attempt (non-2xx or no answer) is retried after the configured delays.

Fault modes: `drop` loses the push, `duplicate` sends it twice, `delay` sends it late.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from ..delivery import Attempt, Courier

log = logging.getLogger(__name__)

WebhookMode = Literal["deliver", "drop", "duplicate", "delay"]


def authorization(webhook_authentication: dict[str, Any] | None) -> dict[str, str]:
    """The Authorization header the partner asked for (bearer_token or basic_auth)."""
    if not webhook_authentication:
        return {}
    data = webhook_authentication.get("data") or {}
    if webhook_authentication.get("type") == "basic_auth":
        pair = f"{data.get('username', '')}:{data.get('password', '')}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
    return {"Authorization": f"Bearer {data.get('token', '')}"}


class WebhookSender:
    """Sends without blocking the caller; every attempt is recorded for the control API."""

    def __init__(self, retry_delays: tuple[float, ...], timeout_seconds: float) -> None:
        self._courier = Courier(retry_delays, timeout_seconds)
        # Every push decided on (whatever became of it), then every attempt to deliver one.
        self.published: list[dict[str, Any]] = []
        self.attempts: list[dict[str, Any]] = []

    def running(self) -> AbstractAsyncContextManager[None]:
        return self._courier.running()

    def publish(
        self,
        url: str,
        headers: dict[str, str],
        payload: dict[str, Any],
        mode: WebhookMode,
        delay_seconds: float,
    ) -> None:
        candidate_id = payload["id"]
        self.published.append({"candidate_id": candidate_id, "mode": mode, "payload": payload})
        if mode == "drop":
            self._record(candidate_id, copy=1, attempt=None, outcome="dropped")
            return
        for copy in range(1, 3 if mode == "duplicate" else 2):
            self._courier.start(
                self._deliver(
                    url, headers, payload, copy, delay_seconds if mode == "delay" else 0.0
                )
            )

    async def _deliver(
        self, url: str, headers: dict[str, str], payload: dict[str, Any], copy: int, delay: float
    ) -> None:
        if delay:
            await asyncio.sleep(delay)  # the "delay" fault: a late push

        def send(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return client.post(url, json=payload, headers=headers)

        def record(attempt: Attempt) -> None:
            if attempt.outcome != "delivered":
                log.warning(
                    "result webhook for candidate %s, attempt %d failed: %s",
                    payload["id"],
                    attempt.number,
                    attempt.error or f"HTTP {attempt.status_code}",
                )
            self._record(
                payload["id"],
                copy=copy,
                attempt=attempt.number,
                outcome=attempt.outcome,
                status_code=attempt.status_code,
                error=attempt.error,
            )

        await self._courier.deliver(send, record)

    def _record(self, candidate_id: str, **fields: Any) -> None:
        self.attempts.append(
            {
                "candidate_id": candidate_id,
                "at": datetime.now(UTC).isoformat(),
                "status_code": None,
                "error": None,
                **fields,
            }
        )
