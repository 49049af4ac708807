"""Checkr's webhook deliveries: signed with the API key, at least once, in no promised order.

Signature: ``X-Checkr-Signature`` = hex HMAC-SHA256 of the raw (compact JSON) body, keyed with
the account's API key. No timestamp is signed, so receivers deduplicate by event id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel

from ..delivery import Attempt, Courier
from ..docstore import DocumentStore
from .state import Faults

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Checkr-Signature"
USER_AGENT = "Checkr-Webhook/1.0"
# Kind of the store's documents for deliveries not yet made or given up.
_DELIVERY = "delivery"

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
    """Sends each event to every registered URL in its own task, retrying on failure.

    A delivery stays in the store until it succeeds or is given up: Checkr keeps retrying
    whatever happens to its servers, so one under way at a stop starts again after the start.
    Events held by the `hold` fault and the attempt log live in memory, like the faults."""

    def __init__(
        self,
        api_key: str,
        retry_delays: tuple[float, ...],
        timeout_seconds: float,
        store: DocumentStore,
    ) -> None:
        self._api_key = api_key
        self._courier = Courier(retry_delays, timeout_seconds)
        self._store = store
        self._held: list[tuple[dict[str, Any], str]] = []
        self.attempts: list[DeliveryAttempt] = []

    def running(self) -> AbstractAsyncContextManager[None]:
        """Hold the HTTP client open; on exit, abandon deliveries still waiting to retry."""
        return self._courier.running()

    def reset(self) -> None:
        self._courier.cancel_all()
        self._store.clear(_DELIVERY)
        self._held.clear()
        self.attempts.clear()

    def resume(self) -> None:
        """Start again, from a first attempt,
        the deliveries under way when the simulator stopped."""
        for delivery in self._store.all(_DELIVERY):
            self._courier.start(
                self._deliver(delivery["event"], delivery["url"], delivery["copy_number"], 0.0)
            )

    def publish(self, event: dict[str, Any], hooks: list[tuple[str, bool]], faults: Faults) -> None:
        """Send `event` to each (url, include_object) hook; without include_object, the event
        names its object only by id, type and uri (the API reference's "include_object is OFF")."""
        for url, include_object in hooks:
            self._publish_to(event if include_object else _without_object(event), url, faults)

    def _publish_to(self, event: dict[str, Any], url: str, faults: Faults) -> None:
        if faults.drop or faults.hold:
            self._record(event, url, 1, None, "dropped" if faults.drop else "held")
            if not faults.drop:
                self._held.append((event, url))
            return
        for copy_number in range(1, 3 if faults.duplicate else 2):
            self._keep(event, url, copy_number)
            self._courier.start(self._deliver(event, url, copy_number, faults.delay_seconds))

    def release(self) -> int:
        """Send the held events, newest first: the receiver sees them out of order."""
        held, self._held = self._held[::-1], []
        for event, url in held:
            self._keep(event, url, 1)
        self._courier.start(self._deliver_in_turn(held))
        return len(held)

    def _keep(self, event: dict[str, Any], url: str, copy_number: int) -> None:
        self._store.put(
            _DELIVERY,
            _delivery_id(event, url, copy_number),
            {"event": event, "url": url, "copy_number": copy_number},
        )

    async def _deliver_in_turn(self, held: list[tuple[dict[str, Any], str]]) -> None:
        for event, url in held:
            await self._deliver(event, url, 1, 0.0)

    async def _deliver(
        self, event: dict[str, Any], url: str, copy_number: int, delay: float
    ) -> None:
        if delay:
            await asyncio.sleep(delay)  # the "late" fault
        body = json.dumps({**event, "webhook_url": url}, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(self._api_key, body),
        }

        def send(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            return client.post(url, content=body, headers=headers)

        def record(attempt: Attempt) -> None:
            self._record(
                event,
                url,
                copy_number,
                attempt.number,
                attempt.outcome,
                attempt.status_code,
                attempt.error,
            )

        # Checkr's retry schedule, scaled by the configuration.
        await self._courier.deliver(send, record)
        self._store.delete(_DELIVERY, _delivery_id(event, url, copy_number))

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
            log.warning(
                "checkr sim: %s %s to %s, attempt %s failed: %s",
                event["type"],
                event["id"],
                url,
                attempt,
                error or status_code,
            )
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


def _delivery_id(event: dict[str, Any], url: str, copy_number: int) -> str:
    return f"{event['id']}:{copy_number}:{url}"


def _without_object(event: dict[str, Any]) -> dict[str, Any]:
    obj = event["data"]["object"]
    return {
        **event,
        "data": {"object": {key: obj[key] for key in ("id", "object", "uri") if key in obj}},
    }
