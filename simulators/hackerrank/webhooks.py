"""Result webhooks: POSTed to each invite's `test_result_url` with the partner's chosen credentials.

HackerRank documents only that "when the report is processed the report data will be sent to
this URL" and that the request carries the `webhook_authentication` the partner gave (a bearer
token or basic auth). The body is not published (research/vendors.md §13); **our assumption** is
`{id, test_id, email, score, max_score, percentage_score, plagiarism_status, status,
invite_metadata}`, a superset of the fields one real consumer reads. So is the retry policy: each
failed attempt (non-2xx or no answer) is retried after the configured delays.

Fault modes: `drop` loses the push, `duplicate` sends it twice, `delay` sends it late.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any, Literal

import httpx

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
        self._retry_delays = retry_delays
        self._timeout = timeout_seconds
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Every push decided on (whatever became of it), then every attempt to deliver one.
        self.published: list[dict[str, Any]] = []
        self.attempts: list[dict[str, Any]] = []

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            self._client = client
            try:
                yield
            finally:
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                self._client = None

    def publish(self, url: str, headers: dict[str, str], payload: dict[str, Any], mode: WebhookMode, delay_seconds: float) -> None:
        candidate_id = payload["id"]
        self.published.append({"candidate_id": candidate_id, "mode": mode, "payload": payload})
        if mode == "drop":
            self._record(candidate_id, copy=1, attempt=None, outcome="dropped")
            return
        for copy in range(1, 3 if mode == "duplicate" else 2):
            task = asyncio.create_task(self._deliver(url, headers, payload, copy, delay_seconds if mode == "delay" else 0.0))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, headers: dict[str, str], payload: dict[str, Any], copy: int, delay: float) -> None:
        assert self._client is not None, "webhook sender is not running"
        if delay:
            await asyncio.sleep(delay)  # the "delay" fault: a late push
        waits: tuple[float | None, ...] = (*self._retry_delays, None)
        for attempt, wait in enumerate(waits, start=1):
            try:
                response = await self._client.post(url, json=payload, headers=headers)
                status, error = response.status_code, None
            except httpx.HTTPError as err:
                status, error = None, type(err).__name__
            delivered = status is not None and 200 <= status < 300
            outcome = "delivered" if delivered else "gave_up" if wait is None else "retrying"
            if not delivered:
                log.warning("result webhook for candidate %s, attempt %d failed: %s", payload["id"], attempt, error or f"HTTP {status}")
            self._record(payload["id"], copy=copy, attempt=attempt, outcome=outcome, status_code=status, error=error)
            if wait is None or delivered:
                return
            await asyncio.sleep(wait)  # the retry schedule

    def _record(self, candidate_id: str, **fields: Any) -> None:
        self.attempts.append({"candidate_id": candidate_id, "at": datetime.now(timezone.utc).isoformat(), "status_code": None, "error": None, **fields})
