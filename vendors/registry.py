"""Which vendor adapter serves an order: the one of the company's vendor account.

A company connected through Connect orders from the vendor account its External Trigger Token
belonged to; each account names its adapter (sandbox, hackerrank, checkr, testgorilla). The
embedded default company (no connection) uses the sandbox vendor configured in the settings.
Adapters are built once per account and process, from the account's credentials, so limits
that a vendor sets per account (TestGorilla's per-minute budget) are shared by all its orders.
"""

from __future__ import annotations

import asyncio
from typing import Callable
from urllib.parse import quote

from orders.models import Invitation
from settings import Settings
from store import ConnectionState, Store, VendorAccount
from vendors import checkr, hackerrank, sandbox, testgorilla
from vendors.base import Capabilities, OrderCallback, VendorAdapter
from vendors.webhooks import callback_token, callback_token_valid


class UnknownAdapter(LookupError):
    """The vendor account names an adapter this deployment does not have, or lacks credentials it needs."""


class CompanyDisconnected(PermissionError):
    """The company disconnected the integration: it orders nothing any more."""


ADAPTER_FACTORIES: dict[str, Callable[[Settings, dict], VendorAdapter]] = {
    "sandbox": sandbox.from_account,
    "hackerrank": hackerrank.from_account,
    "checkr": checkr.from_account,
    "testgorilla": testgorilla.from_account,
}
# What each adapter's vendor can do, known without building an adapter (e.g. how it pushes).
CAPABILITIES: dict[str, Capabilities] = {
    "sandbox": sandbox.SandboxVendor.capabilities,
    "hackerrank": hackerrank.HackerRankVendor.capabilities,
    "checkr": checkr.CheckrVendor.capabilities,
    "testgorilla": testgorilla.TestGorillaVendor.capabilities,
}


def build_adapter(settings: Settings, adapter: str, credentials: dict) -> VendorAdapter:
    """The adapter for an account; UnknownAdapter if the name or the credentials cannot make one."""
    if adapter not in ADAPTER_FACTORIES:
        raise UnknownAdapter(f"no adapter named {adapter!r}")
    try:
        return ADAPTER_FACTORIES[adapter](settings, credentials)
    except KeyError as err:
        raise UnknownAdapter(f"the {adapter} credentials lack {err.args[0]!r}") from None
    except ValueError as err:  # our adapters' own messages: they name fields, never values
        raise UnknownAdapter(f"the {adapter} credentials are unusable: {err}") from None
    except TypeError:
        raise UnknownAdapter(f"the {adapter} credentials hold a value of the wrong type") from None


class Vendors:
    def __init__(self, settings: Settings, store: Store) -> None:
        self._settings = settings
        self._store = store
        # The embedded default: the sandbox vendor of the settings.
        self.default: VendorAdapter = sandbox.from_account(settings, {})
        self._by_account: dict[str, VendorAdapter] = {}
        self._lock = asyncio.Lock()
        self._callback_key = settings.token_signing_key.get_secret_value().encode()

    def callback_for(self, vendor: str, order_id: str) -> OrderCallback:
        """The per-order webhook URL and bearer token given to vendors that push per order."""
        url = f"{self._settings.public_url.rstrip('/')}/webhooks/{vendor}/orders/{quote(order_id, safe='')}"
        return OrderCallback(url=url, token=callback_token(self._callback_key, order_id))

    def callback_valid(self, order_id: str, token: str) -> bool:
        return callback_token_valid(self._callback_key, order_id, token)

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
                if account is None:
                    raise UnknownAdapter("no such vendor account")
                self._by_account[account_id] = build_adapter(self._settings, account.adapter, account.credentials)
            return self._by_account[account_id]

    async def remember_invitation(self, vendor_account_id: str | None, invitation: Invitation, order_id: str) -> None:
        """Index the vendor's ids, so account-level webhooks that only name them find the order."""
        if vendor_account_id is not None:
            for key in (invitation.vendor_ref, *invitation.webhook_keys):
                await self._store.index_vendor_reference(vendor_account_id, key, order_id)

    async def order_for_webhook_key(self, vendor_account_id: str, key: str) -> str | None:
        return await self._store.order_for_vendor_reference(vendor_account_id, key)

    async def aclose(self) -> None:
        for adapter in (self.default, *self._by_account.values()):
            await adapter.aclose()
