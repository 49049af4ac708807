"""Connecting a company the way its SR admin does: the consent page, filled in over HTTP."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from connections.disconnect import CHECK_WORKFLOW_ID_PREFIX
from connections.partner_configuration import partner_configuration
from settings import Settings
from smartrecruiters.client import smartrecruiters_client
from tests.support.http import client as http_client
from tests.support.waiting import eventually


async def register_partner_configuration(settings: Settings) -> dict:
    """Our partner configuration, registered at SR with our master credentials; what SR stored."""
    master = smartrecruiters_client(
        settings,
        settings.sr_master_client_id,
        settings.sr_master_client_secret.get_secret_value(),
        None,  # the test's own calls, outside the service's limits
    )
    try:
        return await master.put_partner_configuration(partner_configuration(settings))
    finally:
        await master.aclose()


async def fill_in_consent(
    http: httpx.AsyncClient, consent_url: str, token: str, email: str
) -> httpx.Response:
    page = await http.get(consent_url)
    assert page.status_code == 200
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return await http.post(
        consent_url.split("?")[0], data=fields | {"token": token, "email": email}
    )


async def connect_company(sr_url: str, token: str) -> str:
    """A new company at SR (the simulator), connected with `token`; returns its id."""
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    async with http_client() as admin:
        consent = (await admin.post(f"{sr_url}/__sim/companies/{company_id}/consent")).json()
        connected = await fill_in_consent(admin, consent["consent_url"], token, "admin@example.com")
    assert connected.status_code == 200, connected.text
    return company_id


async def company_of_new_vendor_account(
    store, sr_url: str, adapter: str, credentials: dict, **package_settings
) -> tuple[str, str]:
    """A vendor account of `adapter` and a company connected to it;
    returns (account id, company id)."""
    account = await store.create_vendor_account(
        name=f"{adapter}-{uuid.uuid4().hex[:8]}",
        adapter=adapter,
        credentials=credentials,
        package_settings=package_settings,
    )
    company_id = await connect_company(sr_url, (await store.issue_trigger_token(account.id)).token)
    return account.id, company_id


async def disconnect_checked(temporal, company_id: str) -> None:
    """Wait until the check behind an unauthenticated
    DELETE asked SR about the company at least once."""

    async def asked():
        return (
            await temporal.get_workflow_handle(f"{CHECK_WORKFLOW_ID_PREFIX}{company_id}").query(
                "checks"
            )
            >= 1
        )

    await eventually(asked, what=f"SR asked about company {company_id}'s credentials")


async def new_sandbox_company(
    settings: Any, sr_url: str, **package_settings: Any
) -> tuple[str, str]:
    """A sandbox vendor account (with the stack's simulator's key) and a company connected to
    it; returns (account id, company id)."""
    from store import Store

    store = Store(settings.store_url, settings.encryption_keys.get_secret_value())
    try:
        credentials = {"api_key": settings.sandbox_vendor_api_key.get_secret_value()}
        return await company_of_new_vendor_account(
            store, sr_url, "sandbox", credentials, **package_settings
        )
    finally:
        await store.dispose()
