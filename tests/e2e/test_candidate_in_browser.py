"""A candidate takes the test in a real headless Chromium; the recruiter sees the result in SR."""

from __future__ import annotations

from simulators.sandbox_vendor.catalog import PACKAGES
from tests.support.order_workflows import order_reference_of


async def test_candidate_takes_the_test_and_the_recruiter_sees_the_score(world, browser):
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await world.invitation_email(order_id)
    page = await browser.new_page()

    # The candidate opens the email in the vendor's outbox and follows their personal link.
    await page.goto(f"{world.vendor}/outbox")
    await page.click(f'a.invitation-link[data-reference="{order_reference_of(order_id)}"]')
    await world.sr_status_becomes(order_id, "IN_PROGRESS")

    # The page counts answers as the candidate goes.
    assert (await page.inner_text("#progress")) == "0 of 6 answered"
    # Every Python question right, every SQL question wrong: 100 % and 0 %, so 50 % overall.
    for test in PACKAGES["skills-fullstack"].tests:
        for question in test.questions:
            choice = (
                question.answer
                if test.id == "python-basics"
                else (question.answer + 1) % len(question.choices)
            )
            await page.check(f"#q-{question.id}-{choice}")
    assert (await page.inner_text("#progress")) == "6 of 6 answered"
    await page.click("#submit-answers")
    await page.wait_for_selector("#thank-you")

    done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert done["result"]["score"] == {"raw": 50, "min": 0, "max": 100}
    assert {r["assessmentId"]: r["score"]["raw"] for r in done["result"]["assessmentResults"]} == {
        "python-basics": 100,
        "sql-basics": 0,
    }

    # The recruiter's view of the candidate in SmartRecruiters.
    await page.goto(f"{world.sr}/candidates/{done['candidate_id']}")
    card = page.locator(f'section.assessment[data-order-id="{order_id}"]')
    assert (await card.locator(".status").inner_text()).strip() == "Completed"
    assert "50" in await card.locator(".score").inner_text()
    assert (await card.locator(".score-label").inner_text()).strip() == "Failed"
    assert await card.locator(".summary").inner_text()
    report = await card.locator("a.report-link").get_attribute("href")
    assert report == done["attachments"][0]["url"]
    await page.close()
