"""The Vendor API, v1 (docs/vendor-api.md): vendors without an adapter of ours publish their
packages and report on their orders here, with their account's API key.

A key reaches only its own account's orders; another account's order answers 404 like one that
does not exist. A change is kept in the store before it is acknowledged, then handed to the
order's workflow as a hint (the workflow reads the store as it would a vendor's API, so a hint
lost on the way costs a poll interval, never the change).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import math
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime
from temporalio.client import Client

from api.deps import SettingsDep, StoreDep
from api.limits import Buckets
from api.openapi import refusals
from api.webhooks import deliver_hints
from orders.models import VendorEvent
from settings import Settings
from store.vendor_api import ApiOrder, ChangeRaced
from vendors import api_protocol as protocol
from vendors.api_vendor import NAME as API_VENDOR

router = APIRouter(prefix=f"/vendor/{protocol.VERSION}", tags=["Vendor API"])
# The document's version: v1 changes only by addition (docs/vendor-api.md, "Versioning").
VERSION_NUMBER = "1.0.0"
log = logging.getLogger("assessments.vendor_api")

_bearer = HTTPBearer(auto_error=False, description="An API key of your vendor account (vk_…)")

PAGE_AT_MOST = 100
# Report files are large (up to 10 MB, held in memory and encrypted): per account a twentieth of
# its request rate (one a second, two at once, by default), and a few at a time in this process
# whoever sends them.
REPORT_SHARE = 20
REPORTS_AT_ONCE = 2


class Limits:
    """The Vendor API's budgets in one API process: per account (requests, report files), per
    address (wrong keys), and report files taken at once. One per app (`app.state`), so budgets
    follow the settings of the app they limit."""

    def __init__(self) -> None:
        self.requests, self.reports, self.failed_keys = Buckets(), Buckets(), Buckets()
        self.reports_at_once = asyncio.Semaphore(REPORTS_AT_ONCE)


async def _limits(request: Request) -> Limits:
    return request.app.state.vendor_api_limits


LimitsDep = Annotated[Limits, Depends(_limits)]


async def _take(buckets: Buckets, key: str, per_second: float, burst: int) -> None:
    """One request from the key's bucket; 429 with Retry-After when it is empty."""
    if not await buckets.admit(key, per_second, burst):
        wait = max(1, math.ceil(1 / per_second))
        raise HTTPException(429, "Too many requests; please wait", {"Retry-After": str(wait)})


async def _vendor_account(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    limits: LimitsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The vendor account whose active key the caller shows, within its request rate. An address
    showing wrong keys is slowed as the token endpoint slows wrong secrets (429 for them, never
    for a right key from the same address)."""
    address = request.client.host if request.client else ""
    failures = (settings.auth_requests_per_minute / 60, settings.auth_requests_per_minute)
    account_id = (
        None
        if credentials is None
        else await store.vendor_api.account_of_key(credentials.credentials)
    )
    if account_id is None:
        await _take(limits.failed_keys, address, *failures)
        raise HTTPException(
            401, "An active API key of a vendor account is required", {"WWW-Authenticate": "Bearer"}
        )
    await _take(
        limits.requests,
        account_id,
        settings.vendor_api_requests_per_second,
        settings.vendor_api_burst,
    )
    return account_id


VendorAccountDep = Annotated[str, Depends(_vendor_account)]


class Hints(Protocol):
    """Who hears that a vendor reported on an order: the order's workflow, in the service."""

    async def reported(self, order: ApiOrder) -> None: ...


class WorkflowHints:
    """Each report, handed to its order's workflow as a webhook's hint would be."""

    def __init__(self, temporal: Client, settings: Settings) -> None:
        self._temporal = temporal
        self._settings = settings

    async def reported(self, order: ApiOrder) -> None:
        """A failure here is logged, not the vendor's: its change is kept, and the order's
        poll reads it."""
        event = VendorEvent(
            event_id=f"{order.id}:{order.revision}", kind="order_reported", vendor_ref=order.id
        )
        try:
            await deliver_hints(
                self._temporal, self._settings, API_VENDOR, [(order.reference, event)]
            )
        except HTTPException as err:
            log.warning(
                "an API vendor's report was kept but not handed to its order: %s", err.detail
            )


async def _hints(request: Request) -> Hints:
    return request.app.state.vendor_hints


HintsDep = Annotated[Hints, Depends(_hints)]


@router.put("/packages", responses=refusals(401, 429))
async def replace_packages(
    catalog: protocol.Catalog, account_id: VendorAccountDep, store: StoreDep
) -> protocol.Catalog:
    """Replace the account's whole catalog; packages left out are retired (orders in flight go on).
    Recruiters see the new catalog within a minute."""
    await store.vendor_api.replace_catalog(
        account_id, [package.model_dump(mode="json") for package in catalog.packages]
    )
    return catalog


@router.get("/packages", responses=refusals(401, 429))
async def read_packages(account_id: VendorAccountDep, store: StoreDep) -> protocol.Catalog:
    return protocol.Catalog(packages=await store.vendor_api.catalog(account_id) or [])


@router.get("/orders", responses=refusals(401, 429), response_model=protocol.OrderPage)
async def list_orders(
    account_id: VendorAccountDep,
    store: StoreDep,
    status: protocol.ApiStatus | None = None,
    updated_after: AwareDatetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_AT_MOST)] = 50,
) -> dict[str, Any]:
    """The account's orders by time of change, oldest first: a vendor that missed a webhook
    catches up by paging from its last `updated_after` (each page's `next_cursor` goes on)."""
    try:
        after_time = None if updated_after is None else _in_range(updated_after)
    except OverflowError:
        raise HTTPException(400, "updated_after is out of range") from None
    orders = await store.vendor_api.orders(
        account_id,
        status=None if status is None else status.value,
        updated_after=after_time,
        after=_position(cursor),
        limit=limit,
    )
    last = orders[-1] if len(orders) == limit else None
    return {
        "orders": [protocol.view(order) for order in orders],
        "next_cursor": None if last is None else _cursor(last),
    }


@router.get(
    "/orders/{order_id}", responses=refusals(401, 404, 429), response_model=protocol.OrderView
)
async def read_order(order_id: str, account_id: VendorAccountDep, store: StoreDep) -> dict:
    return await _view(store, await _order(store, account_id, order_id))


@router.patch(
    "/orders/{order_id}",
    response_model=protocol.OrderView,
    responses=refusals(
        401,
        404,
        409,
        422,
        429,
        503,
        _409=(
            "INVALID_TRANSITION: the status cannot move so; ORDER_CLOSED: the hub closed the order"
        ),
        _422="IDEMPOTENCY_KEY_REUSED: the key was used with another request",
    ),
)
async def report_on_order(
    order_id: str,
    patch: protocol.OrderPatch,
    account_id: VendorAccountDep,
    store: StoreDep,
    settings: SettingsDep,
    hints: HintsDep,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=255, alias="Idempotency-Key")
    ] = None,
) -> JSONResponse:
    """Report status, result, test link or your own id; 200 once the change is kept."""
    request_hash = hashlib.sha256(
        json.dumps([order_id, patch.model_dump(mode="json", exclude_unset=True)]).encode()
    ).hexdigest()
    if idempotency_key is not None:
        remembered = await store.vendor_api.remembered(account_id, idempotency_key)
        if remembered is not None:
            if remembered.request_hash != request_hash:
                raise protocol.Refused(
                    422,
                    protocol.IDEMPOTENCY_KEY_REUSED,
                    "This Idempotency-Key was used with another request",
                )
            # The same request again: its answer was lost; the order as it is now.
            return JSONResponse(await _view(store, await _order(store, account_id, order_id)))
    try:
        changed = await store.vendor_api.change_order(
            account_id,
            order_id,
            lambda current: protocol.apply(current, patch, settings.result_revision_days),
        )
    except ChangeRaced:
        raise _busy() from None
    if changed is None:
        raise HTTPException(404, "No such order")
    order, _ = changed
    # Also for a PATCH that changed nothing: it may be the retry of one whose hint was lost.
    await hints.reported(order)
    if idempotency_key is not None:
        # What the key stands for, not the answer: a retry gets the order as it is then.
        await store.vendor_api.remember(account_id, idempotency_key, request_hash, 200, {})
    return JSONResponse(await _view(store, order))


@router.put(
    "/orders/{order_id}/report",
    response_model=protocol.OrderView,
    responses=refusals(
        400,
        401,
        404,
        409,
        413,
        415,
        429,
        503,
        _400="The body is not a PDF file",
        _409="ORDER_CLOSED, or INVALID_TRANSITION for an order rejected or expired",
        _413="A report over 10 MB",
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def put_report(
    order_id: str,
    request: Request,
    account_id: VendorAccountDep,
    store: StoreDep,
    settings: SettingsDep,
    hints: HintsDep,
    limits: LimitsDep,
) -> dict:
    """The report file (PDF, at most 10 MB), before the COMPLETED PATCH."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/pdf":
        raise HTTPException(415, "A report is a PDF: send it as application/pdf")
    await _take(
        limits.reports,
        account_id,
        settings.vendor_api_requests_per_second / REPORT_SHARE,
        max(2, settings.vendor_api_burst // REPORT_SHARE),
    )
    async with limits.reports_at_once:
        content = await request.body()
        if not content.startswith(b"%PDF-"):
            raise HTTPException(400, "The body is not a PDF file")
        return await _keep_report(store, hints, account_id, order_id, content)


async def _keep_report(
    store: StoreDep, hints: Hints, account_id: str, order_id: str, content: bytes
) -> dict:
    for _ in range(3):  # another change of the order in between: decide again
        order = await _order(store, account_id, order_id)
        if order.closed_reason is not None:
            raise protocol.Refused(
                409, protocol.ORDER_CLOSED, f"The order was {order.closed_reason} by the hub"
            )
        if order.status in (protocol.ApiStatus.REJECTED, protocol.ApiStatus.EXPIRED):
            raise protocol.Refused(
                409, protocol.INVALID_TRANSITION, f"The order is {order.status}: it takes no report"
            )
        if await store.vendor_api.put_report(order, content):
            order = await _order(store, account_id, order_id)
            if order.status == protocol.ApiStatus.COMPLETED:
                await hints.reported(order)
            return await _view(store, order)
    raise _busy()


def _busy() -> HTTPException:
    """Other changes of the order kept overtaking this one: a retry in a moment goes through."""
    return HTTPException(
        503, "The order is changing under other requests; please retry", {"Retry-After": "1"}
    )


async def _order(store: StoreDep, account_id: str, order_id: str) -> ApiOrder:
    order = await store.vendor_api.order(account_id, order_id)
    if order is None:
        raise HTTPException(404, "No such order")
    return order


async def _view(store: StoreDep, order: ApiOrder) -> dict[str, Any]:
    return protocol.view(order, await store.vendor_api.deliveries(order.id))


def _cursor(order: ApiOrder) -> str:
    position = json.dumps([order.updated_at.isoformat(), order.id])
    return base64.urlsafe_b64encode(position.encode()).decode()


def _position(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        updated_at, order_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        moment = _in_range(datetime.fromisoformat(updated_at))
        if not isinstance(order_id, str):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise HTTPException(400, "The cursor is not one this API gave") from None
    return moment, order_id


def _in_range(moment: datetime) -> datetime:
    """A time the store can compare: with an offset, in UTC, between the years 2 and 9998."""
    if moment.tzinfo is None:
        raise ValueError("a time without an offset")
    return moment.astimezone(UTC)  # OverflowError at the calendar's ends
