"""The consent page an SR admin fills in: the form, CSRF, and refusals in plain words."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.support.connect import fill_in_consent, register_partner_configuration
from tests.support.http import client as http_client


@pytest.fixture
async def browser_like(stack):
    """An HTTP client that keeps cookies, as the admin's browser does."""
    async with http_client(base_url=stack.settings.public_url, timeout=30) as http:
        yield http


def form_token(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


async def test_the_page_asks_for_the_token_and_an_email(browser_like):
    page = await browser_like.get("/integration", params={"companyId": "acme-1"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for needle in (
        'name="token"',
        'name="email"',
        'name="companyId" value="acme-1"',
        "You are connecting the SmartRecruiters company <strong>acme-1</strong>",
        "External Trigger Token",
        'for="email"',
    ):
        assert needle in page.text
    assert "consent_form" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
    assert (
        page.headers["x-frame-options"] == "DENY"
        and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    )
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "params", [{}, {"companyId": ""}, {"companyId": "a b<script>"}, {"companyId": "x" * 201}]
)
async def test_a_link_without_a_proper_company_is_explained_on_a_page(browser_like, params):
    page = await browser_like.get("/integration", params=params)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "does not name a SmartRecruiters company" in page.text and "<script>" not in page.text


@pytest.mark.parametrize(
    "redirect",
    [
        "https://www.smartrecruiters.com/settings/apps-and-integrations/acme-1/connected",
        "https://smartrecruiters.com/app",
        "https://eu.smartrecruiters.com/settings",
        "https://api.smartrecruiters.com/",
    ],
)
async def test_smartrecruiters_own_web_origins_may_be_returned_to(browser_like, redirect):
    """SR's admin pages live on its web origins, not on SR_BASE_URL's:
    a real admin gets the form."""
    page = await browser_like.get(
        "/integration", params={"companyId": "acme-1", "redirect": redirect}
    )
    assert page.status_code == 200 and 'name="token"' in page.text
    assert f'name="redirect" value="{redirect}"' in page.text
    # The admin may turn back without connecting.
    assert f'<a href="{redirect}">Cancel and go back to SmartRecruiters</a>' in page.text


@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.example/phish",
        "javascript:alert(1)",
        "//evil.example",
        # Look-alikes of SR's web origin: another host, user info, plain http, another port.
        "https://www.smartrecruiters.com.evil.com/settings",
        "https://www.smartrecruiters.com@evil.com/settings",
        "https://evil.com\\@www.smartrecruiters.com/",
        "https://evilsmartrecruiters.com/",
        "http://www.smartrecruiters.com/settings",
        "https://www.smartrecruiters.com:8443/settings",
    ],
)
async def test_a_return_address_outside_smartrecruiters_is_refused(browser_like, redirect):
    page = await browser_like.get(
        "/integration", params={"companyId": "acme-1", "redirect": redirect}
    )
    assert (
        page.status_code == 400
        and "This link is not valid" in page.text
        and "not a SmartRecruiters address" in page.text
    )


async def test_a_post_without_the_forms_cookie_is_refused(stack):
    async with (
        http_client(base_url=stack.settings.public_url) as first,
        http_client(base_url=stack.settings.public_url) as forger,
    ):
        token = form_token((await first.get("/integration", params={"companyId": "acme-1"})).text)
        response = await forger.post(
            "/integration",
            data={
                "companyId": "acme-1",
                "token": "ett_x",
                "email": "a@example.com",
                "form_token": token,
            },
        )
    assert response.status_code == 400 and "expired" in response.text


async def test_a_form_for_one_company_cannot_connect_another(browser_like):
    token = form_token(
        (await browser_like.get("/integration", params={"companyId": "acme-1"})).text
    )
    response = await browser_like.post(
        "/integration",
        data={
            "companyId": "acme-2",
            "token": "ett_x",
            "email": "a@example.com",
            "form_token": token,
        },
    )
    assert response.status_code == 400 and "expired" in response.text


async def test_unknown_revoked_and_expired_tokens_are_explained(browser_like, store):
    account = await store.create_vendor_account(
        name=f"consent-{uuid.uuid4().hex[:6]}", adapter="sandbox", credentials={}
    )
    revoked = await store.issue_trigger_token(account.id)
    await store.revoke_trigger_token(revoked.token_id)
    for token in ("ett_not-a-real-token", revoked.token):
        page = (await browser_like.get("/integration", params={"companyId": "acme-3"})).text
        response = await browser_like.post(
            "/integration",
            data={
                "companyId": "acme-3",
                "token": token,
                "email": "admin@example.com",
                "form_token": form_token(page),
            },
        )
        assert response.status_code == 400
        assert "not valid" in response.text and token not in response.text
    assert await store.connection("acme-3") is None


async def test_a_token_issued_for_another_company_is_explained_and_connects_nothing(
    world, store, stack
):
    # SR shows its consent only for a partner whose configuration it holds.
    await register_partner_configuration(stack.settings)
    account = await store.create_vendor_account(
        name=f"consent-{uuid.uuid4().hex[:6]}", adapter="sandbox", credentials={}
    )
    intended, other = f"co-{uuid.uuid4().hex[:8]}", f"co-{uuid.uuid4().hex[:8]}"
    issued = await store.issue_trigger_token(account.id, company_id=intended)
    async with http_client(timeout=30) as admin:
        for company_id in (other, intended):
            (
                await world.http.post(f"{world.sr}/__sim/companies/{company_id}/consent")
            ).raise_for_status()
        refused = await fill_in_consent(
            admin, f"{world.api}/integration?companyId={other}", issued.token, "admin@example.com"
        )
        connected = await fill_in_consent(
            admin,
            f"{world.api}/integration?companyId={intended}",
            issued.token,
            "admin@example.com",
        )

    assert refused.status_code == 400
    assert (
        "This External Trigger Token was issued for another SmartRecruiters company" in refused.text
    )
    assert issued.token not in refused.text and intended not in refused.text
    assert await store.connection(other) is None
    assert await world.sr_requests(f"/integration/company/{other}") == []  # SR was never asked
    assert connected.status_code == 200 and "is connected" in connected.text
    # It names the vendor account the token was for, so several connections stay apart.
    assert f'<strong id="vendor">{account.name}</strong>' in connected.text
    assert (await store.connection(intended)).trigger_token_id == issued.token_id


async def test_an_invalid_email_is_explained(browser_like):
    page = (await browser_like.get("/integration", params={"companyId": "acme-4"})).text
    response = await browser_like.post(
        "/integration",
        data={
            "companyId": "acme-4",
            "token": "ett_x",
            "email": "not-an-email",
            "form_token": form_token(page),
        },
    )
    assert response.status_code == 400 and "valid email" in response.text
    # What the admin typed stays: only the address needs mending, not the token again.
    assert 'name="token" required' in response.text and 'value="ett_x"' in response.text
    assert 'value="not-an-email"' in response.text
    assert response.headers["cache-control"] == "no-store"
