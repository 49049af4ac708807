"""The indexes operators find orders by, on both databases: candidate emails kept only as keyed
hashes, vendor references of every vendor, and the migration that adds them to a store in use."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from store import Store
from store.repository import MIGRATIONS

EMAIL = "Ana.Lopez@Example.COM"


async def test_candidate_emails_are_found_in_any_case_and_kept_only_as_keyed_hashes(store, raw):
    await store.index_candidate_email(EMAIL, "order-1")
    await store.index_candidate_email(EMAIL, "order-1")  # SR retried the order: nothing new
    await store.index_candidate_email("  ana.lopez@example.com ", "order-2")
    await asyncio.gather(
        *(store.index_candidate_email(EMAIL, "order-3") for _ in range(5))
    )  # concurrent retries

    assert await store.orders_by_candidate_email("ANA.LOPEZ@EXAMPLE.COM") == [
        "order-1",
        "order-2",
        "order-3",
    ]
    assert await store.orders_by_candidate_email("ana.lopez@example.org") == []
    rows = await raw.rows("candidate_email_index")
    assert len(rows) == 3
    at_rest = (await raw.text_of("candidate_email_index")).lower()
    assert (
        "ana" not in at_rest
        and "lopez" not in at_rest
        and "@" not in at_rest
        and "example" not in at_rest
    )


async def test_the_email_index_needs_the_key_and_survives_rotation(
    store, database_url, encryption_key
):
    await store.index_candidate_email(EMAIL, "order-1")
    new_key = Fernet.generate_key().decode()
    rotated = Store(database_url, f"{new_key},{encryption_key}")
    other_key_only = Store(database_url, new_key)
    try:
        assert await rotated.orders_by_candidate_email(EMAIL) == ["order-1"]
        assert (
            await other_key_only.orders_by_candidate_email(EMAIL) == []
        )  # useless without the key
        await rotated.index_candidate_email(EMAIL, "order-2")  # written under the new key
        assert await other_key_only.orders_by_candidate_email(EMAIL) == ["order-2"]
        assert await rotated.orders_by_candidate_email(EMAIL) == ["order-1", "order-2"]
    finally:
        await rotated.dispose()
        await other_key_only.dispose()


async def test_vendor_references_of_accounts_and_of_the_default_vendor_are_found(store):
    account = await store.create_vendor_account(
        name="HackerRank (ACME)", adapter="hackerrank", credentials={"api_key": "k"}
    )
    await store.index_vendor_reference(account.id, "hr-1", "order-1")
    await store.index_default_vendor_reference("sandbox", "inv-1", "order-2")
    await store.index_default_vendor_reference(
        "sandbox", "inv-1", "order-2"
    )  # the activity retried

    assert await store.orders_by_vendor_reference("hr-1") == ["order-1"]
    assert await store.orders_by_vendor_reference("inv-1") == ["order-2"]
    assert await store.orders_by_vendor_reference("unknown") == []


async def test_a_store_in_use_is_migrated_and_keeps_its_data(database_url, encryption_key):
    """A store at the first revision, with a vendor reference in it, gets the new indexes; one at
    the second, with orders named by SR's order id alone, keeps finding them by it, and long
    references (order id and company) fit, on PostgreSQL too."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, "0001")
            await connection.execute(
                text(
                    "INSERT INTO vendor_accounts (id, name, adapter, credentials, "
                    "package_settings, created_at) "
                    "VALUES ('acc-1', 'before', 'sandbox', 'x', '{}', CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO vendor_references (vendor_account_id, vendor_ref, "
                    "order_id, created_at) "
                    "VALUES ('acc-1', 'ref-before', 'order-before', CURRENT_TIMESTAMP)"
                )
            )
            await connection.run_sync(_upgrade_to, "0002")
            await connection.execute(
                text(
                    "INSERT INTO default_vendor_references (vendor_ref, order_id, vendor, "
                    "created_at) "
                    "VALUES ('inv-before', 'order-default', 'sandbox', CURRENT_TIMESTAMP)"
                )
            )
    finally:
        await engine.dispose()
    old = Store(database_url, encryption_key)
    try:
        await old.migrate()
        assert await old.orders_by_vendor_reference("ref-before") == ["order-before"]
        assert await old.order_for_vendor_reference("acc-1", "ref-before") == "order-before"
        assert (
            await old.order_for_default_vendor_reference("sandbox", "inv-before") == "order-default"
        )
        long_reference = "o" * 128 + ":" + "c" * 200
        await old.index_candidate_email(EMAIL, long_reference)
        assert await old.orders_by_candidate_email(EMAIL) == [long_reference]
        await old.index_vendor_reference("acc-1", "ref-after", long_reference)
        assert await old.order_for_vendor_reference("acc-1", "ref-after") == long_reference
    finally:
        await old.dispose()


async def test_the_company_sr_confirmed_first_owns_an_order_id(store):
    assert await store.order_owner("order-9") is None
    await asyncio.gather(
        *(store.confirm_order_owner("order-9", "acme") for _ in range(3))
    )  # activities retry
    await store.confirm_order_owner(
        "order-9", "intruder"
    )  # SR never moves an order: the first word stands
    assert await store.order_owner("order-9") == "acme"


def _upgrade_to(connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
