"""The hub console in headless Chromium, as an operator and a viewer use it: sign in, every page,
a repair with its reason landing in the audit log, a token issued (shown once) and revoked, a
viewer refused a repair, sign out; axe-core finds no serious accessibility violation on any page.
Retakes the console's pictures in the docs (`make screenshots`)."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, ViewportSize, expect

from admin.audit import Role
from store.operators import AuditQuery
from tests.support.connect import company_of_new_vendor_account, register_partner_configuration
from tests.support.console import Operator, new_operator
from tests.support.http import client as http_client
from tests.support.order_workflows import terminate_quietly
from tests.support.world import World

pytestmark = pytest.mark.long

WIDE: ViewportSize = {"width": 1280, "height": 1000}
REASON = "Candidate asked support for two more days"
# What axe calls a serious barrier; "moderate" and "minor" findings are reported, not failed on.
SERIOUS = {"serious", "critical"}


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the pictures go: `ASSESSMENTS_SCREENSHOTS` (`make screenshots`), else a scratch one."""
    folder = Path(os.environ.get("ASSESSMENTS_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def usable(page: Page) -> None:
    """The page fits the window's width (no sideways scrolling), and axe-core's WCAG 2 A and AA
    rules find no serious or critical violation on it as shown."""
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url}: {width[0]} px wide in a {width[1]} px window"
    results = await Axe().run(
        page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
    )
    serious = [
        (violation["id"], violation["help"], [node["target"] for node in violation["nodes"]][:3])
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]
    assert serious == [], f"{page.url}: {serious}"


async def sign_in(page: Page, url: str, operator: Operator) -> None:
    await page.goto(f"{url}/console")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await usable(page)
    await page.get_by_label("Name").fill(operator.name)
    await page.get_by_label("Password").fill(operator.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()


async def test_an_operator_runs_the_hub_from_the_console(
    stack, store, temporal, browser: Browser, screenshots: Path
):
    settings = stack.settings
    url = settings.public_url
    async with http_client(timeout=30) as http:
        world = World(settings, http)
        await register_partner_configuration(settings)
        account_id, company = await company_of_new_vendor_account(
            store,
            world.sr,
            "sandbox",
            {"api_key": settings.sandbox_vendor_api_key.get_secret_value()},
        )
        orders = await asyncio.gather(
            world.order("skills-fullstack", company_id=company),
            world.order("skills-fullstack", company_id=company),
        )
        await asyncio.gather(*(world.sr_status_becomes(o["order_id"], "PENDING") for o in orders))
    operator = await new_operator(store)
    viewer = await new_operator(store, Role.VIEWER)
    page = await browser.new_page(viewport=WIDE)
    try:
        await sign_in(page, url, operator)
        await usable(page)
        await page.screenshot(path=screenshots / "console-overview.png", full_page=True)

        # The orders of one company, and one order's page: the only one showing its candidate.
        await page.get_by_role("navigation").get_by_role("link", name="Orders").click()
        await page.get_by_label("Company").fill(company)
        await page.get_by_role("button", name="Show orders").click()
        first = orders[0]["order_id"]
        link = page.get_by_role("link", name=first)
        await expect(link).to_be_visible()
        assert orders[0]["candidate"]["email"] not in await page.content()
        await usable(page)
        await page.screenshot(path=screenshots / "console-orders.png", full_page=True)

        # A bulk repair's dry run of the company's orders: what each would do, nothing done.
        await page.get_by_label("Repair", exact=True).select_option("extend-deadline")
        await page.locator("#bulk-days").fill("1")
        await page.locator("#bulk-reason").fill(REASON)
        await page.get_by_role("button", name="Dry run").click()
        await expect(page.get_by_role("heading", name=re.compile("^Dry run: "))).to_be_visible()
        await usable(page)
        # Find by the candidate's email: the answer is a page of its own, the email in no URL.
        await page.goto(f"{url}/console/orders")
        await page.get_by_label("Find by SR order id, vendor reference or candidate email").fill(
            orders[1]["candidate"]["email"]
        )
        await page.get_by_role("button", name="Find", exact=True).click()
        await expect(page.get_by_role("link", name=orders[1]["order_id"])).to_be_visible()
        assert orders[1]["candidate"]["email"] not in page.url
        await usable(page)
        await page.goto(f"{url}/console/orders?company={company}")
        await link.click()
        await expect(page.get_by_text(orders[0]["candidate"]["email"])).to_be_visible()
        await usable(page)
        await page.screenshot(path=screenshots / "console-order.png", full_page=True)

        # A repair: extend the deadline, with a reason, through the confirmation page.
        await page.get_by_label("Days to add").fill("2")
        await page.locator("#reason-extend-deadline").fill(REASON)
        await page.get_by_role("button", name=re.compile("^Extend deadline")).click()
        await expect(page.get_by_role("heading", name="Confirm a repair")).to_be_visible()
        await usable(page)
        await page.get_by_role("button", name=re.compile(f"order {first}")).click()
        await expect(page.get_by_role("status")).to_be_visible()
        await expect(page.get_by_text(f"Repair by {operator.name}").first).to_be_visible()
        [repair] = await store.operators.events(
            AuditQuery(operator=operator.name, action="order.repair")
        )
        assert (repair.via, repair.reason, repair.outcome) == ("console", REASON, "done")

        # A trigger token for the company's vendor account: shown once, then only its id.
        await page.get_by_role("navigation").get_by_role("link", name="Trigger tokens").click()
        await expect(page.get_by_role("heading", name="Trigger tokens", exact=True)).to_be_visible()
        await usable(page)
        await page.get_by_label("Vendor account", exact=False).last.select_option(account_id)
        await page.get_by_label("Company (optional)").fill(company)
        await page.get_by_role("button", name="Issue a token").click()
        await expect(page.get_by_role("heading", name="Trigger token issued")).to_be_visible()
        token = (await page.locator("#secret").inner_text()).strip()
        assert token.startswith("ett_") and await store.redeem_trigger_token(token) is not None
        await usable(page)
        await page.screenshot(path=screenshots / "console-token-issued.png", full_page=True)
        await page.get_by_role("link", name="Back to the trigger tokens").click()
        await expect(page.get_by_role("heading", name="Trigger tokens", exact=True)).to_be_visible()
        assert token not in await page.content()
        await page.get_by_role("link", name=re.compile("^Revoke token")).first.click()
        confirm = page.get_by_role("heading", name=re.compile("^Confirm revoking trigger token"))
        await expect(confirm).to_be_visible()
        await usable(page)
        await page.get_by_role("button", name="Revoke this trigger token").click()
        await expect(page.get_by_role("status")).to_be_visible()
        assert await store.redeem_trigger_token(token) is None

        # The other pages, each readable and accessible.
        for name, heading in (
            ("Vendor accounts", "Vendor accounts"),
            ("Connections", "Connections"),
            ("SmartRecruiters", "SmartRecruiters"),
        ):
            await page.get_by_role("navigation").get_by_role("link", name=name).click()
            await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            await usable(page)
        await page.goto(f"{url}/console/vendor-accounts/{account_id}")
        await expect(page.get_by_text(account_id).first).to_be_visible()
        await usable(page)
        await page.get_by_role("button", name=re.compile("^Check .* against the vendor$")).click()
        await expect(page.get_by_text("accepted the credentials")).to_be_visible()
        await usable(page)

        # The audit log: this operator's sign-in, repair and token, newest first, with the why.
        await page.get_by_role("navigation").get_by_role("link", name="Audit log").click()
        await page.get_by_label("Operator").fill(operator.name)
        await page.get_by_role("button", name="Show events").click()
        rows = page.locator("table tbody tr")
        await expect(rows.first).to_contain_text("vendor-account.check")
        await expect(page.get_by_role("cell", name="trigger-token.revoke")).to_be_visible()
        await expect(page.get_by_role("cell", name=REASON, exact=True)).to_be_visible()
        await usable(page)
        await page.screenshot(path=screenshots / "console-audit.png", full_page=True)

        await page.get_by_role("button", name="Sign out").click()
        await expect(page.get_by_text("You have signed out.")).to_be_visible()
        await page.goto(f"{url}/console/orders/{first}")
        await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

        # A viewer reads the order but has no repair to make; a repair posted anyway is refused.
        await sign_in(page, url, viewer)
        await page.goto(f"{url}/console/orders/{first}")
        await expect(page.get_by_text("You may read only")).to_be_visible()
        csrf = await page.locator('input[name="csrf"]').first.get_attribute("value")
        refused = await page.request.post(
            f"{url}/console/orders/{first}/repairs/cancel",
            form={"csrf": csrf or "", "reason": "a viewer trying"},
            max_redirects=0,
        )
        assert refused.status == 403 and "may read only" in await refused.text()
        assert (
            await store.operators.events(AuditQuery(operator=viewer.name, action="order.repair"))
            == []
        )
    finally:
        await page.close()
        for order in orders:
            await terminate_quietly(temporal, order["order_id"])


async def test_long_names_never_make_a_page_wider_than_the_window(stack, store, browser: Browser):
    """A vendor account named with 200 characters and no space (as the admin API allows), in a
    list, an account's page and the vendor-account filter: the pages still fit the window."""
    name = "n" * 190 + uuid.uuid4().hex[:10]
    account = await store.create_vendor_account(name=name, adapter="sandbox", credentials={})
    operator = await new_operator(store)
    page = await browser.new_page(viewport=WIDE)
    try:
        await sign_in(page, stack.settings.public_url, operator)
        for path in (
            "/console/vendor-accounts",
            f"/console/vendor-accounts/{account.id}",
            "/console/trigger-tokens",
            f"/console/trigger-tokens?vendor_account={account.id}",
        ):
            await page.goto(stack.settings.public_url + path)
            width = await page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            assert width[0] <= width[1], f"{path}: {width[0]} px wide in a {width[1]} px window"
    finally:
        await page.close()
