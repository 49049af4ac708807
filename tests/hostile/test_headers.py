"""Security headers on every HTML page of ours, with a CSP that the pages themselves never trip."""

from __future__ import annotations

import pytest

from api.headers import DOCS_CSP, STRICT_CSP

PAGES = {
    "/integration?companyId=acme": STRICT_CSP,  # the consent form
    "/integration": STRICT_CSP,  # its problem page
    "/docs": DOCS_CSP,
    "/docs/oauth2-redirect": DOCS_CSP,
}
# Records what the page's CSP blocked, as the browser reports it to the page.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e =>
    window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.mark.parametrize("path", PAGES)
async def test_every_html_page_carries_the_headers(api, path):
    page = await api.get(path)
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["content-security-policy"] == PAGES[path]


async def test_json_answers_are_not_sniffed_either(api):
    for answer in (await api.get("/openapi.json"), await api.get("/packages")):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in answer.headers


async def test_the_pages_run_under_their_csp_without_a_violation(stack, browser):
    """Chromium reports every blocked script, style or fetch; there must be none."""
    violations = {}
    for path in PAGES:
        page = await browser.new_page()
        await page.add_init_script(RECORD_VIOLATIONS)
        await page.goto(stack.settings.public_url + path, wait_until="load")
        violations[path] = await page.evaluate("window.__violations")
        await page.close()
    assert violations == {path: [] for path in PAGES}
