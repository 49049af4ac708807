"""An API vendor's order on Temporal's time-skipping server, with the real API vendor adapter and
store, and the vendor's webhook receiver over HTTP: an hour's outage of the vendor loses nothing.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import cast

import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError

from orders.models import VendorEvent
from settings import Settings
from store import Store
from tests.support.servers import serve
from tests.support.temporal_test_server import result_of
from tests.workflows.test_order_workflow import Peers, ScriptedVendor, an_order, start
from vendors import api_protocol as protocol
from vendors.api_vendor import ApiVendor, from_account, new_webhook_secret
from workflows.order import AssessmentOrderWorkflow

# Deliveries refused before the vendor is back: 1 s doubling to 5 min apart, about an hour.
REFUSED = 20


class Outage:
    """The vendor's webhook URL: down (503) for its first `refused` deliveries, then up."""

    def __init__(self) -> None:
        self.refused = REFUSED
        self.answers: list[int] = []
        self.webhook_ids: set[str] = set()
        self.app = FastAPI()

        @self.app.post("/hooks")
        async def hooks(request: Request) -> JSONResponse:
            self.webhook_ids.add(request.headers["webhook-id"])
            status = 503 if len(self.answers) < self.refused else 200
            self.answers.append(status)
            return JSONResponse({}, status)


@pytest.fixture
async def api_vendor(tmp_path):
    outage = Outage()
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", Fernet.generate_key().decode())
    await store.migrate()
    account = await store.create_vendor_account(name="v", adapter="api", credentials={})
    with serve(outage.app) as url:
        vendor = from_account(
            Settings(),
            {"webhook_url": f"{url}/hooks", "webhook_secret": new_webhook_secret()},
            account.id,
            store.vendor_api,
        )
        yield vendor, outage, store, account.id
        await vendor.aclose()
    await store.dispose()


async def test_a_vendor_down_for_an_hour_gets_the_order_once_and_its_result_reaches_sr(
    env, api_vendor
):
    vendor, outage, store, account_id = api_vendor
    peers = Peers(vendor=cast(ScriptedVendor, vendor))
    order = an_order(deadline_days=3)

    async def vendor_back_then_done(handle):
        while outage.answers.count(200) == 0:
            await env.sleep(timedelta(minutes=5))  # the next try's backoff, skipped
        [api_order] = await store.vendor_api.orders(account_id)
        patch = protocol.OrderPatch.model_validate(
            {"status": "COMPLETED", "result": {"score": 9, "max_score": 10, "summary": "Good"}}
        )
        await store.vendor_api.change_order(
            account_id, api_order.id, lambda current: protocol.apply(current, patch)
        )
        await handle.execute_update(
            AssessmentOrderWorkflow.vendor_hint,
            VendorEvent(event_id=f"{api_order.id}:1", kind="order_reported"),
        )

    task_queue = f"api-vendor-{order.order_id}"
    async with peers.worker(env, task_queue):
        handle = await start(env, order, task_queue)
        await vendor_back_then_done(handle)
        state = await result_of(env, handle)

    assert outage.answers == [503] * REFUSED + [200]
    assert len(outage.webhook_ids) == 1  # every try was the same event
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]
    assert peers.sr.patches[-1]["score"] == {"raw": 9, "min": 0, "max": 10}
    assert state.finished and len(await store.vendor_api.orders(account_id)) == 1
    invitation = [
        event
        async for event in handle.fetch_history_events()
        if event.event_type
        in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        )
    ][:3]
    scheduled, started, completed = invitation
    assert started.activity_task_started_event_attributes.attempt == REFUSED + 1
    took = completed.event_time.ToDatetime() - scheduled.event_time.ToDatetime()
    assert timedelta(hours=1) <= took < timedelta(hours=2), took
    assert isinstance(vendor, ApiVendor)


async def test_an_order_cancelled_while_its_invitation_is_retried_is_closed_at_the_vendor(
    env, api_vendor
):
    """The vendor down; the order is cancelled while its invitation waits for the next try: the
    vendor's view of the order is closed (its reconciliation shows nothing open, a late report is
    refused), and no order.cancelled is sent, as it never took the order.created."""
    vendor, outage, store, account_id = api_vendor
    outage.refused = 10**6  # never back
    peers = Peers(vendor=cast(ScriptedVendor, vendor))
    order = an_order(deadline_days=3)
    task_queue = f"api-vendor-{order.order_id}"
    async with peers.worker(env, task_queue):
        handle = await start(env, order, task_queue)
        while len(outage.answers) < 3:
            await env.sleep(timedelta(seconds=5))  # the next try's backoff, skipped
        await handle.cancel()
        with contextlib.suppress(WorkflowFailureError):
            await result_of(env, handle)

    assert peers.sr.statuses == ["REJECTED"]
    [kept] = await store.vendor_api.orders(account_id)
    assert kept.closed_reason == "cancelled" and kept.status == "PENDING"
    assert set(outage.answers) == {503}  # never taken: no order.cancelled was sent
    assert len(outage.webhook_ids) == 1
