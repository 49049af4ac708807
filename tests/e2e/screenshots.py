"""Retake the README's pictures in headless Chromium, on a stack of its own on free ports.

    .venv/bin/python -m tests.e2e.screenshots [DIRECTORY]    # default: docs/screenshots

The SR simulator's own (fake) candidates get four sandbox orders: Ada Lovelace's skills test
completed with 83 % and her background check started, Grace Hopper's skills test started, Alan
Turing's logic quiz pending. Then it saves:

- `temporal-ui-orders.png`: the Temporal UI's order list, filtered by our search attributes;
- `temporal-ui-order.png`: Ada's completed skills order, its input and result decrypted by our
  codec endpoint;
- `temporal-ui-order-summary.png`: the same order's summary and timeline (User Metadata);
- `sandbox-vendor-test.png`: Ada's background check at the sandbox vendor, as she opens it;
- `smartrecruiters-candidate.png`: Ada's profile in the SR simulator, with both orders' status and
  the score.

The consent page (`consent-page.png`) is not retaken here. Needs Debian's chromium, like the
browser tests.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Browser, async_playwright, expect

from orders import visibility
from settings import Settings
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_temporal_ui_in_browser import (
    UI_TIMEOUT_MS,
    listed,
    operator_context,
    order_list_url,
    order_row,
)
from tests.support.http import client as http_client
from tests.support.order_workflows import order_workflow_id
from tests.support.servers import order_path
from tests.support.world import World

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIRECTORY = ROOT / "docs" / "screenshots"


async def place(world: World, candidate: dict, package_id: str) -> str:
    """Order `package_id` for one of the simulator's candidates, as a recruiter would."""
    response = await world.http.post(
        f"{world.sr}/__sim/orders",
        json={"candidate_id": candidate["id"], "package_id": package_id, "kind": "manual"},
    )
    order_id = response.raise_for_status().json()["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    return order_id


async def take(settings: Settings, browser: Browser, directory: Path) -> None:
    async with http_client(timeout=30) as http:
        world = World(settings, http)
        candidates = {
            c["first_name"]: c
            for c in (await http.get(f"{world.sr}/__sim/candidates")).raise_for_status().json()
        }
        ada, grace, alan = candidates["Ada"], candidates["Grace"], candidates["Alan"]
        skills = await place(world, ada, "skills-fullstack")
        background = await place(world, ada, "background-standard")
        started = await place(world, grace, "skills-fullstack")
        pending = await place(world, alan, "logic-quiz")
        await world.at_vendor("complete", skills, score=83)
        await world.at_vendor("start", started)

        # Ada opens her background check at the vendor (which starts it).
        page = await browser.new_page(viewport={"width": 1000, "height": 1200})
        await page.goto((await world.invitation_email(background))["link"])
        await expect(page.locator("h1")).to_have_text("Standard background check")
        await page.screenshot(path=directory / "sandbox-vendor-test.png")
        await page.close()

        await world.sr_status_becomes(skills, "COMPLETED")
        for order_id in (background, started):
            await world.sr_status_becomes(order_id, "IN_PROGRESS")
    company = ada["company_id"]
    status = visibility.ORDER_STATUS.name
    await listed(
        settings,
        f'WorkflowId="{order_workflow_id(skills)}" AND {status}="COMPLETED" AND '
        'ExecutionStatus="Completed"',
    )
    await listed(
        settings, f'{visibility.COMPANY.name}="{company}" AND {status}="IN_PROGRESS"', count=2
    )
    await listed(settings, f'WorkflowId="{order_workflow_id(pending)}" AND {status}="PENDING"')

    # The Temporal UI, as an operator sees it.
    context = await operator_context(browser, settings, viewport={"width": 1800, "height": 560})
    page = await context.new_page()
    await page.goto(
        order_list_url(
            settings,
            f'{visibility.COMPANY.name}="{company}" AND {visibility.VENDOR.name}="sandbox"',
        )
    )
    await expect(page.get_by_test_id("workflows-summary-configurable-table-row")).to_have_count(
        4, timeout=UI_TIMEOUT_MS
    )
    await page.screenshot(path=directory / "temporal-ui-orders.png")

    workflow_id = order_workflow_id(skills)
    await page.set_viewport_size({"width": 1400, "height": 1000})
    await order_row(page, workflow_id).get_by_role("link", name=workflow_id, exact=True).click()
    await expect(page.get_by_role("textbox", name="Input")).to_contain_text(
        ada["email"], timeout=UI_TIMEOUT_MS
    )
    await expect(page.get_by_role("textbox", name="Result")).to_contain_text(
        f'"order_id": "{skills}"', timeout=UI_TIMEOUT_MS
    )
    await page.screenshot(path=directory / "temporal-ui-order.png")

    await page.get_by_test_id("user-metadata-tab").click()
    details = page.locator("iframe#user-metadata-current-details").content_frame.locator("body")
    await expect(details).to_contain_text("SmartRecruiters shows COMPLETED", timeout=UI_TIMEOUT_MS)
    summary = page.locator("iframe#user-metadata-summary").content_frame.locator("body")
    await expect(summary).to_contain_text("for SmartRecruiters order")
    await page.screenshot(path=directory / "temporal-ui-order-summary.png")
    await context.close()

    # The recruiter's view of Ada in SmartRecruiters.
    page = await browser.new_page(viewport={"width": 1200, "height": 1400})
    await page.goto(f"{settings.sr_base_url}/candidates/{ada['id']}")
    for order_id, shown in ((skills, "Completed"), (background, "In progress")):
        await expect(
            page.locator(f'section.assessment[data-order-id="{order_id}"] .status')
        ).to_have_text(shown, ignore_case=True)
    await page.screenshot(path=directory / "smartrecruiters-candidate.png")
    await page.close()


async def main(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="screenshots-") as data_dir,
        order_path(Path(data_dir), headless_ui=False) as stack,
    ):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                await take(stack.settings, browser, directory)
            finally:
                await browser.close()
    print(f"screenshots saved in {directory}")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIRECTORY))
