"""A vendor with no adapter of ours, end to end: SR order → our API → Temporal → a signed webhook
to the reference vendor (examples/reference_vendor) → its PATCH and report → SR.

The reference vendor was written from docs/vendor-api.md alone; here it runs as a vendor would,
against the session stack, with an account, a key and a webhook secret of its own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from embedded import free_port
from examples.reference_vendor import ReferenceVendorConfig, create_app
from store import Store
from tests.support.connect import connect_company
from tests.support.servers import serve
from tests.support.waiting import eventually
from vendors.api_vendor import new_webhook_secret

pytestmark = pytest.mark.long

WHO = {"operator": "ops.ann", "reason": "The recruiter withdrew the order"}


class Vendor:
    """One API vendor account and the reference vendor serving it."""

    def __init__(self, url: str, key: str, account_id: str, http: httpx.AsyncClient) -> None:
        self.url, self.key, self.account_id, self.http = url, key, account_id, http

    async def orders(self) -> list[dict]:
        return (await self.http.get(f"{self.url}/_sim/orders")).raise_for_status().json()

    async def order_for(self, email: str) -> dict:
        async def found():
            return next(
                (o for o in await self.orders() if o["hub_order"]["candidate"]["email"] == email),
                None,
            )

        return await eventually(found, what=f"the vendor to have {email}'s order")

    async def webhooks(self, order_id: str) -> list[dict]:
        deliveries = (await self.http.get(f"{self.url}/_sim/webhooks")).json()
        return [d for d in deliveries if d["order_id"] == order_id]

    async def control(self, method: str, path: str, body=None) -> httpx.Response:
        return await self.http.request(method, f"{self.url}/_sim/{path}", json=body)

    def hub(self, hub_url: str) -> httpx.AsyncClient:
        """The Vendor API as this vendor calls it, with its key."""
        return httpx.AsyncClient(
            base_url=f"{hub_url}/vendor/v1",
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=30,
        )


async def new_api_vendor(store, url: str, secret: str, key: str) -> str:
    account = await store.create_vendor_account(
        name=f"api-{uuid.uuid4().hex[:8]}",
        adapter="api",
        credentials={"webhook_url": f"{url}/webhooks/hub", "webhook_secret": secret},
    )
    await store.vendor_api.issue_key(account.id, "e2e", key)
    return account.id


@pytest.fixture(scope="module")
def reference_vendor(stack, tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    """The reference vendor on its own port, with a key and a secret; (url, key, secret)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    key, secret = f"vk_e2e-{uuid.uuid4().hex}", new_webhook_secret()
    config = ReferenceVendorConfig(
        public_url=url,
        hub_url=stack.settings.public_url,
        api_key=key,
        webhook_secret=secret,
        database_path=tmp_path_factory.mktemp("reference-vendor") / "vendor.db",
        retry_base_delay=0.2,
        retry_max_delay=1.0,
        redeliver_interval=1.0,
    )
    with serve(create_app(config), port=port):
        yield url, key, secret


@pytest.fixture(scope="module")
async def account_id(reference_vendor, stack) -> AsyncIterator[str]:
    """The reference vendor's account, made once: its key opens one account only."""
    url, key, secret = reference_vendor
    store = Store(stack.settings.store_url, stack.settings.encryption_keys.get_secret_value())
    try:
        yield await new_api_vendor(store, url, secret, key)
    finally:
        await store.dispose()


@pytest.fixture
async def vendor(reference_vendor, account_id, world) -> AsyncIterator[Vendor]:
    url, key, _ = reference_vendor
    api_vendor = Vendor(url, key, account_id, world.http)
    yield api_vendor
    await api_vendor.control("PUT", "mode", {"webhooks": "accept"})


@pytest.fixture
async def company(vendor, store, world, registered) -> str:
    async def published():
        async with vendor.hub(world.api) as hub:
            packages = (await hub.get("/packages")).json().get("packages", [])
        return packages or None

    await eventually(published, what="the reference vendor to publish its catalog")
    return await connect_company(
        world.sr, (await store.issue_trigger_token(vendor.account_id)).token
    )


async def test_an_order_goes_to_the_vendor_and_its_result_and_report_reach_the_profile(
    world, vendor, company
):
    placed = await world.order("ref-sql", company_id=company)
    order_id, email = placed["order_id"], placed["candidate"]["email"]
    await world.sr_status_becomes(order_id, "PENDING")
    at_vendor = await vendor.order_for(email)
    sent = at_vendor["hub_order"]
    assert sent["package"]["id"] == "ref-sql" and sent["candidate"]["email"] == email
    assert sent["company"] == {"id": company} and not sent["inline"]
    [created] = await vendor.webhooks(sent["id"])
    assert (created["type"], created["verified"], created["status"]) == ("order.created", True, 200)

    completed = await vendor.control("POST", f"orders/{sent['id']}/complete", {"score": 80})
    assert completed.status_code == 200, completed.text
    done = await world.sr_status_becomes(order_id, "COMPLETED")

    assert done["result"]["score"] == {"raw": 80, "min": 0, "max": 100}
    assert done["result"]["scoreLabel"] == "Passed"
    [report] = done["attachments"]
    assert (await world.http.get(report["url"])).content.startswith(b"%PDF")
    async with vendor.hub(world.api) as hub:
        shown = (await hub.get(f"/orders/{sent['id']}")).json()
    assert shown["status"] == "COMPLETED" and shown["report"] is not None
    assert [d["outcome"] for d in shown["deliveries"]] == ["200"]


async def test_duplicate_and_out_of_order_reports_change_nothing_at_smartrecruiters(
    world, vendor, company
):
    placed = await world.order("ref-sql", company_id=company)
    order_id = placed["order_id"]
    sent = (await vendor.order_for(placed["candidate"]["email"]))["hub_order"]
    result = {"score": 7, "max_score": 10, "label": "passed", "summary": "Good"}
    async with vendor.hub(world.api) as hub:
        first = await hub.patch(
            f"/orders/{sent['id']}",
            json={"status": "COMPLETED", "result": result},
            headers={"Idempotency-Key": "done-1"},
        )
        assert first.status_code == 200, first.text
        again = await hub.patch(
            f"/orders/{sent['id']}",
            json={"status": "COMPLETED", "result": result},
            headers={"Idempotency-Key": "done-1"},
        )
        assert again.status_code == 200 and again.json() == first.json()
        reused = await hub.patch(
            f"/orders/{sent['id']}",
            json={"status": "COMPLETED", "result": result | {"score": 8}},
            headers={"Idempotency-Key": "done-1"},
        )
        assert reused.status_code == 422
        assert reused.json()["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
        late = await hub.patch(f"/orders/{sent['id']}", json={"status": "IN_PROGRESS"})
        assert late.status_code == 409 and late.json()["errors"][0]["code"] == "INVALID_TRANSITION"
        same = await hub.patch(
            f"/orders/{sent['id']}", json={"status": "COMPLETED", "result": result}
        )
        assert same.status_code == 200 and same.json()["revision"] == first.json()["revision"]

    done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert done["result"]["score"] == {"raw": 7, "min": 0, "max": 10}
    assert [p["status"] for p in done["patches"]].count("COMPLETED") == 1


async def test_another_vendors_key_finds_nothing_of_this_vendors_orders(
    world, vendor, company, store
):
    placed = await world.order("ref-sql", company_id=company)
    sent = (await vendor.order_for(placed["candidate"]["email"]))["hub_order"]
    other_key = f"vk_other-{uuid.uuid4().hex}"
    await new_api_vendor(store, "http://127.0.0.1:9", new_webhook_secret(), other_key)
    async with vendor.hub(world.api) as owner:
        before = (await owner.get(f"/orders/{sent['id']}")).json()
        catalog = {p["id"] for p in (await owner.get("/packages")).json()["packages"]}
    async with httpx.AsyncClient(
        base_url=f"{world.api}/vendor/v1", headers={"Authorization": f"Bearer {other_key}"}
    ) as other:
        unknown = await other.get("/orders/ord_does-not-exist")
        for response in (
            await other.get(f"/orders/{sent['id']}"),
            await other.patch(f"/orders/{sent['id']}", json={"status": "REJECTED"}),
            await other.put(
                f"/orders/{sent['id']}/report",
                content=b"%PDF-1.4 x",
                headers={"content-type": "application/pdf"},
            ),
        ):
            assert response.status_code == 404
            assert response.json() == unknown.json()
        listed = (await other.get("/orders")).json()
        assert listed == {"orders": [], "next_cursor": None}
        # Its catalog is its own: empty, and replacing it leaves this vendor's as it was.
        assert (await other.get("/packages")).json() == {"packages": []}
        hijack = {"packages": [{"id": "hijack", "name": "Not yours"}]}
        assert (await other.put("/packages", json=hijack)).status_code == 200
    async with httpx.AsyncClient(base_url=f"{world.api}/vendor/v1") as nobody:
        assert (await nobody.get(f"/orders/{sent['id']}")).status_code == 401
        wrong = {"Authorization": f"Bearer {vendor.key}x"}
        assert (await nobody.get(f"/orders/{sent['id']}", headers=wrong)).status_code == 401
    async with vendor.hub(world.api) as owner:
        after = (await owner.get(f"/orders/{sent['id']}")).json()
        assert {p["id"] for p in (await owner.get("/packages")).json()["packages"]} == catalog
    assert (after["status"], after["revision"], after["report"]) == (
        before["status"],
        before["revision"],
        before["report"],
    )


async def test_a_cancelled_order_reaches_the_vendor_and_its_late_report_is_refused(
    world, vendor, company, admin
):
    placed = await world.order("ref-sql", company_id=company)
    order_id = placed["order_id"]
    sent = (await vendor.order_for(placed["candidate"]["email"]))["hub_order"]
    await world.sr_status_becomes(order_id, "PENDING")
    cancelled = await admin.post(f"/orders/{order_id}/repairs/cancel", json=WHO)
    assert cancelled.status_code == 200, cancelled.text

    async def told():
        hooks = await vendor.webhooks(sent["id"])
        return [h for h in hooks if h["type"] == "order.cancelled" and h["status"] == 200]

    await eventually(told, what="the vendor to hear of the cancellation")
    at_vendor = await vendor.order_for(placed["candidate"]["email"])
    assert at_vendor["status"] == "CANCELLED"
    async with vendor.hub(world.api) as hub:
        late = await hub.patch(
            f"/orders/{sent['id']}",
            json={"status": "COMPLETED", "result": {"summary": "too late"}},
        )
        assert late.status_code == 409 and late.json()["errors"][0]["code"] == "ORDER_CLOSED"
        shown = (await hub.get(f"/orders/{sent['id']}")).json()
    assert shown["closed"]["reason"] == "cancelled"
    assert (await world.sr_order(order_id))["result"]["status"] == "REJECTED"


async def test_a_vendor_refusing_an_order_rejects_it_with_its_reason(world, vendor, company):
    await vendor.control("PUT", "mode", {"webhooks": "refuse"})
    placed = await world.order("ref-sql", company_id=company)
    done = await world.sr_status_becomes(placed["order_id"], "REJECTED")
    assert "We cannot test this candidate" in done["result"]["summary"]


async def test_a_vendor_down_for_a_while_gets_the_order_once_it_is_back(
    world, vendor, company, admin
):
    await vendor.control("PUT", "mode", {"webhooks": "down"})
    placed = await world.order("ref-sql", company_id=company)
    email = placed["candidate"]["email"]

    async def refused_twice():
        deliveries = (await vendor.http.get(f"{vendor.url}/_sim/webhooks")).json()
        down = [d for d in deliveries if d["status"] == 503]
        return len(down) >= 2 or None

    await eventually(refused_twice, what="two deliveries refused while the vendor is down")
    await vendor.control("PUT", "mode", {"webhooks": "accept"})
    sent = (await vendor.order_for(email))["hub_order"]
    await world.sr_status_becomes(placed["order_id"], "PENDING")
    assert (
        len([o for o in await vendor.orders() if o["hub_order"]["candidate"]["email"] == email])
        == 1
    )
    async with vendor.hub(world.api) as hub:
        attempts = [
            d["outcome"] for d in (await hub.get(f"/orders/{sent['id']}")).json()["deliveries"]
        ]
    assert attempts[-1] == "200" and "503" in attempts
    # Operators see the same attempts on the order.
    shown = (await admin.get(f"/orders/{placed['order_id']}")).json()
    assert [d["outcome"] for d in shown["vendor_deliveries"]] == attempts


async def test_an_inline_order_of_a_package_the_vendor_offers_only_by_invitation_is_refused(
    world, vendor, company
):
    placed = await world.order("ref-sql", kind="inline", company_id=company)
    assert placed["partner_status"] == 422, placed
    assert "not inline" in placed["partner_body"]["message"]
    assert placed["candidate"]["email"] not in json.dumps(await vendor.orders())


async def test_an_inline_order_answers_sr_with_the_vendors_link(world, vendor, company):
    placed = await world.order("ref-python", kind="inline", company_id=company)
    assert placed["partner_status"] == 200, placed
    at_vendor = await vendor.order_for(placed["candidate"]["email"])
    assert placed["candidate_url"] == at_vendor["test_url"]
    assert at_vendor["hub_order"]["inline"] is True


async def test_a_candidate_takes_the_reference_vendors_test_in_a_browser(
    world, vendor, company, browser
):
    placed = await world.order("ref-python", company_id=company)
    at_vendor = await vendor.order_for(placed["candidate"]["email"])
    page = await browser.new_page()
    await page.goto(at_vendor["test_url"])
    inputs = page.locator("input[type=number]")
    assert await inputs.count() == 2  # one per assessment of the package
    for index in range(2):
        await inputs.nth(index).fill("90")
    await page.get_by_role("button", name="Submit").click()
    await page.get_by_text("Thank you").first.wait_for()

    done = await world.sr_status_becomes(placed["order_id"], "COMPLETED")
    assert done["result"]["score"] == {"raw": 90, "min": 0, "max": 100}
    # IN_PROGRESS (the page opened) reaches SR unless the result overtakes it.
    statuses = [p["status"] for p in done["patches"] if p["status"] != "IN_PROGRESS"]
    assert statuses == ["PENDING", "COMPLETED"]
    assert len(done["attachments"]) == 1


async def test_an_expired_orders_late_report_is_refused_and_the_vendor_was_told(
    world, vendor, reference_vendor, registered, store
):
    """An account whose package expires in seconds (an operator's package setting): the order
    expires, the vendor hears why, and its result after that is refused by name."""
    key, secret = f"vk_expiring-{uuid.uuid4().hex}", reference_vendor[2]
    account = await store.create_vendor_account(
        name=f"api-expiring-{uuid.uuid4().hex[:8]}",
        adapter="api",
        credentials={"webhook_url": f"{vendor.url}/webhooks/hub", "webhook_secret": secret},
        package_settings={"ref-sql": {"deadline_days": 4 / 86400}},
    )
    await store.vendor_api.issue_key(account.id, "e2e", key)
    async with httpx.AsyncClient(
        base_url=f"{world.api}/vendor/v1", headers={"Authorization": f"Bearer {key}"}
    ) as hub:
        catalog = {"packages": [{"id": "ref-sql", "name": "SQL basics", "deadline_days": 5}]}
        assert (await hub.put("/packages", json=catalog)).status_code == 200
        company = await connect_company(
            world.sr, (await store.issue_trigger_token(account.id)).token
        )
        placed = await world.order("ref-sql", company_id=company)
        await world.sr_status_becomes(placed["order_id"], "EXPIRED")
        sent = (await vendor.order_for(placed["candidate"]["email"]))["hub_order"]
        cancelled = [h for h in await vendor.webhooks(sent["id"]) if h["type"] == "order.cancelled"]
        assert cancelled and cancelled[-1]["status"] == 200
        late = await hub.patch(
            f"/orders/{sent['id']}",
            json={"status": "COMPLETED", "result": {"summary": "Finished after the deadline"}},
        )
        assert late.status_code == 409
        assert late.json()["errors"][0]["code"] == "ORDER_CLOSED"
        assert "expired" in late.json()["message"]
        assert (await hub.get(f"/orders/{sent['id']}")).json()["closed"]["reason"] == "expired"
    assert (await world.sr_order(placed["order_id"]))["result"]["status"] == "EXPIRED"
