"""Vendor webhooks: each is checked, turned into a hint, and passed to the order's workflow.

Three shapes, one per way vendors push (vendors/base.py Push):
- `POST /webhooks/{vendor}`: the embedded sandbox vendor of the settings, signed with the
  settings' secret;
- `POST /webhooks/{vendor}/accounts/{account_id}`: one URL per vendor account (Checkr, sandbox
  accounts), signed with the account's secret;
- `POST /webhooks/{vendor}/orders/{reference}`: a URL per order (HackerRank's test_result_url),
  carrying the bearer token we derived for that order.
Events of the first two find their order through our index of the invitations made with that
secret's account, so a secret reaches only its own account's orders.
A webhook is only a hint: the workflow reads the vendor's own state before acting on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import SettingsDep, TemporalDep, VendorsDep
from orders.models import HINT_REFUSED, HINTS_CLOSED, VendorEvent
from orders.visibility import order_id_in, workflow_id
from peers import PeerError
from settings import Settings
from telemetry import ORDER_ID
from vendors.base import ParsedWebhook, Push, VendorAdapter, WebhookRejected, WebhookUnreadable
from vendors.registry import ADAPTERS, UnknownAdapter
from vendors.webhooks import ReplayGuard
from workflows.order import AssessmentOrderWorkflow

router = APIRouter(tags=["Vendors"])
log = logging.getLogger("assessments.webhooks")


@router.post("/webhooks/{vendor}", status_code=202)
async def receive_webhook(
    vendor: str,
    request: Request,
    vendors: VendorsDep,
    temporal: TemporalDep,
    settings: SettingsDep,
):
    """The embedded sandbox vendor's events: verified with the settings' webhook secret."""
    if vendor != vendors.default.name:
        raise HTTPException(404, "Unknown vendor")
    parsed = _parse(vendors.default, vendor, request.headers, await request.body())
    routed = [(await _order_of(vendors, None, item), item.event) for item in parsed]
    return await deliver_hints(temporal, settings, vendor, routed)


@router.post("/webhooks/{vendor}/accounts/{account_id}", status_code=202)
async def receive_account_webhook(
    vendor: str,
    account_id: str,
    request: Request,
    vendors: VendorsDep,
    temporal: TemporalDep,
    settings: SettingsDep,
):
    """Events of one vendor account, verified with that account's secret."""
    try:
        async with vendors.using(account_id) as adapter:
            if adapter.name != vendor:
                raise HTTPException(404, "Unknown vendor account")
            parsed = _parse(adapter, vendor, request.headers, await request.body())
    except UnknownAdapter:
        raise HTTPException(404, "Unknown vendor account") from None
    routed = [(await _order_of(vendors, account_id, item), item.event) for item in parsed]
    return await deliver_hints(temporal, settings, vendor, routed)


@router.post("/webhooks/{vendor}/orders/{reference}", status_code=202)
async def receive_order_webhook(
    vendor: str,
    reference: str,
    request: Request,
    vendors: VendorsDep,
    temporal: TemporalDep,
    settings: SettingsDep,
):
    """A vendor's report on one order, authenticated by the bearer token we gave it for that
    order."""
    kind = ADAPTERS.get(vendor)
    if kind is None or kind.capabilities.push != Push.PER_ORDER_URL:
        raise HTTPException(404, "This vendor does not push per order")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not vendors.callback_valid(reference, token.strip()):
        log.warning("rejected %s order webhook: bad or missing bearer token", vendor)
        raise HTTPException(401, "Webhook token rejected")
    raw_body = await request.body()
    # The body's shape is not published (docs/vendors.md, "HackerRank"): any push is news, and
    # identical re-deliveries are recognised by their digest.
    event = VendorEvent(
        event_id=f"{vendor}:{hashlib.sha256(raw_body).hexdigest()}", kind="result_pushed"
    )
    return await deliver_hints(temporal, settings, vendor, [(reference, event)])


def _parse(adapter: VendorAdapter, vendor: str, headers, raw_body: bytes) -> list[ParsedWebhook]:
    try:
        return adapter.parse_webhook(headers, raw_body)
    except WebhookRejected as err:
        log.warning("rejected %s webhook: %s", vendor, err)
        raise HTTPException(401, "Webhook signature rejected") from None
    except (
        WebhookUnreadable,
        RecursionError,
    ) as err:  # RecursionError: JSON nested too deep for the parser
        log.warning("unreadable %s webhook: %s", vendor, err)
        raise HTTPException(400, "Webhook body is not a readable event") from None


async def _order_of(vendors, account_id: str | None, item: ParsedWebhook) -> str | None:
    """The reference of the account's order the event names, looked up in our index of the
    account's invitations (account None: the default vendor's).

    An event naming our order's reference must also name an invitation of that order at this
    account, so one account's signature can never stir another account's orders.
    """
    key = item.webhook_key or item.event.vendor_ref
    if not key and item.resolve_key is not None:
        try:
            key = await item.resolve_key()
        except PeerError as err:
            log.warning("%s webhook's object could not be read: %s", item.event.kind, err)
            if err.retryable:  # the vendor delivers again later; polling covers the order meanwhile
                raise HTTPException(
                    503, "Temporarily unable to read the webhook's object; please retry"
                ) from None
            key = None  # not an object of this account: no order of ours
    reference = await vendors.order_for_webhook_key(account_id, key) if key else None
    if item.order_reference is not None and reference != item.order_reference:
        return None
    return reference


class TurnNotCome(Exception):
    """Others held the order's turn for longer than the caller would wait."""


class OneAtATime:
    """Per key, one holder at a time, the others waiting (a bounded time) in the order they came;
    a key no one holds or waits for is forgotten."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: str, *, timeout: float) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            try:
                await asyncio.wait_for(lock.acquire(), timeout)
            except TimeoutError:
                raise TurnNotCome(key) from None
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


# One hint at a time per order from this process: Temporal takes only a few updates of one
# workflow at once (and refuses the rest), and each costs the worker a workflow task. A burst
# at one order waits its turn, up to the Temporal call timeout, then gets 429.
HINTS_IN_FLIGHT = OneAtATime()
TOO_MANY = "Too many webhooks for this order at once; please retry"

# Events handed to orders lately, by vendor and event id: a re-delivery (vendors deliver at least
# once) or a replayed capture answers 202 without asking the order again. Per process; the
# workflow's own deduplication by event id covers the rest.
DELIVERED_EVENTS = ReplayGuard(window_seconds=25 * 3600)

# Orders that take no more hints (ended, or past their share of webhooks), by workflow id: their
# webhooks are answered 202 without asking Temporal, so a flood at one order costs neither
# Temporal nor the worker a workflow task per webhook. Forgotten after a while, as an operator's
# reset can open an order again; polling brings the news meanwhile.
CLOSED_TO_HINTS = ReplayGuard(window_seconds=600)


async def deliver_hints(
    temporal: Client,
    settings: Settings,
    vendor: str,
    routed: list[tuple[str | None, VendorEvent]],
) -> JSONResponse:
    """Hand each order its hint; answers at once, the workflow does the work."""
    accepted = 0
    for reference, event in routed:
        ORDER_ID.set(None if reference is None else order_id_in(reference))
        if reference is None:
            # Not one of our orders (or its invitation is not indexed yet): polling covers it.
            log.info("%s webhook names no order of ours", vendor)
            continue
        delivered = repr(
            (vendor, reference, event.event_id)
        )  # unambiguous: company ids may hold ':'
        handle = temporal.get_workflow_handle(workflow_id(reference))
        if DELIVERED_EVENTS.seen(delivered) or CLOSED_TO_HINTS.seen(handle.id):
            accepted += 1
            continue
        try:
            async with HINTS_IN_FLIGHT.turn(
                reference, timeout=settings.temporal_rpc_timeout_seconds
            ):
                if not DELIVERED_EVENTS.seen(
                    delivered
                ):  # a copy that waited finds its twin delivered
                    await _hint(handle, event, settings)
                    DELIVERED_EVENTS.remember(delivered)
        except TurnNotCome:
            raise HTTPException(429, TOO_MANY, headers={"Retry-After": "1"}) from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                # Finished or unknown order: nothing is waiting for this event any more.
                log.info("%s webhook for an order that is not running", vendor)
                continue
            log.warning(
                "%s webhook not handed to its order: Temporal answered %s", vendor, err.status.name
            )
            if err.status == RPCStatusCode.RESOURCE_EXHAUSTED:
                # Temporal takes a few updates of one workflow at a time: a burst at one order.
                raise HTTPException(429, TOO_MANY, headers={"Retry-After": "1"}) from None
            raise HTTPException(
                503, "Temporarily unable to accept the webhook; please retry"
            ) from None
        except (
            TimeoutError,
            WorkflowUpdateRPCTimeoutOrCancelledError,
            WorkflowUpdateFailedError,
        ) as err:
            # No worker took the hint in time, or the workers do not know it yet (a deployment).
            log.warning("%s webhook not handed to its order: %s", vendor, type(err).__name__)
            raise HTTPException(
                503, "Temporarily unable to accept the webhook; please retry"
            ) from None
        accepted += 1
    return JSONResponse({"accepted": accepted}, status_code=202)


async def _hint(handle: WorkflowHandle, event: VendorEvent, settings: Settings) -> None:
    """Hand the order a webhook's hint. The order refuses one it has, or one past its share of
    webhooks, without recording anything (workflows/order.py `vendor_hint`): delivered all the
    same, since a retry would change nothing."""
    try:
        # Bounded here too: the client's retries of an unreachable server outlast rpc_timeout.
        await asyncio.wait_for(
            handle.execute_update(
                AssessmentOrderWorkflow.vendor_hint,
                event,
                rpc_timeout=settings.temporal_rpc_timeout,
            ),
            timeout=settings.temporal_rpc_timeout_seconds,
        )
    except WorkflowUpdateFailedError as err:
        refusal = err.cause.type if isinstance(err.cause, ApplicationError) else None
        if refusal == HINTS_CLOSED:
            CLOSED_TO_HINTS.remember(handle.id)
        elif refusal != HINT_REFUSED:
            raise
