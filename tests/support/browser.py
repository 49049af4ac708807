"""A headless Chromium for the tests that drive pages, one per test process."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a closed network and a root user
# (see the machine notes): no sandbox, no background calls.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """Launched once per test process: a launch (Playwright's driver, then Chromium) costs about
    2 s of CPU, and a dozen tests in as many modules drive pages."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def browser(chromium: Browser) -> AsyncIterator[Browser]:
    """The process's Chromium; each page a test opens has a context of its own (its own cookies
    and storage), all closed after the test, so that no page of it runs on behind the next."""
    yield chromium
    for context in chromium.contexts:
        await context.close()
