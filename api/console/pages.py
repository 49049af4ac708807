"""How console pages are rendered: one Jinja2 environment, the layout's context (the signed-in
operator, the CSRF token, the navigation), and the answers to refused requests as pages.

Pages hold no script: plain forms post back, and a change that matters shows a confirmation page
first. They are never cached (an order's page holds candidate data).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.console.session import Refused, SignedInDep, SignInNeeded


def when(at: datetime | None, seconds: bool = False) -> str:
    """A time as every page shows it: in UTC, to the minute (or the second)."""
    if at is None:
        return "–"
    return at.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.globals["when"] = when
# The vendors as operators know them (orders name them by adapter; the Vendor API's are "api").
VENDOR_NAMES = {
    "sandbox": "the sandbox vendor",
    "hackerrank": "HackerRank",
    "checkr": "Checkr",
    "testgorilla": "TestGorilla",
    "api": "Vendor API vendors",
}
TEMPLATES.env.globals["vendor_name"] = lambda vendor: VENDOR_NAMES.get(vendor, vendor)
NAVIGATION = (
    ("overview", "Overview", "/console"),
    ("orders", "Orders", "/console/orders"),
    ("vendor-accounts", "Vendor accounts", "/console/vendor-accounts"),
    ("tokens", "Trigger tokens", "/console/trigger-tokens"),
    ("connections", "Connections", "/console/connections"),
    ("smartrecruiters", "SmartRecruiters", "/console/smartrecruiters"),
    ("audit", "Audit log", "/console/audit"),
)
NO_STORE = {"Cache-Control": "no-store"}


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The page, in the layout, for the signed-in operator (if any)."""
    settings = request.app.state.settings
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "actor": getattr(request.state, "actor", None),
            "csrf": getattr(request.state, "csrf", ""),
            "navigation": NAVIGATION,
            "integration_name": settings.integration_name,
            **context,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


def see_other(url: str) -> RedirectResponse:
    """After a form's change: the browser asks for the page again (no resubmission on reload)."""
    return RedirectResponse(url, status_code=303, headers=NO_STORE)


async def no_such_page(request: Request, actor: SignedInDep, rest: str) -> HTMLResponse:
    """Any other address under /console: a console page saying so, not the API's JSON."""
    raise Refused(404, "The console has no such page: choose one of the links above.")


def install(app: FastAPI) -> None:
    # Last, so that it answers only what no page of the console does.
    app.add_api_route(
        "/console/{rest:path}", no_such_page, methods=["GET"], include_in_schema=False
    )

    @app.exception_handler(SignInNeeded)
    async def sign_in_first(request: Request, _: SignInNeeded) -> Response:
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            wanted = "/console"
        return see_other(f"/console/sign-in?next={quote(wanted, safe='')}")

    @app.exception_handler(Refused)
    async def refused(request: Request, err: Refused) -> Response:
        return render(
            request, "refused.html", status_code=err.status, message=err.message, status=err.status
        )
