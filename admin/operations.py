"""What an operator does on the hub: vendor accounts, External Trigger Tokens, company
connections, and our partner configuration at SmartRecruiters.

The admin API and the CLI both call `Operations`, on the same store and settings, so they refuse
the same things with the same words. Refusals are `AdminError`s whose messages are safe to show:
they never carry credentials, tokens or SR's answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from admin.audit import Action, Actor, Audit
from admin.models import (
    ApiKeyView,
    ConnectionView,
    IssuedApiKeyView,
    IssuedTriggerTokenView,
    NewApiKey,
    NewCredentials,
    NewTriggerToken,
    NewVendorAccount,
    TriggerTokenView,
    VendorAccountView,
    VendorCheckView,
)
from admin.vendor_check import VendorCheckFailed, check_vendor_account
from connections.disconnect import CompanyDisconnector
from connections.partner_configuration import partner_configuration
from peers import PeerError
from settings import Settings
from smartrecruiters.client import SmartRecruitersClient, smartrecruiters_client
from store import Store, UnknownVendorAccount, UnreadableSecret, VendorAccountNameTaken
from vendors import api_vendor
from vendors.registry import AdapterContext, UnknownAdapter, build_adapter


class AdminError(Exception):
    """A refusal the operator can act on; the message is safe to show. `status`: the HTTP
    status the admin API and the console answer it with."""

    status = 400


class NotFound(AdminError):
    status = 404


class Conflict(AdminError):
    status = 409


class Invalid(AdminError):
    status = 400


class VendorUnchecked(AdminError):
    """A vendor account's catalog could not be read;
    the message says what to fix, never a secret."""

    status = 502


class SmartRecruitersFailed(AdminError):
    """SmartRecruiters could not be reached or refused; nothing of SR's answer is in the message."""

    status = 502


class Operations:
    """Every change is recorded in the audit log as the `actor`'s, refusals included."""

    def __init__(self, store: Store, settings: Settings, actor: Actor) -> None:
        self._store = store
        self._settings = settings
        self.audit = Audit(store, actor)

    def _recorded(
        self, action: Action, target: str
    ) -> contextlib.AbstractAsyncContextManager[list[str]]:
        return self.audit.recorded(action, target, refusals=(AdminError,))

    # Vendor accounts

    async def create_vendor_account(self, new: NewVendorAccount) -> VendorAccountView:
        async with self._recorded(Action.VENDOR_ACCOUNT_CREATE, new.name) as detail:
            view = await self._create_vendor_account(new)
            detail.append(f"{view.id} ({view.adapter})")
            return view

    async def _create_vendor_account(self, new: NewVendorAccount) -> VendorAccountView:
        credentials, made_secret = new.credentials, None
        if new.adapter == api_vendor.NAME and not credentials.get("webhook_secret"):
            # The hub signs its webhooks with it; the vendor gets it once, in the answer.
            made_secret = api_vendor.new_webhook_secret()
            credentials = {**credentials, "webhook_secret": made_secret}
        await self._check_credentials(new.adapter, credentials)
        try:
            account = await self._store.create_vendor_account(
                name=new.name,
                adapter=new.adapter,
                credentials=credentials,
                package_settings={
                    package: settings.model_dump()
                    for package, settings in new.package_settings.items()
                },
            )
        except VendorAccountNameTaken:
            raise Conflict(f"a vendor account named {new.name!r} already exists") from None
        return VendorAccountView.of(account, made_secret)

    async def replace_vendor_credentials(
        self, vendor_account_id: str, new: NewCredentials
    ) -> VendorAccountView:
        async with self._recorded(Action.VENDOR_ACCOUNT_CREDENTIALS, vendor_account_id):
            account = await self._store.vendor_account(vendor_account_id)
            if account is None:
                raise NotFound(f"no vendor account {vendor_account_id!r}")
            await self._check_credentials(account.adapter, new.credentials)
            return VendorAccountView.of(
                await self._store.replace_vendor_credentials(vendor_account_id, new.credentials)
            )

    async def _check_credentials(self, adapter: str, credentials: dict) -> None:
        """Credentials the adapter cannot use are refused now, not at the first order."""
        try:
            await build_adapter(
                self._settings,
                adapter,
                credentials,
                AdapterContext(account_id="(checked)", vendor_api=self._store.vendor_api),
            ).aclose()
        except UnknownAdapter as err:
            raise Invalid(str(err)) from None

    async def check_vendor_account(self, vendor_account_id: str) -> VendorCheckView:
        """The read-only catalog call to the vendor with the account's credentials."""
        account = await self._store.vendor_account(vendor_account_id)
        if account is None:
            raise NotFound(f"no vendor account {vendor_account_id!r}")
        try:
            return VendorCheckView.of(
                await check_vendor_account(
                    self._settings,
                    account,
                    AdapterContext(account_id=account.id, vendor_api=self._store.vendor_api),
                )
            )
        except VendorCheckFailed as err:
            raise VendorUnchecked(
                f"could not check vendor account {account.name!r}: {err}"
            ) from None

    async def vendor_account(self, vendor_account_id: str) -> VendorAccountView:
        """One account (never its credentials); NotFound if there is none."""
        account = await self._store.vendor_account(vendor_account_id)
        if account is None:
            raise NotFound(f"no vendor account {vendor_account_id!r}")
        return VendorAccountView.of(account)

    async def vendor_accounts(self) -> list[VendorAccountView]:
        return [VendorAccountView.of(account) for account in await self._store.vendor_accounts()]

    async def _require_vendor_account(self, vendor_account_id: str) -> None:
        if await self._store.vendor_account(vendor_account_id) is None:
            raise NotFound(f"no vendor account {vendor_account_id!r}")

    # API keys of API vendor accounts (the Vendor API)

    async def issue_api_key(
        self, vendor_account_id: str, new: NewApiKey | None = None
    ) -> IssuedApiKeyView:
        account = await self._store.vendor_account(vendor_account_id)
        if account is None:
            raise NotFound(f"no vendor account {vendor_account_id!r}")
        if account.adapter != api_vendor.NAME:
            raise Invalid(
                f"only API vendor accounts (adapter {api_vendor.NAME!r}) have API keys; this one "
                f"is {account.adapter!r}"
            )
        async with self._recorded(Action.API_KEY_ISSUE, vendor_account_id) as detail:
            issued = await self._store.vendor_api.issue_key(
                vendor_account_id, (new or NewApiKey()).label
            )
            detail.append(f"key {issued.id}")
            return IssuedApiKeyView.of(issued)

    async def admit_api_key(self, vendor_account_id: str, key: str) -> None:
        """Have the account take a key chosen elsewhere (the embedded stack's reference vendor),
        unless it takes it already."""
        if await self._store.vendor_api.account_of_key(key) != vendor_account_id:
            await self._store.vendor_api.issue_key(vendor_account_id, "embedded", key)

    async def api_keys(self, vendor_account_id: str) -> list[ApiKeyView]:
        await self._require_vendor_account(vendor_account_id)
        return [ApiKeyView.of(key) for key in await self._store.vendor_api.keys(vendor_account_id)]

    async def revoke_api_key(self, key_id: str) -> ApiKeyView:
        """Revoke for good: the vendor's next call with it answers 401."""
        async with self._recorded(Action.API_KEY_REVOKE, key_id):
            revoked = await self._store.vendor_api.revoke_key(key_id)
            if revoked is None:
                raise NotFound(f"no API key {key_id!r}")
            return ApiKeyView.of(revoked)

    # External Trigger Tokens

    async def issue_trigger_token(
        self, vendor_account_id: str, new: NewTriggerToken | None = None
    ) -> IssuedTriggerTokenView:
        new = new or NewTriggerToken()
        expires_at = datetime.now(UTC) + timedelta(
            days=new.expires_in_days or self._settings.trigger_token_days
        )
        async with self._recorded(Action.TRIGGER_TOKEN_ISSUE, vendor_account_id) as detail:
            try:
                issued = await self._store.issue_trigger_token(
                    vendor_account_id, expires_at=expires_at, company_id=new.company_id
                )
            except UnknownVendorAccount:
                raise NotFound(f"no vendor account {vendor_account_id!r}") from None
            detail.append(
                f"token {issued.token_id}, expires {expires_at:%Y-%m-%d %H:%M} UTC"
                + (f", company {new.company_id}" if new.company_id else "")
            )
            return IssuedTriggerTokenView.of(issued)

    async def trigger_tokens(self, vendor_account_id: str | None = None) -> list[TriggerTokenView]:
        if vendor_account_id is not None:
            await self._require_vendor_account(vendor_account_id)
        now = datetime.now(UTC)
        return [
            TriggerTokenView.of(token, now)
            for token in await self._store.trigger_tokens(vendor_account_id)
        ]

    async def revoke_trigger_token(self, token_id: str) -> None:
        """Revoke for good; companies already connected with it stay connected."""
        async with self._recorded(Action.TRIGGER_TOKEN_REVOKE, token_id):
            if not await self._store.revoke_trigger_token(token_id):
                raise NotFound(f"no trigger token {token_id!r}")

    # Company connections

    async def connections(self) -> list[ConnectionView]:
        connections = await self._store.connections()
        try:
            names = {account.id: account.name for account in await self._store.vendor_accounts()}
        except UnreadableSecret:  # an account encrypted with a retired key: list without names
            names = {}
        return [
            ConnectionView.of(connection, names.get(connection.vendor_account_id))
            for connection in connections
        ]

    async def disconnect(self, company_id: str, disconnector: CompanyDisconnector) -> int:
        """Disconnect a company as SR's disconnect does; the number of its orders cancelled."""
        async with self._recorded(Action.CONNECTION_DISCONNECT, company_id) as detail:
            if await self._store.connection(company_id) is None:
                raise NotFound("No connection for this company")
            cancelled = await disconnector.disconnect(company_id)
            detail.append(f"{cancelled} open orders cancelled")
            return cancelled

    # Our partner configuration at SmartRecruiters (master credentials)

    def expected_partner_configuration(self) -> dict[str, Any]:
        """What `register_partner_configuration` sends: our URLs from ASSESSMENTS_PUBLIC_URL."""
        return partner_configuration(self._settings)

    async def register_partner_configuration(self) -> dict[str, Any]:
        """PUT our configuration at SR; returns the configuration SR stored."""
        async with (
            self._recorded(Action.PARTNER_CONFIGURATION_REGISTER, "smartrecruiters"),
            self._master() as sr,
        ):
            try:
                return await sr.put_partner_configuration(self.expected_partner_configuration())
            except PeerError as err:
                raise SmartRecruitersFailed(
                    _explain(err, "register the partner configuration", self._settings.sr_base_url)
                ) from None

    async def partner_configuration(self) -> dict[str, Any]:
        """The configuration SR holds for us."""
        async with self._master() as sr:
            try:
                stored = await sr.get_partner_configuration()
            except PeerError as err:
                raise SmartRecruitersFailed(
                    _explain(err, "read the partner configuration", self._settings.sr_base_url)
                ) from None
        if stored is None:
            raise NotFound(
                "SmartRecruiters holds no partner configuration for us yet: register it first"
            )
        return stored

    @contextlib.asynccontextmanager
    async def _master(self) -> AsyncIterator[SmartRecruitersClient]:
        settings = self._settings
        client = smartrecruiters_client(
            settings,
            settings.sr_master_client_id,
            settings.sr_master_client_secret.get_secret_value(),
            self._store.limits,
        )
        try:
            yield client
        finally:
            await client.aclose()


def _explain(err: PeerError, what: str, base_url: str) -> str:
    """Why SR did not do it, in words an operator can act on (statuses only, never SR's body)."""
    if err.status in (400, 401) and "client credentials" in str(err):
        return (
            f"could not {what}: SmartRecruiters refused our master credentials "
            "(check ASSESSMENTS_SR_MASTER_CLIENT_ID and ASSESSMENTS_SR_MASTER_CLIENT_SECRET)"
        )
    if err.status == 403:
        return (
            f"could not {what}: SmartRecruiters answered HTTP 403 (our master credentials lack "
            "the permission)"
        )
    if err.status is not None and err.status < 500:
        return f"could not {what}: SmartRecruiters refused it with HTTP {err.status}"
    if err.status is not None:
        return f"could not {what}: SmartRecruiters answered HTTP {err.status}; try again later"
    # A transport failure: PeerError names only its type (e.g. ConnectError).
    return (
        f"could not {what}: SmartRecruiters at {base_url} could not be reached ({err}); try "
        "again later"
    )


@contextlib.asynccontextmanager
async def migrated_store(settings: Settings) -> AsyncIterator[Store]:
    """The store of these settings, migrated first and disposed at the end (the CLI)."""
    if settings.database_url is None:  # the embedded default lives in the data folder
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.store_url, settings.encryption_keys.get_secret_value())
    try:
        await store.migrate()
        yield store
    finally:
        await store.dispose()


@contextlib.asynccontextmanager
async def opened(settings: Settings, actor: Actor | None = None) -> AsyncIterator[Operations]:
    """Operations on the store of these settings, as `actor` (the CLI: whoever runs it)."""
    async with migrated_store(settings) as store:
        yield Operations(store, settings, actor or Actor.command_line())
