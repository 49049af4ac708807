"""The Vendor API against a vendor that sends what it should not: numbers and dates out of range,
bursts at one order, wrong keys, report floods, late revisions. Each answers a clear 4xx (or 503
to retry), never a 500, and keeps nothing it refused. The routes run on a store of their own."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from api import errors, limits, vendor_api
from settings import Settings
from store import Store
from store.vendor_api import ApiOrder
from tests.support.order_workflows import an_order
from tests.support.servers import serve
from vendors import api_protocol as protocol

FAILED_KEYS_PER_MINUTE = 6
RESULT = {"score": 7, "max_score": 10, "summary": "Good"}


class Recorded:
    def __init__(self) -> None:
        self.reports: list[ApiOrder] = []

    async def reported(self, order: ApiOrder) -> None:
        self.reports.append(order)


@dataclass
class Hub:
    url: str
    store: Store
    account_id: str
    key: str

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"{self.url}/vendor/v1",
            headers={"Authorization": f"Bearer {key or self.key}"},
            timeout=30,
        )

    async def order(self) -> ApiOrder:
        order = an_order(vendor="api")
        return await self.store.vendor_api.open_order(
            self.account_id, order.reference, protocol.details(order), "PENDING"
        )


def hub_app(store: Store, settings: Settings) -> FastAPI:
    """The Vendor API as the service mounts it, with these settings."""
    app = FastAPI()
    errors.install(app)
    limits.install(app, settings)
    app.include_router(vendor_api.router)
    app.state.store, app.state.settings, app.state.vendor_hints = store, settings, Recorded()
    app.state.vendor_api_limits = vendor_api.Limits()
    return app


@pytest.fixture
async def hub(tmp_path) -> AsyncIterator[Hub]:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", Fernet.generate_key().decode())
    await store.migrate()
    app = hub_app(store, Settings(auth_requests_per_minute=FAILED_KEYS_PER_MINUTE))
    account = await store.create_vendor_account(
        name=f"api-{uuid.uuid4().hex[:6]}", adapter="api", credentials={}
    )
    key = (await store.vendor_api.issue_key(account.id, "hostile")).key
    with serve(app) as url:
        yield Hub(url, store, account.id, key)
    await store.dispose()


@pytest.mark.parametrize(
    "body",
    [
        '{"status": "COMPLETED", "result": {"score": Infinity, "max_score": 10, "summary": "x"}}',
        '{"status": "COMPLETED", "result": {"score": NaN, "max_score": 10, "summary": "x"}}',
        '{"status": "COMPLETED", "result": {"score": 1e308, "max_score": 1e308, "summary": "x"}}',
        '{"status": "COMPLETED", "result": {"summary": "x",'
        ' "submitted_at": "0001-01-01T00:00:00+01:00"}}',
        '{"status": "COMPLETED", "result": {"summary": "x",'
        ' "submitted_at": "9999-12-31T23:59:59-01:00"}}',
        '{"status": "COMPLETED", "result": {"summary": "x",'
        ' "submitted_at": "2099-01-01T00:00:00Z"}}',
        '{"status": "REJECTED", "candidate_done": true}',
    ],
)
async def test_numbers_and_dates_out_of_range_are_refused_and_nothing_is_kept(hub, body):
    order = await hub.order()
    async with hub.client() as vendor:
        answer = await vendor.patch(
            f"/orders/{order.id}", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["errors"][0]["code"] == "INVALID_FIELD"
        kept = (await vendor.get(f"/orders/{order.id}")).json()
    assert (kept["status"], kept["result"], kept["revision"]) == ("PENDING", None, 0)


@pytest.mark.parametrize(
    "query",
    [
        {"updated_after": "0001-01-01T00:00:00+01:00"},
        {"updated_after": "9999-12-31T23:59:59-01:00"},
        {"updated_after": "2026-12-07T10:00:00"},  # no offset
        {"cursor": base64.urlsafe_b64encode(b'["0001-01-01T00:00:00+01:00", "ord_x"]').decode()},
        {"cursor": "not-a-cursor"},
    ],
)
async def test_listing_from_a_time_out_of_range_is_a_clear_400(hub, query):
    async with hub.client() as vendor:
        answer = await vendor.get("/orders", params=query)
    assert answer.status_code == 400, answer.text


async def test_a_burst_of_patches_at_one_order_keeps_every_change_or_asks_to_retry(hub):
    order = await hub.order()
    async with hub.client() as vendor:
        answers = await asyncio.gather(
            *(
                vendor.patch(f"/orders/{order.id}", json={"status_detail": f"step {n}"})
                for n in range(30)
            )
        )
    statuses = sorted({answer.status_code for answer in answers})
    assert set(statuses) <= {200, 503} and 200 in statuses, statuses
    assert all(a.headers["Retry-After"] == "1" for a in answers if a.status_code == 503)
    kept = await hub.store.vendor_api.order(hub.account_id, order.id)
    assert kept.revision == sum(a.status_code == 200 for a in answers)


async def test_a_closed_order_answers_the_same_patch_again_and_refuses_a_new_one(hub):
    order = await hub.order()
    async with hub.client() as vendor:
        done = {"status": "COMPLETED", "result": RESULT}
        assert (await vendor.patch(f"/orders/{order.id}", json=done)).status_code == 200
        await hub.store.vendor_api.close_order(order.reference, "cancelled")
        assert (await vendor.patch(f"/orders/{order.id}", json=done)).status_code == 200
        other = await vendor.patch(
            f"/orders/{order.id}", json={"status": "COMPLETED", "result": RESULT | {"score": 8}}
        )
    assert other.status_code == 409 and other.json()["errors"][0]["code"] == "ORDER_CLOSED"


async def test_a_revision_after_the_window_is_refused_by_name(hub):
    order = await hub.order()
    async with hub.client() as vendor:
        done = {"status": "COMPLETED", "result": RESULT}
        assert (await vendor.patch(f"/orders/{order.id}", json=done)).status_code == 200
        long_ago = (datetime.now(UTC) - timedelta(days=31)).isoformat()
        await hub.store.vendor_api.change_order(
            hub.account_id,
            order.id,
            lambda current: (current.status, current.reported | {"completed_at": long_ago}),
        )
        late = await vendor.patch(
            f"/orders/{order.id}", json={"status": "COMPLETED", "result": RESULT | {"score": 9}}
        )
    assert late.status_code == 409
    assert late.json()["errors"][0]["code"] == "REVISION_WINDOW_CLOSED"


async def test_an_idempotency_key_keeps_no_answer_only_what_it_stands_for(hub):
    """A retry under its key is answered from the key, not applied again: a change made since in
    between stands, and the key's row holds no answer."""
    order = await hub.order()
    async with hub.client() as vendor:
        first = await vendor.patch(
            f"/orders/{order.id}", json={"status_detail": "a"}, headers={"Idempotency-Key": "k-1"}
        )
        between = await vendor.patch(f"/orders/{order.id}", json={"status_detail": "b"})
        again = await vendor.patch(
            f"/orders/{order.id}", json={"status_detail": "a"}, headers={"Idempotency-Key": "k-1"}
        )
    assert first.status_code == between.status_code == again.status_code == 200
    assert (again.json()["status_detail"], again.json()["revision"]) == ("b", 2)
    kept = await hub.store.vendor_api.remembered(hub.account_id, "k-1")
    assert kept.answer == {}


async def test_an_address_trying_keys_is_slowed_and_a_right_key_from_elsewhere_is_not(hub):
    async with httpx.AsyncClient(base_url=f"{hub.url}/vendor/v1", timeout=30) as guesser:
        statuses = [
            (
                await guesser.get("/packages", headers={"Authorization": f"Bearer vk_guess{n}"})
            ).status_code
            for n in range(FAILED_KEYS_PER_MINUTE + 2)
        ]
    assert statuses[:FAILED_KEYS_PER_MINUTE] == [401] * FAILED_KEYS_PER_MINUTE
    assert statuses[-1] == 429
    async with hub.client() as vendor:  # the same address, with a right key
        assert (await vendor.get("/packages")).status_code == 200


async def test_report_uploads_are_paced_per_account(hub):
    order = await hub.order()
    pdf = {"content": b"%PDF-1.4 report", "headers": {"content-type": "Application/PDF"}}
    async with hub.client() as vendor:
        statuses = [
            (await vendor.put(f"/orders/{order.id}/report", **pdf)).status_code for _ in range(4)
        ]
    assert statuses[:2] == [200, 200] and 429 in statuses[2:], statuses


async def test_each_app_keeps_its_own_budgets(tmp_path):
    """Budgets belong to the API they limit: an app started before, with other settings (another
    test's, another process's), never stands in for this one's."""
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", Fernet.generate_key().decode())
    await store.migrate()
    generous = hub_app(store, Settings(auth_requests_per_minute=300))
    strict = hub_app(store, Settings(auth_requests_per_minute=FAILED_KEYS_PER_MINUTE))
    wrong = {"Authorization": "Bearer vk_guess"}
    try:
        with serve(generous) as url:
            async with httpx.AsyncClient(base_url=f"{url}/vendor/v1", timeout=30) as client:
                assert (await client.get("/packages", headers=wrong)).status_code == 401
        with serve(strict) as url:
            async with httpx.AsyncClient(base_url=f"{url}/vendor/v1", timeout=30) as client:
                statuses = [
                    (await client.get("/packages", headers=wrong)).status_code
                    for _ in range(FAILED_KEYS_PER_MINUTE + 2)
                ]
    finally:
        await store.dispose()
    assert statuses[:FAILED_KEYS_PER_MINUTE] == [401] * FAILED_KEYS_PER_MINUTE
    assert statuses[-1] == 429
