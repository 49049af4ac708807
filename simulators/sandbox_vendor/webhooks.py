"""Signed webhook events: the signature scheme, and delivery with retries in the background.

Signature: header ``Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` over
``f"{t}.".encode() + raw_body`` with the shared webhook secret. Each attempt is signed afresh,
so a receiver can refuse stale timestamps as replays without refusing our retries.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Literal

import httpx
from pydantic import BaseModel

from ..delivery import Attempt, Courier
from ..docstore import DocumentStore
from .models import utc_now

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Sandbox-Signature"
DELIVERY_TIMEOUT_SECONDS = 5.0

# deliver: normally; drop: generate events but never send them (a lost webhook);
# duplicate: send every event twice with the same id (an at-least-once sender).
WebhookMode = Literal["deliver", "drop", "duplicate"]
DeliveryOutcome = Literal["delivered", "retrying", "gave_up", "dropped"]

_DELIVERY_KIND = "webhook_delivery"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Sandbox-Signature`` header value for `body` sent at `timestamp` (unix seconds)."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookSettings(BaseModel):
    mode: WebhookMode


class EventData(BaseModel):
    invitation_id: str
    reference: str
    status: str


class WebhookEvent(BaseModel):
    id: str
    type: str
    created_at: datetime
    data: EventData


class DeliveryAttempt(BaseModel):
    """One attempt to deliver one copy of an event, as recorded for the control API."""

    id: str
    event_id: str
    type: str
    reference: str
    delivery: int  # 1, or 2 for the second copy in duplicate mode
    attempt: int | None  # 1-based; None when the event was dropped
    status_code: int | None
    error: str | None
    outcome: DeliveryOutcome
    attempted_at: datetime


class WebhookDispatcher:
    """Publishes events without blocking the caller; each delivery runs as its own task."""

    def __init__(
        self,
        store: DocumentStore,
        url: str | None,
        secret: str,
        retry_delays: tuple[float, ...],
    ) -> None:
        self._store = store
        self._url = url
        self._secret = secret
        self._courier = Courier(retry_delays, DELIVERY_TIMEOUT_SECONDS)

    def running(self) -> AbstractAsyncContextManager[None]:
        """Hold the HTTP client open; on exit, abandon deliveries still waiting to retry."""
        return self._courier.running()

    def publish(self, event_type: str, data: EventData, mode: WebhookMode) -> None:
        if self._url is None:
            return
        event = WebhookEvent(
            id=f"evt_{uuid.uuid4().hex}", type=event_type, created_at=utc_now(), data=data
        )
        if mode == "drop":
            self._record(event, delivery=1, attempt=None, outcome="dropped")
            return
        for delivery in range(1, 3 if mode == "duplicate" else 2):
            self._courier.start(self._deliver(self._url, event, delivery))

    def deliveries(self, reference: str | None = None) -> list[DeliveryAttempt]:
        """Every recorded attempt, oldest first, optionally for one reference only."""
        filters = {} if reference is None else {"reference": reference}
        return [DeliveryAttempt(**doc) for doc in self._store.find(_DELIVERY_KIND, **filters)]

    async def _deliver(self, url: str, event: WebhookEvent, delivery: int) -> None:
        body = event.model_dump_json().encode()

        def send(client: httpx.AsyncClient) -> Awaitable[httpx.Response]:
            # Signed at each attempt, so a retry carries a fresh timestamp.
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self._secret, body, int(time.time())),
            }
            return client.post(url, content=body, headers=headers)

        def record(attempt: Attempt) -> None:
            error = None if attempt.failure is None else f"{attempt.error}: {attempt.failure}"
            if attempt.outcome != "delivered":
                log.warning(
                    "webhook %s (%s) for %s, attempt %d failed: %s",
                    event.id,
                    event.type,
                    event.data.reference,
                    attempt.number,
                    error or f"HTTP {attempt.status_code}",
                )
            self._record(
                event,
                delivery=delivery,
                attempt=attempt.number,
                outcome=attempt.outcome,
                status_code=attempt.status_code,
                error=error,
            )

        await self._courier.deliver(send, record)

    def _record(
        self,
        event: WebhookEvent,
        *,
        delivery: int,
        attempt: int | None,
        outcome: DeliveryOutcome,
        status_code: int | None = None,
        error: str | None = None,
    ) -> None:
        record = DeliveryAttempt(
            id=f"dlv_{uuid.uuid4().hex}",
            event_id=event.id,
            type=event.type,
            reference=event.data.reference,
            delivery=delivery,
            attempt=attempt,
            status_code=status_code,
            error=error,
            outcome=outcome,
            attempted_at=utc_now(),
        )
        self._store.put(_DELIVERY_KIND, record.id, record.model_dump(mode="json"))
