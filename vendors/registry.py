"""Which vendor adapter serves an order: the one of the company's vendor account.

A company connected through Connect orders from the vendor account its External Trigger Token
belonged to; each account names its adapter (sandbox, hackerrank, checkr, testgorilla). The
embedded default company (no connection) uses the sandbox vendor configured in the settings.
Adapters are built once per account and process, from the account's credentials, so limits
that a vendor sets per account (TestGorilla's per-minute budget) are shared by all its orders;
an account whose credentials were replaced (a rotated key) gets a new adapter within a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import quote

from orders.models import Invitation
from settings import Settings
from store import ConnectionState, Store, VendorAccount
from store.limits import SharedLimits
from store.vendor_api import VendorApiRecords
from vendors import api_vendor, checkr, hackerrank, sandbox, testgorilla
from vendors.base import Capabilities, CredentialsUnusable, OrderCallback, VendorAdapter
from vendors.webhooks import callback_token, callback_token_valid


class UnknownAdapter(LookupError):
    """The vendor account names an adapter this deployment does not have,
    or lacks credentials it needs."""


class CompanyDisconnected(PermissionError):
    """The company disconnected the integration: it orders nothing any more."""


@dataclass(frozen=True)
class AdapterContext:
    """What an adapter may use of this deployment besides its account's credentials: the limits
    every process shares (paces per vendor account), and the account's own records in our store
    (API vendors' orders)."""

    shared_limits: SharedLimits | None = None
    account_id: str | None = None
    vendor_api: VendorApiRecords | None = None


Build = Callable[[Settings, dict, AdapterContext], VendorAdapter]


def _paced(build: Callable[[Settings, dict, SharedLimits | None], VendorAdapter]) -> Build:
    """An adapter that needs only the shared limits."""
    return lambda settings, credentials, context: build(
        settings, credentials, context.shared_limits
    )


def _api_vendor(settings: Settings, credentials: dict, context: AdapterContext) -> VendorAdapter:
    if context.account_id is None or context.vendor_api is None:
        raise CredentialsUnusable("an API vendor's adapter works only for an account in the store")
    return api_vendor.from_account(settings, credentials, context.account_id, context.vendor_api)


@dataclass(frozen=True)
class AdapterKind:
    """An adapter this deployment has: how to build it for an account,
    and what its vendor can do."""

    build: Build
    capabilities: Capabilities


ADAPTERS: dict[str, AdapterKind] = {
    "sandbox": AdapterKind(_paced(sandbox.from_account), sandbox.SandboxVendor.capabilities),
    "hackerrank": AdapterKind(
        _paced(hackerrank.from_account), hackerrank.HackerRankVendor.capabilities
    ),
    "checkr": AdapterKind(_paced(checkr.from_account), checkr.CheckrVendor.capabilities),
    "testgorilla": AdapterKind(
        _paced(testgorilla.from_account), testgorilla.TestGorillaVendor.capabilities
    ),
    api_vendor.NAME: AdapterKind(_api_vendor, api_vendor.ApiVendor.capabilities),
}


def build_adapter(
    settings: Settings,
    adapter: str,
    credentials: dict,
    context: AdapterContext | None = None,
) -> VendorAdapter:
    """The adapter for an account; UnknownAdapter if the name or the credentials cannot make one.
    With the context's shared limits, its request pace holds for every process using the store."""
    if adapter not in ADAPTERS:
        raise UnknownAdapter(f"no adapter named {adapter!r}")
    try:
        return ADAPTERS[adapter].build(settings, credentials, context or AdapterContext())
    except KeyError as err:
        raise UnknownAdapter(f"the {adapter} credentials lack {err.args[0]!r}") from None
    except CredentialsUnusable as err:  # our adapters' own words: they name fields, never values
        raise UnknownAdapter(f"the {adapter} credentials are unusable: {err}") from None
    except (TypeError, ValueError):  # e.g. float("abc"), whose message would quote the value
        raise UnknownAdapter(f"the {adapter} credentials hold a malformed value") from None


# How long an adapter is used before its account is read again, so replaced credentials (a
# rotated key) reach every process within this time without a store read per vendor call.
ACCOUNT_RECHECK_SECONDS = 60.0


@dataclass
class _Built:
    adapter: VendorAdapter
    credentials: dict
    checked_at: float


class Vendors:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        recheck_seconds: float = ACCOUNT_RECHECK_SECONDS,
    ) -> None:
        self._settings = settings
        self._store = store
        # The embedded default: the sandbox vendor of the settings.
        self.default: VendorAdapter = sandbox.from_account(settings, {})
        self._by_account: dict[str, _Built] = {}
        # How many calls use each adapter now: one whose credentials were replaced (retired) is
        # closed when its last call ends, however long that call runs (a catalog read can take
        # minutes), so no call loses its HTTP client.
        self._calls: dict[VendorAdapter, int] = {}
        self._retired: set[VendorAdapter] = set()
        self._recheck_seconds = recheck_seconds
        self._lock = asyncio.Lock()
        self._callback_key = settings.token_signing_key.get_secret_value().encode()

    def callback_for(self, vendor: str, reference: str) -> OrderCallback:
        """The per-order webhook URL and bearer token given to vendors that push per order; both
        name the order's reference, so one company's token never reaches another's order."""
        base = self._settings.public_url.rstrip("/")
        url = f"{base}/webhooks/{vendor}/orders/{quote(reference, safe='')}"
        return OrderCallback(url=url, token=callback_token(self._callback_key, reference))

    def callback_valid(self, reference: str, token: str) -> bool:
        return callback_token_valid(self._callback_key, reference, token)

    async def account_of_company(self, company_id: str) -> VendorAccount | None:
        """The company's vendor account; None for a company
        that never connected (embedded default)."""
        connection = await self._store.connection(company_id)
        if connection is None:
            return None
        if connection.state != ConnectionState.CONNECTED:
            raise CompanyDisconnected(company_id)
        return await self._store.vendor_account(connection.vendor_account_id)

    @contextlib.asynccontextmanager
    async def using(self, account_id: str | None) -> AsyncIterator[VendorAdapter]:
        """The account's adapter (None: the embedded default), held open for the calls made in
        the block; UnknownAdapter if the account has none."""
        adapter = await self._current(account_id)
        self._calls[adapter] = self._calls.get(adapter, 0) + 1
        try:
            yield adapter
        finally:
            self._calls[adapter] -= 1
            if not self._calls[adapter]:
                del self._calls[adapter]
                if adapter in self._retired:
                    self._retired.discard(adapter)
                    await adapter.aclose()

    async def _current(self, account_id: str | None) -> VendorAdapter:
        """The account's adapter, built once per process and rebuilt when its credentials change."""
        if account_id is None:
            return self.default
        async with self._lock:
            built = self._by_account.get(account_id)
            if built is not None and time.monotonic() - built.checked_at < self._recheck_seconds:
                return built.adapter
            account = await self._store.vendor_account(account_id)
            if account is None:
                raise UnknownAdapter("no such vendor account")
            if built is not None and built.credentials == account.credentials:
                built.checked_at = time.monotonic()
                return built.adapter
            if built is not None:
                await self._retire(built.adapter)
            adapter = build_adapter(
                self._settings,
                account.adapter,
                account.credentials,
                AdapterContext(self._store.limits, account_id, self._store.vendor_api),
            )
            self._by_account[account_id] = _Built(adapter, account.credentials, time.monotonic())
            return adapter

    async def _retire(self, adapter: VendorAdapter) -> None:
        if adapter in self._calls:
            self._retired.add(adapter)  # closed when its last call ends
        else:
            await adapter.aclose()

    async def remember_candidate(self, email: str, reference: str) -> None:
        """Index the order by its candidate's email (a keyed hash), for operators looking it up."""
        await self._store.index_candidate_email(email, reference)

    async def remember_invitation(
        self, vendor_account_id: str | None, invitation: Invitation, reference: str
    ) -> None:
        """Index the vendor's ids, so account-level webhooks that only name them find the order
        (and operators find it by the vendor's reference; the default vendor's too)."""
        if vendor_account_id is None:
            await self._store.index_default_vendor_reference(
                self.default.name, invitation.vendor_ref, reference
            )
            return
        for key in (invitation.vendor_ref, *invitation.webhook_keys):
            await self._store.index_vendor_reference(vendor_account_id, key, reference)

    async def order_for_webhook_key(self, vendor_account_id: str | None, key: str) -> str | None:
        """The reference of the order whose invitation the vendor names by `key`, at this
        account (None: the embedded default vendor); None if it is not one of ours."""
        if vendor_account_id is None:
            return await self._store.order_for_default_vendor_reference(self.default.name, key)
        return await self._store.order_for_vendor_reference(vendor_account_id, key)

    async def aclose(self) -> None:
        for adapter in (
            self.default,
            *(built.adapter for built in self._by_account.values()),
            *self._retired,
        ):
            await adapter.aclose()
        self._retired.clear()
