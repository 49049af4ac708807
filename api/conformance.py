"""The Vendor API's conformance kit (`assessments vendor-conformance`): our hub's side of the
protocol, played against a vendor's implementation before it goes live.

It serves the real Vendor API (these very routes, on a store of its own) for the vendor to call,
sends the vendor signed test orders with the real adapter, tries webhooks the vendor must refuse,
and checks what the vendor does, one row per requirement of docs/vendor-api.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI
from standardwebhooks import Webhook
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors, vendor_api
from orders.models import Candidate, Order
from peers import PeerError
from settings import Settings
from store import Store
from store.vendor_api import ApiOrder, VendorApiRecords
from vendors import api_protocol as protocol
from vendors.api_vendor import ApiVendor, from_account, new_webhook_secret
from vendors.base import OrderCallback

# A webhook signed this long ago is a captured one replayed: the vendor must refuse it.
STALE_BY = timedelta(minutes=10)
CONFORMANCE_PACKAGE = "conformance"
_UNUSED_CALLBACK = OrderCallback(url="", token="")


@dataclass(frozen=True)
class Check:
    requirement: str
    passed: bool
    detail: str


@dataclass
class Observed:
    """What the vendor did at our Vendor API: each request and our answer, and its reports."""

    requests: list[tuple[str, str, int, bool]] = field(default_factory=list)
    reports: list[ApiOrder] = field(default_factory=list)

    async def reported(self, order: ApiOrder) -> None:
        self.reports.append(order)

    def answered(self, order_id: str) -> list[tuple[str, int]]:
        return [(m, s) for m, path, s, _ in self.requests if f"/orders/{order_id}" in path]


class _Recording:
    """Notes each request to the Vendor API and the status it got."""

    def __init__(self, app: ASGIApp, observed: Observed) -> None:
        self.app, self.observed = app, observed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        keyed = any(name.lower() == b"idempotency-key" for name, _ in scope["headers"])

        async def noted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.observed.requests.append(
                    (scope["method"], scope["path"], message["status"], keyed)
                )
            await send(message)

        await self.app(scope, receive, noted)


@contextlib.asynccontextmanager
async def hub(
    webhook_url: str, secret: str, api_key: str, host: str, port: int, data_dir: Path
) -> AsyncIterator[tuple[Store, str, Observed]]:
    """The Vendor API on host:port, with one API vendor account for the vendor under test;
    (its store, the account's id, what the vendor did)."""
    store = Store(
        f"sqlite+aiosqlite:///{data_dir / 'conformance.db'}", Fernet.generate_key().decode()
    )
    await store.migrate()
    account = await store.create_vendor_account(
        name="conformance",
        adapter="api",
        credentials={"webhook_url": webhook_url, "webhook_secret": secret},
    )
    await store.vendor_api.issue_key(account.id, "conformance", api_key)
    observed = Observed()
    app = FastAPI(title="Vendor API conformance kit")
    errors.install(app)
    app.include_router(vendor_api.router)
    app.state.store = store
    app.state.settings = Settings()
    app.state.vendor_hints = observed
    app.state.vendor_api_limits = vendor_api.Limits()
    server = uvicorn.Server(
        uvicorn.Config(_Recording(app, observed), host=host, port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving  # its failure (the port is taken, say)
            raise RuntimeError(f"the kit could not listen on {host}:{port}")
        await asyncio.sleep(0.05)  # uvicorn says when it listens only by this flag
    try:
        yield store, account.id, observed
    finally:
        server.should_exit = True
        await serving
        await store.dispose()


async def check_vendor(
    webhook_url: str,
    secret: str,
    api_key: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8700,
    wait_seconds: float = 60.0,
    ready: Callable[[str], Awaitable[None]] | None = None,
) -> list[Check]:
    """Every requirement's check, in order. `ready(url)` is awaited once the kit's Vendor API
    listens (the vendor's hub URL for the run)."""
    with tempfile.TemporaryDirectory(prefix="vendor-conformance-") as data_dir:
        async with hub(webhook_url, secret, api_key, host, port, Path(data_dir)) as (
            store,
            account_id,
            observed,
        ):
            if ready is not None:
                await ready(f"http://{host}:{port}")
            adapter = from_account(
                Settings(),
                {"webhook_url": webhook_url, "webhook_secret": secret},
                account_id,
                store.vendor_api,
            )
            try:
                return await _checks(adapter, store, account_id, observed, secret, wait_seconds)
            finally:
                await adapter.aclose()


async def _checks(
    adapter: ApiVendor,
    store: Store,
    account_id: str,
    observed: Observed,
    secret: str,
    wait_seconds: float,
) -> list[Check]:
    checks: list[Check] = []
    records = store.vendor_api

    catalog = await _within(wait_seconds, lambda: records.catalog(account_id))
    checks.append(
        Check(
            "Publishes its packages (PUT /vendor/v1/packages)",
            catalog is not None,
            f"{len(catalog)} packages" if catalog is not None else "no catalog arrived",
        )
    )
    package = (catalog or [{}])[0].get("id", CONFORMANCE_PACKAGE)

    completed_order = await _test_order(records, account_id, package)
    created = await _deliver(adapter.create_invitation(completed_order, _UNUSED_CALLBACK))
    checks.append(_taken("Acknowledges a signed order.created with 2xx", created))
    again = await _deliver(adapter.create_invitation(completed_order, _UNUSED_CALLBACK))
    checks.append(_taken("Answers a repeated webhook-id (a redelivery) with 2xx", again))

    forged_order = await _test_order(records, account_id, package)
    forger = from_account(
        Settings(),
        {"webhook_url": adapter.webhook_url, "webhook_secret": new_webhook_secret()},
        account_id,
        records,
    )
    try:
        forged = await _deliver(forger.create_invitation(forged_order, _UNUSED_CALLBACK))
    finally:
        await forger.aclose()
    checks.append(_refused("Refuses a webhook signed with another secret", forged))

    stale_order = await _test_order(records, account_id, package)
    stale = await _stale_delivery(adapter.webhook_url, secret, stale_order, records)
    checks.append(_refused("Refuses a webhook signed over 5 minutes ago (a replay)", stale))

    done = await _within(wait_seconds, lambda: _completed(records, completed_order))
    checks.append(
        Check(
            "Reports a valid result for a test order (PATCH …, status COMPLETED)",
            done is not None,
            f"COMPLETED, revision {done.revision}"
            if done is not None
            else f"no COMPLETED within {wait_seconds:g} s",
        )
    )
    checks.append(
        Check(
            "Puts the report before the COMPLETED PATCH (PUT …/report)",
            done is not None and done.has_report,
            "a report came with the result" if done is not None and done.has_report else "none",
        )
    )

    cancelled_order = await _test_order(records, account_id, package, test=False)
    await _deliver(adapter.create_invitation(cancelled_order, _UNUSED_CALLBACK))
    opened = await records.order_by_reference(cancelled_order.reference)
    assert opened is not None  # _test_order opened it
    cancelled = await _deliver(adapter.cancel_invitation(opened.id))
    checks.append(_taken("Acknowledges order.cancelled with 2xx", cancelled))

    acted = [
        f"{method} {status}"
        for order in (forged_order, stale_order)
        if (kept := await records.order_by_reference(order.reference)) is not None
        for method, status in observed.answered(kept.id)
    ]
    checks.append(
        Check(
            "Never acts on a refused webhook's order",
            not acted,
            "nothing" if not acted else f"called the hub for it: {', '.join(acted)}",
        )
    )
    refused = [
        f"{method} {path} → {status}"
        for method, path, status, _ in observed.requests
        if status in (400, 401, 404, 413, 415, 422)
    ]
    checks.append(
        Check(
            "Sends only requests the hub takes (no 4xx but 409)",
            not refused,
            "all taken" if not refused else "; ".join(refused[:5]),
        )
    )
    patches = [keyed for method, _, _, keyed in observed.requests if method == "PATCH"]
    checks.append(
        Check(
            "Sends each PATCH with an Idempotency-Key",
            bool(patches) and all(patches),
            f"{sum(patches)} of {len(patches)} PATCHes",
        )
    )
    return checks


async def _test_order(
    records: VendorApiRecords, account_id: str, package: str, *, test: bool = True
) -> Order:
    """A test order, opened at the account as the adapter would open it, marked `test`."""
    order_id = f"conformance-{uuid.uuid4().hex[:12]}"
    order = Order(
        order_id=order_id,
        company_id="conformance",
        reference=f"{order_id}:conformance",
        package_id=package,
        package_name="Conformance test order",
        vendor="api",
        result_callback_url="https://hub.invalid/results",
        candidate=Candidate(
            first_name="Test", last_name="Candidate", email=f"{order_id}@example.invalid"
        ),
        deadline_days=1,
        poll_interval_seconds=300,
        received_at=datetime.now(UTC),
    )
    await records.open_order(
        account_id,
        order.reference,
        protocol.details(order) | {"test": test},
        protocol.ApiStatus.PENDING.value,
    )
    return order


async def _deliver(call: Awaitable[Any]) -> PeerError | None:
    """None when the vendor answered 2xx, else how it failed."""
    try:
        await call
    except PeerError as err:
        return err
    return None


async def _stale_delivery(
    url: str, secret: str, order: Order, records: VendorApiRecords
) -> PeerError | None:
    """An order.created correctly signed, but long ago; None when the vendor took it (2xx)."""
    opened = await records.order_by_reference(order.reference)
    assert opened is not None  # _test_order opened it
    signed_at = datetime.now(UTC) - STALE_BY
    message_id = f"msg_{opened.id}_stale"
    body = json.dumps(
        {
            "type": protocol.Event.ORDER_CREATED.value,
            "timestamp": signed_at.isoformat(),
            "data": {"order": protocol.view(opened)},
        }
    )
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, signed_at, body),
    }
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(url, content=body, headers=headers)
    except httpx.TransportError as err:
        return PeerError("vendor", f"no answer: {type(err).__name__}")
    if answer.is_success:
        return None
    return PeerError("vendor", f"answered HTTP {answer.status_code}", status=answer.status_code)


def _taken(requirement: str, failure: PeerError | None) -> Check:
    return Check(requirement, failure is None, "2xx" if failure is None else str(failure))


def _refused(requirement: str, failure: PeerError | None) -> Check:
    """A webhook the vendor must refuse: with a 4xx (not a 5xx, which asks for it again)."""
    if failure is None:
        return Check(requirement, False, "answered 2xx: it took the webhook")
    return Check(
        requirement, failure.status is not None and 400 <= failure.status < 500, str(failure)
    )


async def _completed(records: VendorApiRecords, order: Order) -> ApiOrder | None:
    kept = await records.order_by_reference(order.reference)
    return kept if kept is not None and kept.status == protocol.ApiStatus.COMPLETED else None


async def _within(seconds: float, probe: Callable[[], Awaitable[Any]]) -> Any:
    """The probe's first answer that is not None within the time; None if none came."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + seconds
    while True:
        found = await probe()
        if found is not None or loop.time() >= give_up_at:
            return found
        await asyncio.sleep(0.2)  # the vendor's call lands in the kit's store
