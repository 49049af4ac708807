"""Reading TestGorilla where its docs are thin. One candidature is one order's: however its
reference is written (with the test taker, as an invite answer gives it, or without, as the docs'
list rows and older orders have it), a second order of it meets the first in our index and is
refused. A candidate detail in no form we know leaves the documented list to decide."""

from __future__ import annotations

import httpx
import pytest
from cryptography.fernet import Fernet

from orders.models import VendorStatus
from settings import Settings
from store import ReferenceConflict, Store
from tests.vendors.test_testgorilla_support import order_for
from vendors import testgorilla
from vendors.base import OrderCallback

# The docs' candidature-list row: no test-taker id.
LISTED = {
    "id": 8000,
    "email": "john@example.com",
    "invitation_uuid": "edb70e44",
    "invitation_link": "https://tg.example/edb70e44",
}


def one_invite_then_repeats() -> httpx.MockTransport:
    """The first invite answers as consumer code reads it; any later one is a repeat."""
    invites = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal invites
        if request.method == "POST" and request.url.path == "/api/assessments/32/invite_candidate/":
            invites += 1
            if invites == 1:
                return httpx.Response(200, json=LISTED | {"testtaker_id": 6386717})
            return httpx.Response(
                400, json={"errors": [{"field": "email", "error_key": "REPEATING_INVITATION"}]}
            )
        if request.url.path == "/api/assessments/candidature/":
            return httpx.Response(200, json={"results": [LISTED]})
        return httpx.Response(404, json={"detail": "Not found."})

    return httpx.MockTransport(answer)


async def adapter(transport: httpx.MockTransport):
    vendor = testgorilla.from_account(
        Settings(), {"api_token": "t", "base_url": "http://tg.example"}
    )
    await vendor._http.aclose()
    vendor._http = httpx.AsyncClient(base_url="http://tg.example/api", transport=transport)
    return vendor


async def test_a_second_order_of_one_candidature_meets_the_first_in_our_index(tmp_path):
    transport = one_invite_then_repeats()
    callback = OrderCallback(url="https://us.example/webhooks/testgorilla", token="t")
    first = await (await adapter(transport)).create_invitation(
        order_for(32, email="john@example.com"), callback
    )
    # Another process (or one restarted since) finds the same candidature as a repeat.
    second = await (await adapter(transport)).create_invitation(
        order_for(32, email="john@example.com"), callback
    )
    assert first.vendor_ref == "32:8000:6386717" and second.vendor_ref == "32:8000"

    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", Fernet.generate_key().decode())
    await store.migrate()
    try:
        account = await store.create_vendor_account(
            name="TestGorilla", adapter="testgorilla", credentials={"api_token": "t"}
        )
        for key in (first.vendor_ref, *first.webhook_keys):
            await store.index_vendor_reference(account.id, key, "order-1:company-1")
        conflicts = 0
        for key in (second.vendor_ref, *second.webhook_keys):
            try:
                await store.index_vendor_reference(account.id, key, "order-2:company-1")
            except ReferenceConflict:
                conflicts += 1
        assert conflicts == 1
    finally:
        await store.dispose()


def detail_answering(status: int, body: object) -> httpx.MockTransport:
    """TestGorilla whose candidate detail answers `status` with `body`; its documented list holds
    the candidature, completed."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/assessments/candidates/6386717/":
            return httpx.Response(status, json=body)
        if request.url.path == "/api/assessments/candidature/":
            return httpx.Response(
                200, json={"results": [LISTED | {"status": "completed", "testtaker_id": 6386717}]}
            )
        return httpx.Response(404, json={"detail": "Not found."})

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (405, {"detail": 'Method "GET" not allowed.'}),
        (200, {"unexpected": "form"}),
        (200, ["a", "list"]),
        (200, {"assessments_detail": ["not an object"]}),
    ],
    ids=["405", "unknown-object", "a-list", "odd-items"],
)
async def test_a_candidate_detail_we_cannot_read_leaves_the_documented_list_to_decide(status, body):
    """Only consumer code shows the detail's form: an answer in none we know is no verdict."""
    vendor = await adapter(detail_answering(status, body))
    reading = await vendor.get_status("32:8000:6386717")
    assert reading.status == VendorStatus.COMPLETED
