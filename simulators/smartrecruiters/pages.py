"""The recruiter's and the admin's view: candidate list and profile, as a simple ATS would show
them, and "Apps & Integrations", where an admin connects or disconnects the partner's app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ..pages import LIVE_UPDATE_HEADER, templates as shared_templates
from .companies import ConnectError
from .control import CandidateIn, candidate_or_404
from .partner import PartnerError
from .presentation import integration_state, order_card, status_label
from .simulator import Sim, Simulator, StepSetupError

router = APIRouter(include_in_schema=False)
templates = shared_templates(Path(__file__).parent / "templates")


NOT_CONNECTED = (
    "No assessment partner is connected for company {company}: connect it under Apps & "
    "Integrations first"
)


def _back_to_profile(candidate_id: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/candidates/{candidate_id}#{anchor}", status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, sim: Sim) -> HTMLResponse:
    companies = [
        {**company, "state": integration_state(company)} for company in sim.company_overview()
    ]
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "candidates": sim.candidates(),
            "statuses": _assessment_statuses(sim),
            "companies": companies,
            "partner_registered": sim.companies.partner_configuration() is not None,
            "config": sim.config,
            "step_setups": {
                company["company_id"]: sim.step_assessment(company["company_id"])
                for company in companies
            },
        },
    )


def _assessment_statuses(sim: Simulator) -> dict[str, list[str]]:
    """Each candidate's assessments by status, oldest first, as the candidate list shows them."""
    statuses: dict[str, list[str]] = {}
    for order in sorted(sim.orders(), key=lambda order: order["created_at"]):
        statuses.setdefault(order["candidate_id"], []).append(status_label(order))
    return statuses


@router.post("/candidates")
def add_candidate(candidate: Annotated[CandidateIn, Form()], sim: Sim) -> RedirectResponse:
    created = sim.add_candidate(
        candidate.first_name, candidate.last_name, candidate.email, candidate.company_id
    )
    return RedirectResponse(f"/candidates/{created['id']}", status_code=303)


# --- Apps & Integrations ------------------------------------------------------------------------


@router.post("/companies/connect")
def connect(company_id: Annotated[str, Form(min_length=1)], sim: Sim) -> RedirectResponse:
    """Connect, then "Allow and Continue": consent is given and the browser goes to the
    partner's consent page."""
    try:
        consent_url = sim.companies.give_consent(company_id, sim.variants.consent_redirect)
    except ConnectError as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse(consent_url, status_code=303)


@router.post("/companies/disconnect")
async def disconnect(company_id: Annotated[str, Form(min_length=1)], sim: Sim) -> RedirectResponse:
    try:
        await sim.disconnect(company_id)
    except ConnectError as exc:
        raise HTTPException(409, str(exc)) from exc
    return RedirectResponse("/#integrations", status_code=303)


@router.get("/__sim/companies/{company_id}/connected", response_class=HTMLResponse)
def connected(company_id: str, request: Request, sim: Sim) -> HTMLResponse:
    """Where the partner's consent page sends the admin back (the `redirect` parameter)."""
    return templates.TemplateResponse(
        request, "connected.html", {"company": sim.companies.view(company_id), "config": sim.config}
    )


# --- Hiring process: the assessment step's configuration ------------------------------------


@router.get("/hiring-process/{company_id}", response_class=HTMLResponse)
async def hiring_process(company_id: str, request: Request, sim: Sim) -> HTMLResponse:
    return await _hiring_process_page(request, sim, company_id)


@router.post("/hiring-process/{company_id}", response_class=HTMLResponse, response_model=None)
async def configure_hiring_process(
    company_id: str,
    request: Request,
    sim: Sim,
    package_type: Annotated[str, Form(min_length=1, max_length=100)],
    package_id: Annotated[str, Form(min_length=1, max_length=200)],
    auto_triggered: Annotated[bool, Form()] = False,
) -> HTMLResponse | RedirectResponse:
    """Configure → partner, type and package → Auto-triggered, as SR's hiring process editor
    offers it; only a package of the partner's catalog of the chosen type is taken."""
    try:
        await sim.configure_step_assessment(company_id, package_id, package_type, auto_triggered)
    except StepSetupError as exc:
        return await _hiring_process_page(
            request, sim, company_id, str(exc), status_code=exc.status
        )
    except PartnerError as exc:
        problem = f"The partner's package catalog could not be read ({exc}); nothing was saved."
        return await _hiring_process_page(request, sim, company_id, problem, status_code=502)
    return RedirectResponse("/#hiring-process", status_code=303)


async def _catalog(sim: Simulator, company_id: str) -> tuple[list[dict], str | None]:
    """The partner's packages as the company sees them, or why they could not be read."""
    try:
        return await sim.packages(company_id), None
    except PartnerError as exc:
        return [], str(exc)


async def _hiring_process_page(
    request: Request,
    sim: Simulator,
    company_id: str,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    connected = sim.partner_connected(company_id)
    catalog, catalog_problem = await _catalog(sim, company_id) if connected else ([], None)
    return templates.TemplateResponse(
        request,
        "hiring_process.html",
        {
            "company": company_id,
            "connected": connected,
            "catalog": catalog,
            "types": sorted({package["type"] for package in catalog}),
            "catalog_problem": catalog_problem,
            "setup": sim.step_assessment(company_id),
            "problem": problem,
            "config": sim.config,
        },
        status_code=status_code,
    )


@router.get("/candidates/{candidate_id}", response_class=HTMLResponse)
async def candidate_profile(candidate_id: str, request: Request, sim: Sim) -> HTMLResponse:
    return await _profile_page(request, sim, candidate_id)


async def _profile_page(
    request: Request,
    sim: Simulator,
    candidate_id: str,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    candidate = candidate_or_404(sim, candidate_id)
    company = sim.company_of(candidate)
    connected = sim.partner_connected(company)
    # A live refresh swaps only the assessments, so it need not ask the partner for its catalog.
    wanted = connected and not request.headers.get(LIVE_UPDATE_HEADER)
    catalog, catalog_problem = await _catalog(sim, company) if wanted else ([], None)
    catalog_names = sim.package_names(company)
    cards = [order_card(order, catalog_names) for order in sim.orders(candidate_id)]
    return templates.TemplateResponse(
        request,
        "candidate.html",
        {
            "candidate": candidate,
            "config": sim.config,
            "catalog": catalog,
            "catalog_problem": catalog_problem,
            "company": company,
            "connected": connected,
            "step_setup": sim.step_assessment(company),
            "cards": cards,
            "problem": problem,
        },
        status_code=status_code,
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


@router.post("/candidates/{candidate_id}/orders", response_model=None)
async def order_assessment(
    candidate_id: str, request: Request, package_id: Annotated[str, Form(min_length=1)], sim: Sim
) -> HTMLResponse | RedirectResponse:
    candidate = candidate_or_404(sim, candidate_id)
    if not sim.partner_connected(sim.company_of(candidate)):
        # E.g. disconnected in another tab while this profile was open: the profile again, saying
        # why nothing was sent.
        problem = NOT_CONNECTED.format(company=sim.company_of(candidate))
        return await _profile_page(request, sim, candidate_id, problem, status_code=409)
    # A failed delivery is kept on the order and shown on its card, so always go back.
    await sim.place_order(candidate, package_id, kind="manual", trigger="manual")
    return _back_to_profile(candidate_id, "assessments")
