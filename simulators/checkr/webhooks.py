"""Checkr's webhook deliveries: signed with the API key, at least once, in no promised order.

Signature: ``X-Checkr-Signature`` = hex HMAC-SHA256 of the raw (compact JSON) body, keyed with
the account's API key. No timestamp is signed, so receivers deduplicate by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from .state import Faults

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Checkr-Signature"
USER_AGENT = "Checkr-Webhook/1.0"

DeliveryOutcome = Literal["delivered", "retrying", "gave_up", "dropped", "held"]


def sign(api_key: str, body: bytes) -> str:
    return hmac.new(api_key.encode(), body, hashlib.sha256).hexdigest()


class DeliveryAttempt(BaseModel):
    """One attempt to deliver one copy of an event to one URL, for the control API."""

    event_id: str
    type: str
    url: str
    copy_number: int  # 2 for the second copy of a duplicated event
    attempt: int | None  # 1-based; None when the event was dropped or held
    status_code: int | None = None
    error: str | None = None
    outcome: DeliveryOutcome
    at: datetime


class Dispatcher:
    """Sends each event to every registered URL in its own task, retrying on failure."""

    def __init__(self, api_key: str, retry_delays: tuple[float, ...], timeout_seconds: float) -> None:
        self._api_key = api_key
        self._retry_delays = retry_delays
        self._timeout = timeout_seconds
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[tuple[dict[str, Any], str]] = []
        self.attempts: list[DeliveryAttempt] = []

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Hold the HTTP client open; on exit, abandon deliveries still waiting to retry."""
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            self._client = client
            try:
                yield
            finally:
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                self._client = None

    def reset(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._held.clear()
        self.attempts.clear()

    def publish(self, event: dict[str, Any], urls: list[str], faults: Faults) -> None:
        for url in urls:
            if faults.drop or faults.hold:
                self._record(event, url, 1, None, "dropped" if faults.drop else "held")
                if not faults.drop:
                    self._held.append((event, url))
                continue
            for copy_number in range(1, 3 if faults.duplicate else 2):
                self._spawn(self._deliver(event, url, copy_number, faults.delay_seconds))

    def release(self) -> int:
        """Send the held events, newest first: the receiver sees them out of order."""
        held, self._held = self._held[::-1], []
        self._spawn(self._deliver_in_turn(held))
        return len(held)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_in_turn(self, held: list[tuple[dict[str, Any], str]]) -> None:
        for event, url in held:
            await self._deliver(event, url, 1, 0.0)

    async def _deliver(self, event: dict[str, Any], url: str, copy_number: int, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)  # the "late" fault
        body = json.dumps({**event, "webhook_url": url}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, SIGNATURE_HEADER: sign(self._api_key, body)}
        # None after the last attempt: nothing left to wait for, the delivery is given up.
        for attempt, wait in enumerate((*self._retry_delays, None), start=1):
            status_code, error = await self._post(url, body, headers)
            delivered = status_code is not None and 200 <= status_code < 300
            outcome: DeliveryOutcome = "delivered" if delivered else "gave_up" if wait is None else "retrying"
            self._record(event, url, copy_number, attempt, outcome, status_code, error)
            if delivered or wait is None:
                return
            await asyncio.sleep(wait)  # Checkr's retry schedule, scaled by the configuration

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        assert self._client is not None, "dispatcher is not running"
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, type(exc).__name__
        return response.status_code, None

    def _record(
        self,
        event: dict[str, Any],
        url: str,
        copy_number: int,
        attempt: int | None,
        outcome: DeliveryOutcome,
        status_code: int | None = None,
        error: str | None = None,
    ) -> None:
        if outcome in ("retrying", "gave_up"):
            log.warning("checkr sim: %s %s to %s, attempt %s failed: %s", event["type"], event["id"], url, attempt, error or status_code)
        self.attempts.append(
            DeliveryAttempt(
                event_id=event["id"],
                type=event["type"],
                url=url,
                copy_number=copy_number,
                attempt=attempt,
                status_code=status_code,
                error=error,
                outcome=outcome,
                at=datetime.now(UTC),
            )
        )
