"""Connect as an SR admin does it, in headless Chromium: the consent page opened from SR, the
External Trigger Token and email entered, the form submitted, back to SR."""

from __future__ import annotations

import uuid


async def test_admin_connects_in_the_browser(world, browser, registered, trigger_token, store):
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    page = await browser.new_page()

    # Settings → Apps & Integrations → our integration → Connect (→ Allow and Continue).
    await page.goto(f"{world.sr}/")
    await page.fill("#connect-company input[name=company_id]", company_id)
    await page.click("#connect-company button[type=submit]")

    # Our consent page: the External Trigger Token and an email, then Submit.
    await page.wait_for_selector("input#token")
    assert "Connect" in await page.locator("h1").inner_text()
    await page.fill("#token", trigger_token)
    await page.fill("#email", "admin@example.com")
    await page.click("#submit")

    # "… is connected", and back to SmartRecruiters, which agrees.
    await page.wait_for_selector("#connected")
    assert "is connected" in await page.locator("#connected").inner_text()
    await page.click("#return")
    await page.wait_for_load_state()
    assert "is connected" in await page.content()
    assert (await store.connection(company_id)).consent_email == "admin@example.com"
    await page.close()
