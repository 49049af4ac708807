"""The store on both databases: what it keeps, what it refuses,
and that no secret is at rest in plaintext."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy.exc import IntegrityError

from store import (
    AlreadyConnected,
    ConnectionState,
    ReferenceConflict,
    Store,
    UnknownTriggerToken,
    UnknownVendorAccount,
    UnreadableSecret,
    VendorAccount,
    VendorAccountNameTaken,
)
from store.tables import Base
from vendors.base import VendorAdapter
from vendors.hackerrank import HackerRankVendor

VENDOR_API_KEY = "hr-api-key-5f1c9e"
SR_CLIENT_SECRET = "sr-issued-secret-8d2a41"
PLUS_TWO_HOURS = timezone(timedelta(hours=2))


async def new_account(store: Store, name: str = "HackerRank (ACME)") -> VendorAccount:
    return await store.create_vendor_account(
        name=name, adapter="hackerrank", credentials={"api_key": VENDOR_API_KEY}
    )


async def connect(
    store: Store, company_id: str, account: VendorAccount | None = None
) -> tuple[str, str]:
    """Connect the company as the Connect flow would;
    returns the partner credentials minted for it."""
    account = account or await new_account(store, name=f"account of {company_id}")
    issued = await store.issue_trigger_token(account.id)
    client_id, secret = Store.mint_partner_credentials()
    await store.complete_connection(
        company_id=company_id,
        vendor_account_id=account.id,
        trigger_token_id=issued.token_id,
        consent_email=f"admin@{company_id}.example",
        partner_client_id=client_id,
        partner_client_secret=secret,
        sr_client_id=f"sr-client-{company_id}",
        sr_client_secret=SR_CLIENT_SECRET,
    )
    return client_id, secret


async def test_migrating_again_changes_nothing_and_migrations_match_the_models(store, raw):
    await store.migrate()

    async with raw.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert differences == []
    assert await raw.rows("alembic_version") == [("0007",)]


async def test_vendor_account_round_trip_keeps_credentials_encrypted_at_rest(store, raw):
    created = await store.create_vendor_account(
        name="HackerRank (ACME)",
        adapter="hackerrank",
        credentials={"api_key": VENDOR_API_KEY},
        package_settings={"skills-fullstack": {"deadline_days": 3.5}},
    )

    read = await store.vendor_account(created.id)
    assert read == created
    assert read.credentials == {"api_key": VENDOR_API_KEY}
    assert read.package_settings == {"skills-fullstack": {"deadline_days": 3.5}}
    assert read.created_at.tzinfo is UTC
    assert await store.vendor_accounts() == [created]
    assert VENDOR_API_KEY not in repr(read)
    stored = await raw.text_of("vendor_accounts")
    assert VENDOR_API_KEY not in stored and "api_key" not in stored
    assert await store.vendor_account("no-such-account") is None


async def test_replaced_credentials_are_encrypted_and_read_back(store, raw):
    account = await new_account(store, name="Rotating")
    rotated = "hr-api-key-rotated-77a0"
    replaced = await store.replace_vendor_credentials(account.id, {"api_key": rotated})
    assert (
        replaced.credentials
        == {"api_key": rotated}
        == (await store.vendor_account(account.id)).credentials
    )
    stored = await raw.text_of("vendor_accounts")
    assert rotated not in stored and VENDOR_API_KEY not in stored
    with pytest.raises(UnknownVendorAccount):
        await store.replace_vendor_credentials("no-such-account", {"api_key": rotated})


async def test_the_registry_picks_up_replaced_credentials(store):
    from settings import Settings
    from vendors.registry import Vendors

    account = await new_account(store, name="Registry")
    vendors = Vendors(Settings(), store, recheck_seconds=0)
    async with vendors.using(account.id) as first, vendors.using(account.id) as again:
        assert again is first  # unchanged credentials: the same adapter
    await store.replace_vendor_credentials(account.id, {"api_key": "hr-api-key-rotated-77a0"})
    async with vendors.using(account.id) as second:
        assert second is not first  # rebuilt with the new key
    async with vendors.using(account.id) as again:
        assert again is second
    await vendors.aclose()


def _closed(adapter: VendorAdapter) -> tuple[bool, bool]:
    """Whether a HackerRank adapter's API and download clients are closed."""
    hackerrank = cast(HackerRankVendor, adapter)
    return hackerrank._http.is_closed, hackerrank._downloads.is_closed


async def test_a_retired_adapter_stays_open_while_a_call_holds_it_and_closes_after(store):
    from settings import Settings
    from vendors.registry import Vendors

    account = await new_account(store, name="Retiring")
    vendors = Vendors(Settings(), store, recheck_seconds=0)
    async with vendors.using(account.id) as first:
        await store.replace_vendor_credentials(account.id, {"api_key": "hr-api-key-rotated-9c41"})
        async with vendors.using(account.id) as second:
            assert second is not first
            # However long the first call runs (a catalog read can take minutes), it keeps its
            # HTTP clients.
            assert _closed(first) == (False, False)
        assert not _closed(second)[0]  # the current adapter stays open between calls
    assert _closed(first) == (True, True)  # closed with its last call
    await vendors.aclose()
    assert _closed(second)[0]


async def test_an_adapter_retired_while_unused_is_closed_at_once(store):
    from settings import Settings
    from vendors.registry import Vendors

    account = await new_account(store, name="Retiring idle")
    vendors = Vendors(Settings(), store, recheck_seconds=0)
    async with vendors.using(account.id) as first:
        pass
    await store.replace_vendor_credentials(account.id, {"api_key": "hr-api-key-rotated-5d02"})
    async with vendors.using(account.id) as second:
        assert _closed(first)[0] and not _closed(second)[0]
    await vendors.aclose()


async def test_vendor_account_names_are_unique(store):
    await new_account(store, name="Sandbox")

    with pytest.raises(VendorAccountNameTaken):
        await new_account(store, name="Sandbox")
    assert [account.name for account in await store.vendor_accounts()] == ["Sandbox"]


async def test_trigger_token_is_valid_until_revoked_and_can_be_redeemed_repeatedly(store):
    account = await new_account(store)
    issued = await store.issue_trigger_token(account.id)
    assert issued.token.startswith("ett_") and len(issued.token) > 40
    assert issued.vendor_account_id == account.id and issued.expires_at is None

    for _ in range(2):  # one customer may connect several companies with one token
        redeemed = await store.redeem_trigger_token(issued.token)
        assert redeemed is not None
        assert (redeemed.id, redeemed.vendor_account_id, redeemed.revoked_at) == (
            issued.token_id,
            account.id,
            None,
        )

    assert await store.revoke_trigger_token(issued.token_id) is True
    assert await store.redeem_trigger_token(issued.token) is None
    [listed] = await store.trigger_tokens(account.id)
    assert listed.id == issued.token_id and listed.revoked_at is not None
    assert await store.revoke_trigger_token(issued.token_id) is True
    assert (await store.trigger_tokens())[
        0
    ].revoked_at == listed.revoked_at  # the first revocation stands
    assert await store.revoke_trigger_token("no-such-token") is False
    assert await store.redeem_trigger_token("ett_made-up") is None


async def test_expired_trigger_token_is_refused(store):
    account = await new_account(store)
    now = datetime.now(UTC)
    expired = await store.issue_trigger_token(account.id, expires_at=now - timedelta(seconds=1))
    # Given in another time zone, handed back in UTC.
    current = await store.issue_trigger_token(
        account.id, expires_at=(now + timedelta(hours=1)).astimezone(PLUS_TWO_HOURS)
    )

    assert await store.redeem_trigger_token(expired.token) is None
    redeemed = await store.redeem_trigger_token(current.token)
    assert redeemed is not None and redeemed.expires_at == current.expires_at == now + timedelta(
        hours=1
    )
    assert redeemed.expires_at.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        await store.issue_trigger_token(account.id, expires_at=datetime.now())  # noqa: DTZ005


async def test_a_trigger_token_for_one_company_connects_that_company_only(store, raw):
    account = await new_account(store)
    for_acme = await store.issue_trigger_token(account.id, company_id="acme")
    any_company = await store.issue_trigger_token(account.id)
    assert (for_acme.company_id, any_company.company_id) == ("acme", None)

    redeemed = await store.redeem_trigger_token(for_acme.token)
    assert (
        redeemed.company_id == "acme" and redeemed.admits("acme") and not redeemed.admits("globex")
    )
    assert (await store.redeem_trigger_token(any_company.token)).admits("globex")
    assert {token.id: token.company_id for token in await store.trigger_tokens(account.id)} == {
        for_acme.token_id: "acme",
        any_company.token_id: None,
    }

    def complete(company_id: str):
        return store.complete_connection(
            company_id=company_id,
            vendor_account_id=account.id,
            trigger_token_id=for_acme.token_id,
            consent_email=f"admin@{company_id}.example",
            partner_client_id=f"sr_{company_id}",
            partner_client_secret="secret",
            sr_client_id=f"sr-client-{company_id}",
            sr_client_secret=SR_CLIENT_SECRET,
        )

    with pytest.raises(UnknownTriggerToken):
        await complete("globex")
    assert await store.connection("globex") is None
    for table in ("company_connections", "partner_credentials", "smartrecruiters_credentials"):
        assert "globex" not in await raw.text_of(table)
    assert (await complete("acme")).state is ConnectionState.CONNECTED


async def test_trigger_tokens_are_kept_only_as_hashes(store, raw):
    account = await new_account(store)
    issued = [await store.issue_trigger_token(account.id) for _ in range(3)]

    stored = await raw.text_of("trigger_tokens")
    for token in issued:
        assert token.token not in stored
        assert token.token.removeprefix("ett_") not in stored
    assert len(await store.trigger_tokens(account.id)) == 3
    assert await store.trigger_tokens("another-account") == []


async def test_trigger_token_needs_a_known_vendor_account(store):
    with pytest.raises(UnknownVendorAccount):
        await store.issue_trigger_token("no-such-account")


async def test_connected_company_authenticates_with_its_partner_credentials(store, raw):
    account = await new_account(store)
    client_id, secret = await connect(store, "acme", account)

    connection = await store.connection("acme")
    assert connection.state is ConnectionState.CONNECTED
    assert (connection.vendor_account_id, connection.consent_email) == (
        account.id,
        "admin@acme.example",
    )
    assert connection.connected_at.tzinfo is UTC and connection.disconnected_at is None
    assert await store.connections() == [connection]
    assert client_id.startswith("sr_")

    assert (
        await store.authenticate_partner(client_id, secret) == connection
    )  # the connection they were minted with
    assert await store.authenticate_partner(client_id, secret + "x") is None
    assert await store.authenticate_partner("sr_unknown", secret) is None
    assert secret not in await raw.text_of("partner_credentials")


async def test_smartrecruiters_credentials_are_encrypted_at_rest(store, raw):
    await connect(store, "acme")

    assert await store.smartrecruiters_credentials("acme") == ("sr-client-acme", SR_CLIENT_SECRET)
    assert SR_CLIENT_SECRET not in await raw.text_of("smartrecruiters_credentials")
    assert await store.smartrecruiters_credentials("unknown") is None


async def test_connecting_a_connected_company_again_is_refused_and_changes_nothing(store):
    account = await new_account(store)
    client_id, secret = await connect(store, "acme", account)

    with pytest.raises(AlreadyConnected):
        await connect(store, "acme", account)
    assert (await store.authenticate_partner(client_id, secret)).company_id == "acme"
    assert len(await store.connections()) == 1


async def test_disconnected_company_can_reconnect_and_only_its_new_credentials_work(store, raw):
    account = await new_account(store)
    old_id, old_secret = await connect(store, "acme", account)

    disconnected = await store.disconnect("acme")
    assert (
        disconnected.state is ConnectionState.DISCONNECTED
        and disconnected.disconnected_at is not None
    )
    assert await store.authenticate_partner(old_id, old_secret) is None
    assert [revoked_at is not None for *_, revoked_at in await raw.rows("partner_credentials")] == [
        True
    ]
    assert await store.disconnect("acme") == disconnected  # idempotent
    assert await store.disconnect("never-connected") is None

    new_id, new_secret = await connect(store, "acme", account)
    reconnected = await store.connection("acme")
    assert reconnected.state is ConnectionState.CONNECTED and reconnected.disconnected_at is None
    assert reconnected.connected_at > disconnected.connected_at
    assert await store.authenticate_partner(new_id, new_secret) == reconnected
    assert await store.authenticate_partner(old_id, old_secret) is None


async def test_failed_connect_leaves_nothing_behind(store, raw):
    account = await new_account(store)
    issued = await store.issue_trigger_token(account.id)
    taken_client_id, _ = await connect(store, "acme", account)

    def attempt(**overrides):
        arguments = dict(
            company_id="globex",
            vendor_account_id=account.id,
            trigger_token_id=issued.token_id,
            consent_email="admin@globex.example",
            partner_client_id="sr_globex",
            partner_client_secret="globex-secret",
            sr_client_id="sr-client-globex",
            sr_client_secret="globex-sr-secret",
        )
        return store.complete_connection(**arguments | overrides)

    with pytest.raises(UnknownVendorAccount):
        await attempt(vendor_account_id="no-such-account")
    token_of_another_account = await store.issue_trigger_token(
        (await new_account(store, name="other")).id
    )
    with pytest.raises(UnknownTriggerToken):
        await attempt(trigger_token_id=token_of_another_account.token_id)
    # Fails on inserting the partner credentials, after the connection row: that row must go too.
    with pytest.raises(IntegrityError):
        await attempt(partner_client_id=taken_client_id)

    assert await store.connection("globex") is None
    assert await store.smartrecruiters_credentials("globex") is None
    for table in ("company_connections", "partner_credentials", "smartrecruiters_credentials"):
        assert "globex" not in await raw.text_of(table)
    await attempt()  # and the same Connect, done right, goes through
    assert (await store.authenticate_partner("sr_globex", "globex-secret")).company_id == "globex"


async def test_data_written_under_the_old_key_is_usable_after_rotation(
    store, database_url, encryption_key
):
    account = await new_account(store)
    issued = await store.issue_trigger_token(account.id)
    client_id, secret = await connect(store, "acme", account)

    new_key = Fernet.generate_key().decode()
    rotated = Store(database_url, f"{new_key}, {encryption_key}")
    new_key_only = Store(database_url, new_key)
    try:
        assert (await rotated.vendor_account(account.id)).credentials == {"api_key": VENDOR_API_KEY}
        assert await rotated.smartrecruiters_credentials("acme") == (
            "sr-client-acme",
            SR_CLIENT_SECRET,
        )
        assert (await rotated.redeem_trigger_token(issued.token)).id == issued.token_id
        assert (await rotated.authenticate_partner(client_id, secret)).company_id == "acme"

        # What the rotated store writes is under the new key alone.
        written_after = await rotated.create_vendor_account(
            name="after rotation", adapter="sandbox", credentials={"api_key": "k2"}
        )
        assert (await new_key_only.vendor_account(written_after.id)).credentials == {
            "api_key": "k2"
        }
        issued_after = await rotated.issue_trigger_token(written_after.id)
        assert (
            await new_key_only.redeem_trigger_token(issued_after.token)
        ).id == issued_after.token_id
        with pytest.raises(UnreadableSecret):
            await new_key_only.vendor_account(account.id)
        assert await new_key_only.redeem_trigger_token(issued.token) is None
    finally:
        await rotated.dispose()
        await new_key_only.dispose()


async def test_vendor_reference_index_is_idempotent_and_refuses_a_second_order(store):
    account = await new_account(store)
    other = await new_account(store, name="another account")

    await store.index_vendor_reference(account.id, "hr-invite-1", "order-1")
    await store.index_vendor_reference(account.id, "hr-invite-1", "order-1")
    with pytest.raises(ReferenceConflict):
        await store.index_vendor_reference(account.id, "hr-invite-1", "order-2")
    await store.index_vendor_reference(
        other.id, "hr-invite-1", "order-3"
    )  # references are per account

    assert await store.order_for_vendor_reference(account.id, "hr-invite-1") == "order-1"
    assert await store.order_for_vendor_reference(other.id, "hr-invite-1") == "order-3"
    assert await store.order_for_vendor_reference(account.id, "hr-invite-2") is None
    with pytest.raises(UnknownVendorAccount):
        await store.index_vendor_reference("no-such-account", "hr-invite-1", "order-1")


async def test_processes_starting_together_migrate_once(database_url, encryption_key):
    stores = [Store(database_url, encryption_key) for _ in range(4)]
    try:
        await asyncio.gather(*(store.migrate() for store in stores))
        assert await stores[0].vendor_accounts() == []
    finally:
        await asyncio.gather(*(store.dispose() for store in stores))
