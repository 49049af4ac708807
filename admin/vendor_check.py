"""`assessments vendor check ACCOUNT`: with a vendor account's own credentials, the read-only
catalog call the service makes (its tests, assessments or packages), and what SmartRecruiters
would be offered from it.

An operator runs it before issuing a trigger token. Each failure says what to fix in words an
operator can act on (the key, the account's base_url, the network), never with a secret or the
vendor's answer in it.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from ordering.catalog import CatalogEntry, catalog_entries
from peers import CallDeferred, PeerError
from settings import Settings
from store import VendorAccount
from vendors import checkr, hackerrank, testgorilla
from vendors.registry import AdapterContext, UnknownAdapter, build_adapter

# Where each adapter calls when the account's credentials name no base_url.
_DEFAULT_URLS = {
    "hackerrank": hackerrank.DEFAULT_BASE_URL,
    "checkr": checkr.DEFAULT_BASE_URL,
    "testgorilla": testgorilla.DEFAULT_BASE_URL,
}
SET_CREDENTIALS = "assessments vendor-account set-credentials {id} --credentials -"


class VendorCheckFailed(Exception):
    """The check could not be made; the message is safe to show."""


@dataclass(frozen=True)
class VendorCheck:
    account: VendorAccount
    vendor_url: str
    entries: list[CatalogEntry]


def vendor_url(settings: Settings, account: VendorAccount) -> str:
    """Where the account's adapter calls, without user info, query or fragment (never a secret)."""
    given = account.credentials.get("base_url") or account.credentials.get("webhook_url")
    url = str(given) if given else _DEFAULT_URLS.get(account.adapter, settings.sandbox_vendor_url)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(a base_url that is not a URL)"
    return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")


async def check_vendor_account(
    settings: Settings, account: VendorAccount, context: AdapterContext | None = None
) -> VendorCheck:
    """The account's catalog as SmartRecruiters would see it; VendorCheckFailed says why not."""
    url = vendor_url(settings, account)
    try:
        adapter = build_adapter(settings, account.adapter, account.credentials, context)
    except UnknownAdapter as err:
        raise VendorCheckFailed(
            f"{err}: fix them with `{SET_CREDENTIALS.format(id=account.id)}`"
        ) from None
    try:
        packages = await adapter.list_packages()
    except PeerError as err:
        raise VendorCheckFailed(await _explain(err, settings, account, url)) from None
    except (KeyError, TypeError, ValueError, AttributeError):  # an answer no adapter check foresaw
        raise VendorCheckFailed(
            f"{url} answered, but not in a form the {account.adapter} adapter can read: is "
            "it the vendor's API?"
        ) from None
    finally:
        await adapter.aclose()
    return VendorCheck(
        account=account,
        vendor_url=url,
        entries=catalog_entries(settings, account, adapter.name, packages),
    )


async def _explain(err: PeerError, settings: Settings, account: VendorAccount, url: str) -> str:
    """Why the vendor's catalog could not be read,
    from the status or the transport failure alone."""
    vendor, status = err.peer, err.status
    fix_key = f"replace them with `{SET_CREDENTIALS.format(id=account.id)}`"
    fix_url = (
        "check the account's base_url (the vendor's region or environment, e.g. sandbox or "
        "production)"
    )
    if isinstance(err, CallDeferred):
        return (
            f"our own request budget for {vendor} is used up for now; try again in "
            f"{err.retry_after or 60:g} s"
        )
    if status == 401:
        return (
            f"{vendor} at {url} refused the account's credentials (HTTP 401): the key is "
            f"wrong, revoked, or for another environment; {fix_key}"
        )
    if status == 403:
        return (
            f"{vendor} at {url} accepted the credentials but refused to list the catalog "
            "(HTTP 403): the key lacks the permission "
            "(or its user the role) to read tests, assessments or packages; grant it at "
            f"{vendor}, or {fix_key}"
        )
    if status in (404, 405):
        return (
            f"{url} answered HTTP {status} to the catalog request: that is not {vendor}'s API "
            f"there; {fix_url}"
        )
    if status == 429:
        wait = f" in {err.retry_after:g} s" if err.retry_after is not None else " later"
        return f"{vendor} at {url} is rate limiting this account (HTTP 429); try again{wait}"
    if status is not None and status >= 500:
        return (
            f"{vendor} at {url} answered HTTP {status}: an outage at {vendor}, or a host that "
            f"is not {vendor}'s; try again later, then {fix_url}"
        )
    if status is not None:
        return (
            f"{vendor} at {url} refused the catalog request with HTTP {status}; check the "
            "account's credentials and base_url"
        )
    cause = err.__cause__
    if isinstance(cause, httpx.TimeoutException):
        return (
            f"{url} did not answer within {settings.vendor_timeout_seconds:g} s: check this "
            f"machine's network (firewall, proxy) and {fix_url}"
        )
    if isinstance(cause, httpx.ConnectError) and not await _resolves(url):
        return (
            f"the host of {url} is unknown (DNS found no address): {fix_url}, and this "
            "machine's DNS"
        )
    if isinstance(cause, httpx.TransportError):
        return (
            f"could not reach {url} ({type(cause).__name__}: refused, unreachable or a TLS "
            f"failure): check this machine's network and {fix_url}"
        )
    # It answered, but not in the vendor's shapes
    # (the adapter's words name the call, never the body).
    reason = str(err).removeprefix(f"{vendor}: ")
    return f"{url} answered, but not as {vendor}'s API does ({reason}): {fix_url}"


async def _resolves(url: str) -> bool:
    try:
        parts = urlsplit(url)
        await asyncio.get_running_loop().getaddrinfo(
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM,
        )
    except (OSError, ValueError, UnicodeError):
        return False
    return True
