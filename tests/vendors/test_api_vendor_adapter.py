"""The API vendor's adapter against a vendor's webhook receiver over HTTP: what it signs, what it
keeps of each attempt, how it reads the vendor's answers, and what it never lets into a message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from orders.models import Order, VendorStatus
from peers import PeerError
from settings import Settings
from store import Store
from tests.support.order_workflows import an_order as a_test_order
from tests.support.servers import serve
from vendors import api_protocol as protocol
from vendors.api_vendor import from_account, new_webhook_secret
from vendors.base import OrderCallback
from vendors.registry import AdapterContext, UnknownAdapter, build_adapter

SECRET = new_webhook_secret()
CALLBACK = OrderCallback(url="unused", token="unused")
RECEIVED = datetime.now(UTC).replace(microsecond=0)


class Receiver:
    """A vendor's webhook URL: answers as told, keeps what arrived."""

    def __init__(self) -> None:
        self.url = ""
        self.answers: list[tuple[int, dict]] = []
        self.received: list[tuple[dict, bytes]] = []
        self.app = FastAPI()

        @self.app.post("/hooks")
        async def hooks(request: Request) -> JSONResponse:
            self.received.append((dict(request.headers), await request.body()))
            status, body = self.answers.pop(0) if self.answers else (200, {})
            return JSONResponse(body, status)

        @self.app.get("/packages")
        async def packages(request: Request) -> JSONResponse:
            self.received.append((dict(request.headers), await request.body()))
            status, body = self.answers.pop(0) if self.answers else (200, {})
            return JSONResponse(body, status)


@pytest.fixture
def receiver():
    vendor = Receiver()
    with serve(vendor.app) as url:
        vendor.url = url
        yield vendor


@pytest.fixture
async def adapter(receiver, tmp_path):
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", Fernet.generate_key().decode())
    await store.migrate()
    account = await store.create_vendor_account(name="v", adapter="api", credentials={})
    vendor = from_account(
        Settings(),
        {"webhook_url": f"{receiver.url}/hooks", "webhook_secret": SECRET},
        account.id,
        store.vendor_api,
    )
    yield vendor
    await vendor.aclose()
    await store.dispose()


def an_order(inline: bool = False, received_at: datetime = RECEIVED) -> Order:
    return a_test_order(
        order_id="o-1",
        company_id="c-1",
        package_id="ref-sql",
        package_name="SQL",
        vendor="api",
        inline=inline,
        deadline_days=5,
        received_at=received_at,
    )


async def test_each_attempt_is_signed_afresh_under_one_webhook_id_and_kept(adapter, receiver):
    receiver.answers = [(503, {}), (200, {"test_url": "https://vendor.example/t/1"})]
    with pytest.raises(PeerError) as unavailable:
        await adapter.create_invitation(an_order(), CALLBACK)
    assert unavailable.value.retryable and unavailable.value.status == 503
    invitation = await adapter.create_invitation(an_order(), CALLBACK)

    (first_headers, _), (headers, body) = receiver.received
    assert first_headers["webhook-id"] == headers["webhook-id"]
    event = Webhook(SECRET).verify(body, headers)
    assert event["type"] == "order.created"
    protocol.OrderEvent.model_validate(event)  # as the published document describes it
    sent = event["data"]["order"]
    assert sent["id"] == invitation.vendor_ref and sent["status"] == "PENDING"
    assert sent["candidate"]["email"] == "ada@example.com"
    assert sent["deadline"] == (RECEIVED + timedelta(days=5)).isoformat()
    assert [d["outcome"] for d in sent["deliveries"]] == ["503"]
    assert invitation.test_url == "https://vendor.example/t/1"
    assert (await adapter.get_status(invitation.vendor_ref)).status == VendorStatus.INVITED
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"Ada", b"Eve"), headers)


async def test_a_refusal_keeps_the_vendors_reason_but_never_the_candidate(adapter, receiver):
    receiver.answers = [
        (
            422,
            {
                "message": "Ada Lovelace (ada@example.com) is\nbarred\tfrom testing here; "
                "ADA LOVELACE, or mail ADA@EXAMPLE.COM"
            },
        )
    ]
    with pytest.raises(PeerError) as refused:
        await adapter.create_invitation(an_order(), CALLBACK)
    message = str(refused.value)
    assert not refused.value.retryable and refused.value.status == 422
    assert "ada" not in message.lower() and "lovelace" not in message.lower()
    assert "[candidate] ([candidate]) is barred from testing here; [candidate], or mail" in message
    # Refused for good: the vendor's later reports on it are refused too.
    [kept] = await adapter._records.orders(adapter._account_id)
    assert kept.closed_reason == "refused"


@pytest.mark.parametrize(
    ("received", "reason"),
    [(RECEIVED, "cancelled"), (RECEIVED - timedelta(days=6), "expired")],
)
async def test_withdrawing_closes_the_order_and_tells_the_vendor_why(
    adapter, receiver, received, reason
):
    invitation = await adapter.create_invitation(an_order(received_at=received), CALLBACK)
    await adapter.cancel_invitation(invitation.vendor_ref)
    await adapter.cancel_invitation(invitation.vendor_ref)  # retried: the same event again
    events = [Webhook(SECRET).verify(body, headers) for headers, body in receiver.received[1:]]
    assert [(e["type"], e["data"]["reason"]) for e in events] == [("order.cancelled", reason)] * 2
    assert receiver.received[1][0]["webhook-id"] == receiver.received[2][0]["webhook-id"]
    assert events[0]["data"]["order"]["closed"]["reason"] == reason
    assert json.loads(receiver.received[0][1])["type"] == "order.created"


async def test_a_package_list_url_is_read_signed_and_wins_over_a_published_catalog(
    adapter, receiver, tmp_path
):
    published = [{"id": "published", "name": "Published"}]
    await adapter._records.replace_catalog(adapter._account_id, published)
    assert [p.id for p in await adapter.list_packages()] == ["published"]

    listing = from_account(
        Settings(),
        {
            "webhook_url": f"{receiver.url}/hooks",
            "webhook_secret": SECRET,
            "packages_url": f"{receiver.url}/packages",
        },
        adapter._account_id,
        adapter._records,
    )
    try:
        catalog = {"packages": [{"id": "listed", "name": "Listed", "deadline_days": 3}]}
        receiver.answers = [(200, catalog), (200, {"packages": [{"id": "bad id"}]}), (503, {})]
        [package] = await listing.list_packages()
        assert (package.id, package.deadline_days) == ("listed", 3)
        headers, body = receiver.received[-1]
        assert body == b""
        Webhook(SECRET).verify("", headers, json_parse=False)  # signed over the empty body
        for _ in range(2):  # an answer not in the protocol's shape, then the vendor failing
            with pytest.raises(PeerError):
                await listing.list_packages()
    finally:
        await listing.aclose()
    with pytest.raises(UnknownAdapter):
        build_adapter(
            Settings(),
            "api",
            {"webhook_url": f"{receiver.url}/hooks", "packages_url": "file:///etc/passwd"},
            AdapterContext(account_id="a", vendor_api=adapter._records),
        )


async def test_an_answer_larger_than_an_answer_can_be_is_not_read_on(adapter, receiver):
    receiver.answers = [(200, {"test_url": "https://vendor.example/t", "pad": "x" * 100_000})]
    with pytest.raises(PeerError) as oversized:
        await adapter.create_invitation(an_order(), CALLBACK)
    assert oversized.value.retryable and "more than 65536 bytes" in str(oversized.value)
    [kept] = await adapter._records.orders(adapter._account_id)
    [attempt] = await adapter._records.deliveries(kept.id)
    assert attempt.outcome == "order.created answered with more than 65536 bytes"


async def test_an_abandoned_invitation_the_vendor_took_is_cancelled_there(adapter, receiver):
    """The order gave up after the vendor took its order.created (a cancellation while a later
    try waited, say): the vendor is told, and its order is closed; one it never took is closed
    without a word (tests/workflows/test_api_vendor_order.py)."""
    await adapter.create_invitation(an_order(), CALLBACK)
    await adapter.abandon_invitation("o-1:c-1")
    await adapter.abandon_invitation("o-1:c-1")  # retried: closed already, nothing sent again
    events = [Webhook(SECRET).verify(body, headers) for headers, body in receiver.received]
    assert [(e["type"], e["data"].get("reason")) for e in events] == [
        ("order.created", None),
        ("order.cancelled", "cancelled"),
    ]
    await adapter.abandon_invitation("no-such-order:c-1")  # an invitation never opened: nothing
    assert len(receiver.received) == 2
