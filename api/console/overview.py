"""The console's first page: open orders by status, vendor and company, and what needs an
operator now (failed, stuck, refused by SR, expiring soon), each linking to the orders it counts.
admin/overview.py counts them; a Temporal that does not answer leaves a warning, never a 500."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.console.pages import render
from api.console.session import SignedInDep

router = APIRouter()


def orders_url(filters: dict[str, str]) -> str:
    """The orders list with these filters."""
    return "/console/orders" + (f"?{urlencode(filters)}" if filters else "")


@router.get("", response_class=HTMLResponse)
async def overview(request: Request, actor: SignedInDep) -> HTMLResponse:
    state = request.app.state
    figures = await state.overview.overview(state.temporal, state.store, state.settings)
    return render(
        request,
        "overview.html",
        section="overview",
        overview=figures,
        orders_url=orders_url,
        settings=state.settings,
    )
