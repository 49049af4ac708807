"""Which vendor adapter serves an order: the one of the company's vendor account.

A company connected through Connect orders from the vendor account its External Trigger Token
belonged to; the embedded default company (no connection) uses the sandbox vendor configured in
the settings. Adapters are built once per account and process, from the account's credentials.
"""

from __future__ import annotations

import asyncio

from settings import Settings
from store import ConnectionState, Store, VendorAccount
from vendors.base import VendorAdapter
from vendors.sandbox import SandboxVendor


class UnknownAdapter(LookupError):
    """The vendor account names an adapter this deployment does not have."""


class CompanyDisconnected(PermissionError):
    """The company disconnected the integration: it orders nothing any more."""


def _sandbox(settings: Settings, credentials: dict) -> SandboxVendor:
    return SandboxVendor(
        base_url=credentials.get("base_url", settings.sandbox_vendor_url),
        api_key=credentials.get("api_key", settings.sandbox_vendor_api_key.get_secret_value()),
        webhook_secret=credentials.get("webhook_secret", settings.sandbox_webhook_secret.get_secret_value()),
        timeout_seconds=settings.vendor_timeout_seconds,
        webhook_tolerance_seconds=settings.webhook_tolerance_seconds,
    )


ADAPTER_FACTORIES = {"sandbox": _sandbox}


class Vendors:
    def __init__(self, settings: Settings, store: Store) -> None:
        self._settings = settings
        self._store = store
        # The embedded default, and the adapter that checks each vendor's webhooks.
        self.default: VendorAdapter = _sandbox(settings, {})
        self._by_account: dict[str, VendorAdapter] = {}
        self._lock = asyncio.Lock()

    def webhook_verifier(self, vendor: str) -> VendorAdapter | None:
        return self.default if vendor == self.default.name else None

    async def account_of_company(self, company_id: str) -> VendorAccount | None:
        """The company's vendor account; None for a company that never connected (embedded default)."""
        connection = await self._store.connection(company_id)
        if connection is None:
            return None
        if connection.state != ConnectionState.CONNECTED:
            raise CompanyDisconnected(company_id)
        return await self._store.vendor_account(connection.vendor_account_id)

    async def for_account(self, account_id: str | None) -> VendorAdapter:
        if account_id is None:
            return self.default
        async with self._lock:
            if account_id not in self._by_account:
                account = await self._store.vendor_account(account_id)
                if account is None or account.adapter not in ADAPTER_FACTORIES:
                    raise UnknownAdapter(account_id)
                self._by_account[account_id] = ADAPTER_FACTORIES[account.adapter](self._settings, account.credentials)
            return self._by_account[account_id]

    async def remember_invitation(self, vendor_account_id: str | None, vendor_ref: str, order_id: str) -> None:
        """Index the vendor's reference, so account-level webhooks that only name it find the order."""
        if vendor_account_id is not None:
            await self._store.index_vendor_reference(vendor_account_id, vendor_ref, order_id)

    async def aclose(self) -> None:
        for adapter in (self.default, *self._by_account.values()):
            await adapter.aclose()
