"""Pages a person watches move on by themselves, and fit a phone's screen."""

from __future__ import annotations

from playwright.async_api import ViewportSize, expect

from tests.support.order_workflows import order_reference_of

PHONE: ViewportSize = {"width": 375, "height": 740}


async def test_the_recruiter_and_the_candidate_watch_an_order_move_without_reloading(
    world, browser
):
    candidate = await world.new_candidate()
    page = await browser.new_page()
    await page.goto(f"{world.sr}/candidates/{candidate['id']}")
    outbox = await browser.new_page()
    await outbox.goto(f"{world.vendor}/outbox")

    # The recruiter orders from the profile; the vendor's email then appears in its outbox.
    await page.select_option("select[name=package_id]", "skills-fullstack")
    await page.click("text=Send")
    card = page.locator("section.assessment")
    await expect(card.locator(".status")).to_have_text("Pending", timeout=30_000)
    order_id = await card.get_attribute("data-order-id")
    reference = order_reference_of(order_id)
    await expect(outbox.locator(f'a[data-reference="{reference}"]')).to_be_visible(timeout=15_000)
    # The candidate list, open meanwhile, shows each candidate's assessments.
    listing = await browser.new_page()
    await listing.goto(world.sr)
    row = listing.locator(f'tr.candidate[data-candidate-id="{candidate["id"]}"]')
    await expect(row.locator(".assessment-statuses")).to_have_text("Pending")

    # The candidate starts and finishes at the vendor; the open profile follows.
    await world.at_vendor("start", order_id)
    await expect(card.locator(".status")).to_have_text("In progress", timeout=30_000)
    await world.at_vendor("complete", order_id, score=80)
    await expect(card.locator(".status")).to_have_text("Completed", timeout=30_000)
    await expect(card.locator(".score")).to_have_text("80/100")
    # A live refresh (which skips the partner's catalog) still names the package.
    await expect(card.locator("h3")).to_contain_text("Full-stack developer skills")

    # The open candidate list followed too, without a reload.
    await expect(row.locator(".assessment-statuses")).to_have_text("Completed", timeout=30_000)
    for opened in (page, outbox, listing):
        await opened.close()


async def test_pages_fit_a_phone_screen(world, browser):
    placed = await world.order("skills-fullstack")
    await world.invitation_email(placed["order_id"])
    page = await browser.new_page(viewport=PHONE)
    for url in (
        world.sr,
        f"{world.sr}/candidates/{placed['candidate']['id']}",
        f"{world.vendor}/outbox",
        f"{world.settings.hackerrank_sim_url}/",
        f"{world.settings.checkr_sim_url}/",
        f"{world.settings.testgorilla_sim_url}/",
    ):
        await page.goto(url)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{url} is {width} px wide on a {PHONE['width']} px phone"
    await page.close()
