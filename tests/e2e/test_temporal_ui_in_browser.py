"""An operator finds an order in the embedded Temporal UI, in headless Chromium: through our search
attributes, with its summary and timeline, and its input decrypted in the browser by our codec
endpoint (the dev server's `ui-codec-endpoint`, from the file `embedded.py` writes).

A stack of its own (the session's stack runs Temporal without its UI). The helpers here are also
used by `tests/e2e/screenshots.py`, which takes the README's pictures of the same pages.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from cli.running import temporal_ui_orders
from codec import ENCODING
from orders import visibility
from settings import Settings
from temporal_client import connect
from tests.support.http import client as http_client
from tests.support.order_workflows import order_workflow_id
from tests.support.servers import order_path
from tests.support.waiting import eventually
from tests.support.world import World

# The order list with a column for each search attribute of ours (the UI keeps its columns per
# namespace in the browser's localStorage, under this key).
COLUMNS_KEY = "namespace-workflow-table-columns"
ORDER_COLUMNS = ("Status", "Workflow ID", *(key.name for key in visibility.ALL))
# What the UI shows of a payload it could not decode: the ciphertext as one base64 string (UI
# 2.54), or the payload with its encoding `binary/encrypted`, in plain text or base64.
CIPHERTEXT = re.compile(r'^\s*"[A-Za-z0-9+/]+=*"\s*$')
ENCRYPTED_MARKERS = (ENCODING.decode(), base64.b64encode(ENCODING).decode().rstrip("="))
UI_TIMEOUT_MS = 15_000  # the UI's first load on a busy two-core machine


def order_list_url(settings: Settings, query: str) -> str:
    """The UI's workflow list of the namespace, filtered by a visibility query."""
    ui = f"http://127.0.0.1:{settings.temporal_ui_port}"
    return f"{ui}/namespaces/{quote(settings.temporal_namespace)}/workflows?query={quote(query)}"


async def operator_context(browser: Browser, settings: Settings, **options) -> BrowserContext:
    """A browser context as an operator's: times in UTC, our search attributes as list columns."""
    context = await browser.new_context(timezone_id="UTC", **options)
    columns = {settings.temporal_namespace: [{"label": label} for label in ORDER_COLUMNS]}
    await context.add_init_script(
        f"localStorage.setItem({json.dumps(COLUMNS_KEY)}, {json.dumps(json.dumps(columns))})"
    )
    return context


async def listed(settings: Settings, query: str, count: int = 1) -> None:
    """Wait until Temporal's visibility store answers `query` with `count` workflows (search
    attributes are upserted a moment after SR shows the status)."""
    client = await connect(settings)

    async def probe():
        return (await client.count_workflows(query)).count == count

    await eventually(probe, timeout=20, what=f"{count} workflow(s) matching {query}")


def order_row(page: Page, workflow_id: str):
    return page.get_by_test_id("workflows-summary-configurable-table-row").filter(
        has_text=workflow_id
    )


@pytest.fixture(scope="module")
def ui_stack(tmp_path_factory):
    with order_path(tmp_path_factory.mktemp("temporal-ui"), headless_ui=False) as stack:
        yield stack


async def test_an_operator_finds_an_order_by_search_attributes_and_reads_it_decrypted(
    ui_stack, browser
):
    settings = ui_stack.settings
    async with http_client(timeout=30) as http:
        world = World(settings, http)
        placed = await world.order("skills-fullstack")
        await world.sr_status_becomes(placed["order_id"], "PENDING")
    order_id, candidate = placed["order_id"], placed["candidate"]
    workflow_id = order_workflow_id(order_id)
    query = (
        f'{visibility.COMPANY.name}="{candidate["company_id"]}" AND '
        f'{visibility.ORDER_STATUS.name}="PENDING"'
    )
    await listed(settings, query)

    context = await operator_context(browser, settings)
    page = await context.new_page()
    try:
        # Workflows, filtered by our search attributes: the order, with their values as columns.
        await page.goto(order_list_url(settings, query))
        row = order_row(page, workflow_id)
        await expect(row).to_have_count(1, timeout=UI_TIMEOUT_MS)
        for value in ("PENDING", "skills-fullstack", "sandbox", candidate["company_id"]):
            await expect(row).to_contain_text(value)
        await row.get_by_role("link", name=workflow_id, exact=True).click()

        # The order's page: its input is readable only
        # because the UI had our codec endpoint decrypt it.
        await expect(page.get_by_test_id("workflow-id-heading")).to_contain_text(
            workflow_id, timeout=UI_TIMEOUT_MS
        )
        order_input = page.get_by_role("textbox", name="Input")
        await expect(order_input).to_contain_text(candidate["email"], timeout=UI_TIMEOUT_MS)
        await expect(order_input).to_contain_text('"package_id": "skills-fullstack"')
        await expect(order_input).not_to_have_text(CIPHERTEXT)
        for marker in ENCRYPTED_MARKERS:
            await expect(order_input).not_to_contain_text(marker)
        await expect(page.get_by_test_id("data-encoder-status-success")).to_be_visible()

        # User Metadata: the static summary and the current details (the order's timeline).
        await page.get_by_test_id("user-metadata-tab").click()
        summary = page.locator("iframe#user-metadata-summary").content_frame.locator("body")
        await expect(summary).to_contain_text(
            f"Full-stack developer skills (sandbox) for SmartRecruiters order {order_id}",
            timeout=UI_TIMEOUT_MS,
        )
        details = page.locator("iframe#user-metadata-current-details").content_frame.locator("body")
        await expect(details).to_contain_text("Candidate invited at sandbox")
        await expect(details).to_contain_text("SmartRecruiters shows PENDING")
    finally:
        await context.close()


# docs/operations.md "Seeing our columns in the Temporal UI", as the UI names its controls.
COLUMNS_DOC = Path(__file__).parents[2] / "docs" / "operations.md"
CONFIGURE_COLUMNS = "Configure Columns"
COLUMNS_PANEL = "Configure Workflows Table"
OUR_COLUMNS_SECTION = "Custom Search Attributes (not in view)"
CLOSE_PANEL = "Close Workflows Table configuration"


def _columns_doc() -> str:
    doc = COLUMNS_DOC.read_text()
    start = doc.index("## Seeing our columns in the Temporal UI")
    return doc[start : doc.index("\n## ", start + 1)]


def test_the_documented_steps_name_the_uis_controls_and_the_banners_link():
    section = _columns_doc()
    for control in (CONFIGURE_COLUMNS, COLUMNS_PANEL, OUR_COLUMNS_SECTION, CLOSE_PANEL):
        assert control in section, control
    for key in visibility.ALL:
        assert f"`{key.name}`" in section, key.name
    # The link `make run` prints, with the default settings the README's walkthrough runs.
    assert temporal_ui_orders(Settings()) in section
