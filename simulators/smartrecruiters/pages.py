"""The recruiter's view: candidate list and candidate profile, as a simple ATS would show them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from .control import CandidateIn, candidate_or_404
from .partner import PartnerError
from .presentation import order_card
from .simulator import Sim

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _back_to_profile(candidate_id: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/candidates/{candidate_id}#{anchor}", status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, sim: Sim) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "index.html", {"candidates": sim.candidates(), "config": sim.config}
    )


@router.post("/candidates")
def add_candidate(candidate: Annotated[CandidateIn, Form()], sim: Sim) -> RedirectResponse:
    created = sim.add_candidate(candidate.first_name, candidate.last_name, candidate.email)
    return RedirectResponse(f"/candidates/{created['id']}", status_code=303)


@router.get("/candidates/{candidate_id}", response_class=HTMLResponse)
async def candidate_profile(candidate_id: str, request: Request, sim: Sim) -> HTMLResponse:
    candidate = candidate_or_404(sim, candidate_id)
    try:
        catalog, catalog_problem = await sim.packages(), None
    except PartnerError as exc:
        catalog, catalog_problem = [], str(exc)
    catalog_names = {package["id"]: package["name"] for package in catalog}
    cards = [order_card(order, catalog_names) for order in sim.orders(candidate_id)]
    return templates.TemplateResponse(
        request,
        "candidate.html",
        {
            "candidate": candidate,
            "config": sim.config,
            "catalog": catalog,
            "catalog_problem": catalog_problem,
            "cards": cards,
        },
    )


@router.post("/candidates/{candidate_id}/step")
async def move_candidate(
    candidate_id: str, step: Annotated[str, Form()], sim: Sim
) -> RedirectResponse:
    candidate = candidate_or_404(sim, candidate_id)
    try:
        await sim.move_candidate(candidate, step)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    return _back_to_profile(candidate_id, "hiring-step")


@router.post("/candidates/{candidate_id}/orders")
async def order_assessment(
    candidate_id: str, package_id: Annotated[str, Form(min_length=1)], sim: Sim
) -> RedirectResponse:
    candidate = candidate_or_404(sim, candidate_id)
    # A failed delivery is kept on the order and shown on its card, so always go back.
    await sim.place_order(candidate, package_id, kind="manual", trigger="manual")
    return _back_to_profile(candidate_id, "assessments")
