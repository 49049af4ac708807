"""What the Vendor API keeps, on both databases: keys by hash, orders scoped to their account
with candidate data encrypted, changes that never undo each other, idempotency answers for a day."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from store import Store, UnknownVendorAccount

CANDIDATE_EMAIL = "ada.lovelace@example.com"
DETAILS = {"candidate": {"first_name": "Ada", "email": CANDIDATE_EMAIL}, "package": {"id": "p"}}


async def api_account(store: Store, name: str = "Vendor A") -> str:
    account = await store.create_vendor_account(
        name=name, adapter="api", credentials={"webhook_url": "https://vendor.example/hooks"}
    )
    return account.id


async def test_a_key_opens_its_account_only_until_revoked_and_is_kept_as_a_hash(store, raw):
    first, second = await api_account(store), await api_account(store, "Vendor B")
    issued = await store.vendor_api.issue_key(first, "production")
    other = await store.vendor_api.issue_key(second, "production")

    assert issued.key.startswith("vk_") and issued.key not in repr(issued)
    assert await store.vendor_api.account_of_key(issued.key) == first
    assert await store.vendor_api.account_of_key(other.key) == second
    assert await store.vendor_api.account_of_key(issued.key + "x") is None
    assert issued.key not in await raw.text_of("vendor_api_keys")

    revoked = await store.vendor_api.revoke_key(issued.id)
    assert revoked is not None and revoked.revoked_at is not None
    assert await store.vendor_api.account_of_key(issued.key) is None
    assert (await store.vendor_api.revoke_key(issued.id)).revoked_at == revoked.revoked_at
    assert await store.vendor_api.revoke_key("no-such-key") is None
    assert [key.label for key in await store.vendor_api.keys(first)] == ["production"]
    with pytest.raises(UnknownVendorAccount):
        await store.vendor_api.issue_key("no-such-account", "x")


async def test_an_order_opens_once_belongs_to_its_account_and_keeps_candidates_encrypted(
    store, raw
):
    account, other = await api_account(store), await api_account(store, "Vendor B")
    opened = await store.vendor_api.open_order(account, "o-1:c-1", DETAILS, "PENDING")
    again = await store.vendor_api.open_order(account, "o-1:c-1", {"changed": True}, "PENDING")

    assert again == opened and again.details == DETAILS and opened.id.startswith("ord_")
    assert await store.vendor_api.order(account, opened.id) == opened
    assert await store.vendor_api.order(other, opened.id) is None
    assert await store.vendor_api.order_by_reference("o-1:c-1") == opened
    at_rest = await raw.text_of("vendor_api_orders")
    assert CANDIDATE_EMAIL not in at_rest and "Ada" not in at_rest
    with pytest.raises(UnknownVendorAccount):
        await store.vendor_api.open_order("no-such-account", "o-2:c-1", DETAILS, "PENDING")


async def test_changes_at_once_are_all_kept_and_a_closed_order_stays_closed(store):
    account = await api_account(store)
    order = await store.vendor_api.open_order(account, "o-1:c-1", DETAILS, "PENDING")

    def note(name: str):
        return lambda current: (current.status, {**current.reported, name: True})

    await asyncio.gather(
        *(store.vendor_api.change_order(account, order.id, note(f"n{i}")) for i in range(5))
    )
    changed = await store.vendor_api.order(account, order.id)
    assert changed.reported == {f"n{i}": True for i in range(5)} and changed.revision == 5
    unchanged = await store.vendor_api.change_order(account, order.id, lambda current: None)
    assert unchanged == (changed, False)
    assert await store.vendor_api.change_order("another", order.id, note("x")) is None

    closed = await store.vendor_api.close_order("o-1:c-1", "expired")
    assert closed.closed_reason == "expired" and closed.closed_at is not None
    assert (await store.vendor_api.close_order("o-1:c-1", "cancelled")).closed_reason == "expired"


async def test_a_report_is_kept_encrypted_once_per_order(store, raw):
    account = await api_account(store)
    order = await store.vendor_api.open_order(account, "o-1:c-1", DETAILS, "PENDING")
    assert await store.vendor_api.put_report(order, b"%PDF-1.4 Ada's report")
    assert not await store.vendor_api.put_report(order, b"%PDF-1.4 stale")  # revision moved on
    latest = await store.vendor_api.order(account, order.id)
    assert latest.has_report and await store.vendor_api.put_report(latest, b"%PDF-1.4 v2")

    assert await store.vendor_api.report(order.id) == b"%PDF-1.4 v2"
    assert len(await raw.rows("vendor_api_reports")) == 1
    assert b"Ada" not in (await raw.text_of("vendor_api_reports")).encode()


async def test_orders_page_by_time_of_change(store):
    account = await api_account(store)
    opened = [
        await store.vendor_api.open_order(account, f"o-{i}:c-1", DETAILS, "PENDING")
        for i in range(5)
    ]
    first = await store.vendor_api.orders(account, limit=2)
    rest = await store.vendor_api.orders(account, after=(first[-1].updated_at, first[-1].id))
    assert [o.id for o in first + rest] == [o.id for o in opened]
    await store.vendor_api.change_order(account, opened[0].id, lambda o: ("IN_PROGRESS", {}))
    assert [o.id for o in await store.vendor_api.orders(account, status="IN_PROGRESS")] == [
        opened[0].id
    ]
    assert await store.vendor_api.orders(await api_account(store, "Vendor B")) == []


async def test_deliveries_are_counted_per_message(store):
    account = await api_account(store)
    order = await store.vendor_api.open_order(account, "o-1:c-1", DETAILS, "PENDING")
    for attempt, outcome in enumerate(["503", "ConnectError", "200"], start=1):
        await store.vendor_api.record_delivery(order.id, "order.created", "msg_1", attempt, outcome)
    assert await store.vendor_api.delivery_attempts(order.id, "msg_1") == 3
    assert await store.vendor_api.delivery_attempts(order.id, "msg_2") == 0
    assert [d.outcome for d in await store.vendor_api.deliveries(order.id, latest=2)] == [
        "ConnectError",
        "200",
    ]
    assert await store.vendor_api.delivered(order.id, "msg_1")
    assert not await store.vendor_api.delivered(order.id, "msg_2")
    await store.vendor_api.record_delivery(order.id, "order.created", "msg_2", 1, "503")
    assert not await store.vendor_api.delivered(order.id, "msg_2")


async def test_an_idempotent_answer_is_kept_for_a_day(store, raw):
    account = await api_account(store)
    await store.vendor_api.remember(account, "key-1", "hash-1", 200, {"email": CANDIDATE_EMAIL})
    await store.vendor_api.remember(account, "key-1", "hash-2", 200, {"second": True})
    kept = await store.vendor_api.remembered(account, "key-1")
    assert (kept.request_hash, kept.answer) == ("hash-1", {"email": CANDIDATE_EMAIL})
    assert await store.vendor_api.remembered(await api_account(store, "B"), "key-1") is None
    assert CANDIDATE_EMAIL not in await raw.text_of("vendor_api_idempotency")

    async with raw.engine.begin() as connection:
        await connection.execute(
            text("UPDATE vendor_api_idempotency SET created_at = :then"),
            {"then": datetime.now(UTC) - timedelta(hours=25)},
        )
    assert await store.vendor_api.remembered(account, "key-1") is None
    await store.vendor_api.remember(account, "key-2", "hash-3", 200, {})
    assert len(await raw.rows("vendor_api_idempotency")) == 1  # the day-old one is gone
