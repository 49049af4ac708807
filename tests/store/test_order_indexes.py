"""The indexes operators find orders by, on both databases: candidate emails kept only as keyed
hashes, vendor references of every vendor, and the migration that adds them to a store in use."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.config import Config
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import create_async_engine

from store import Store
from store.repository import MIGRATIONS

EMAIL = "Ana.Lopez@Example.COM"


async def test_candidate_emails_are_found_in_any_case_and_kept_only_as_keyed_hashes(store, raw):
    await store.index_candidate_email(EMAIL, "order-1")
    await store.index_candidate_email(EMAIL, "order-1")  # SR retried the order: nothing new
    await store.index_candidate_email("  ana.lopez@example.com ", "order-2")
    await asyncio.gather(*(store.index_candidate_email(EMAIL, "order-3") for _ in range(5)))  # concurrent retries

    assert await store.orders_by_candidate_email("ANA.LOPEZ@EXAMPLE.COM") == ["order-1", "order-2", "order-3"]
    assert await store.orders_by_candidate_email("ana.lopez@example.org") == []
    rows = await raw.rows("candidate_email_index")
    assert len(rows) == 3
    at_rest = (await raw.text_of("candidate_email_index")).lower()
    assert "ana" not in at_rest and "lopez" not in at_rest and "@" not in at_rest and "example" not in at_rest


async def test_the_email_index_needs_the_key_and_survives_rotation(store, database_url, encryption_key):
    await store.index_candidate_email(EMAIL, "order-1")
    new_key = Fernet.generate_key().decode()
    rotated = Store(database_url, f"{new_key},{encryption_key}")
    other_key_only = Store(database_url, new_key)
    try:
        assert await rotated.orders_by_candidate_email(EMAIL) == ["order-1"]
        assert await other_key_only.orders_by_candidate_email(EMAIL) == []  # useless without the key
        await rotated.index_candidate_email(EMAIL, "order-2")  # written under the new key
        assert await other_key_only.orders_by_candidate_email(EMAIL) == ["order-2"]
        assert await rotated.orders_by_candidate_email(EMAIL) == ["order-1", "order-2"]
    finally:
        await rotated.dispose()
        await other_key_only.dispose()


async def test_vendor_references_of_accounts_and_of_the_default_vendor_are_found(store):
    account = await store.create_vendor_account(name="HackerRank (ACME)", adapter="hackerrank", credentials={"api_key": "k"})
    await store.index_vendor_reference(account.id, "hr-1", "order-1")
    await store.index_default_vendor_reference("sandbox", "inv-1", "order-2")
    await store.index_default_vendor_reference("sandbox", "inv-1", "order-2")  # the activity retried

    assert await store.orders_by_vendor_reference("hr-1") == ["order-1"]
    assert await store.orders_by_vendor_reference("inv-1") == ["order-2"]
    assert await store.orders_by_vendor_reference("unknown") == []


async def test_a_store_in_use_is_migrated_and_keeps_its_data(database_url, encryption_key):
    """A store at the first revision, with a vendor reference in it, gets the new indexes."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_to, "0001")
    finally:
        await engine.dispose()
    old = Store(database_url, encryption_key)
    try:
        account = await old.create_vendor_account(name="before", adapter="sandbox", credentials={})
        await old.index_vendor_reference(account.id, "ref-before", "order-before")
        await old.migrate()
        assert await old.orders_by_vendor_reference("ref-before") == ["order-before"]
        await old.index_candidate_email(EMAIL, "order-after")
        assert await old.orders_by_candidate_email(EMAIL) == ["order-after"]
    finally:
        await old.dispose()


def _upgrade_to(connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
