"""The API docs page works without the internet: Swagger UI's files come from us, and it renders
our OpenAPI document (3.1) in a browser that reaches nothing else."""

from __future__ import annotations

from urllib.parse import urlsplit


async def test_the_docs_page_renders_every_operation_from_our_own_files(browser, stack):
    page = await browser.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    await page.goto(f"{stack.settings.public_url}/docs")
    await page.locator(".opblock").first.wait_for()
    assert await page.get_by_text("/oauth/token", exact=True).count() >= 1
    assert await page.get_by_text("/vendor/v1/orders/{order_id}", exact=True).count() >= 1
    assert hosts == {urlsplit(stack.settings.public_url).netloc}
    assert "Unable to render" not in await page.content()
