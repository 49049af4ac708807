"""The console's first page: what needs an operator now."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.console.pages import render
from api.console.session import SignedInDep

router = APIRouter()


@router.get("", response_class=HTMLResponse)
async def overview(request: Request, actor: SignedInDep) -> HTMLResponse:
    return render(request, "overview.html", section="overview")
