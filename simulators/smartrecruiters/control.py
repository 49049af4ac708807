"""The simulator's control plane (`/__sim`): how tests drive SR and inspect what happened."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from .companies import ConnectError
from .faults import FaultRule
from .partner import PartnerError
from .simulator import Sim, Simulator
from .variants import Variants

router = APIRouter(prefix="/__sim")


class CandidateIn(BaseModel):
    first_name: str = Field(min_length=1)
    last_name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    # SR's companyId of the candidate's company; the default company if not given.
    company_id: str | None = Field(default=None, min_length=1)


class MoveIn(BaseModel):
    step: str


class OrderIn(BaseModel):
    candidate_id: str
    package_id: str = Field(min_length=1)
    kind: Literal["manual", "inline"] = "manual"
    # Tests only: the order id SR gives the order (SR's own is a new UUID), and whether SR sends
    # it to the partner now (`false`: stored only, sent later by /resend).
    order_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$")
    send: bool = True


class FaultIn(BaseModel):
    status: int
    count: int = Field(default=1, ge=1)
    retry_after: int | None = Field(default=None, ge=0)
    latency_ms: int = Field(default=0, ge=0)
    path_contains: str | None = None
    method: str | None = None

    @field_validator("status")
    @classmethod
    def _error_or_slow_success(cls, status: int) -> int:
        if status != HTTPStatus.OK and not 400 <= status <= 599:
            raise ValueError("a fault answers an error status (4xx, 5xx), or 200 to only delay")
        HTTPStatus(status)  # raises ValueError for codes outside the registry
        return status


def candidate_or_404(sim: Simulator, candidate_id: str) -> dict[str, Any]:
    candidate = sim.candidate(candidate_id)
    if candidate is None:
        raise HTTPException(404, f"No candidate {candidate_id}")
    return candidate


def order_or_404(sim: Simulator, order_id: str) -> dict[str, Any]:
    order = sim.order(order_id)
    if order is None:
        raise HTTPException(404, f"No order {order_id}")
    return order


def _delivery(order: dict[str, Any]) -> JSONResponse:
    """What SR got back from the partner for an order; 502 if it never got an answer."""
    if order["partner_error"]:
        body = {"order_id": order["order_id"], "detail": order["partner_error"]}
        return JSONResponse(body, status_code=502)
    delivery = {
        "order_id": order["order_id"],
        "partner_status": order["partner_status"],
        "partner_body": order["partner_body"],
    }
    if order["kind"] == "inline":  # the candidate's link, as SR read it from the answer
        delivery["candidate_url"] = order.get("candidate_url")
    return JSONResponse(delivery)


@router.get("/requests")
def list_requests(
    sim: Sim, method: str | None = None, path_contains: str | None = None
) -> list[dict]:
    return sim.requests(method, path_contains)


@router.delete("/requests", status_code=204)
def clear_requests(sim: Sim) -> None:
    sim.clear_requests()


@router.post("/faults", status_code=201)
def add_fault(fault: FaultIn, sim: Sim) -> list[dict]:
    sim.faults.add(FaultRule(**fault.model_dump()))
    return sim.faults.remaining()


@router.get("/faults")
def list_faults(sim: Sim) -> list[dict]:
    return sim.faults.remaining()


@router.delete("/faults", status_code=204)
def clear_faults(sim: Sim, path_contains: str | None = None) -> None:
    """Every fault, or only those whose `path_contains` is this (one order's, say)."""
    sim.faults.clear(path_contains)


@router.get("/variants")
def current_variants(sim: Sim) -> Variants:
    return sim.variants


@router.put("/variants")
def choose_variants(variants: Variants, sim: Sim) -> Variants:
    """Behave in these ways from now on; a field left out takes its default."""
    sim.variants = variants
    return sim.variants


@router.get("/candidates")
def list_candidates(sim: Sim) -> list[dict]:
    return sim.candidates()


@router.post("/candidates", status_code=201)
def add_candidate(candidate: CandidateIn, sim: Sim) -> dict:
    return sim.add_candidate(
        candidate.first_name, candidate.last_name, candidate.email, candidate.company_id
    )


@router.post("/candidates/{candidate_id}/move")
async def move_candidate(candidate_id: str, move: MoveIn, sim: Sim) -> dict:
    candidate = candidate_or_404(sim, candidate_id)
    try:
        order = await sim.move_candidate(candidate, move.step)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"candidate": candidate, "order": order}


@router.post("/orders")
async def place_order(order: OrderIn, sim: Sim) -> JSONResponse:
    candidate = candidate_or_404(sim, order.candidate_id)
    placed = await sim.place_order(
        candidate,
        order.package_id,
        kind=order.kind,
        trigger="manual",
        order_id=order.order_id,
        send=order.send,
    )
    return _delivery(placed)


@router.get("/orders")
def list_orders(sim: Sim, candidate_id: str | None = None) -> list[dict]:
    return sim.orders(candidate_id)


@router.get("/orders/{order_id}")
def get_order(order_id: str, sim: Sim) -> dict:
    return order_or_404(sim, order_id)


@router.post("/orders/{order_id}/resend")
async def resend_order(order_id: str, sim: Sim) -> JSONResponse:
    order_or_404(sim, order_id)
    return _delivery(await sim.send_order(order_id))


@router.get("/packages")
async def list_packages(sim: Sim, company_id: str | None = None) -> list[dict]:
    try:
        return await sim.packages(company_id)
    except PartnerError as exc:
        raise HTTPException(502, str(exc)) from exc


@router.get("/packages/{package_id}")
async def read_package(package_id: str, sim: Sim, company_id: str | None = None) -> dict:
    """SR reads one package at the partner's `singleAssessmentPackageUrl`."""
    try:
        return await sim.package(package_id, company_id)
    except PartnerError as exc:
        raise HTTPException(502, str(exc)) from exc


# --- a company's admin and the partner's app (Connect) -------------------------------------------


@router.get("/companies")
def list_companies(sim: Sim) -> list[dict]:
    return sim.company_overview()


@router.post("/companies/{company_id}/consent")
def give_consent(company_id: str, sim: Sim) -> dict:
    """The admin clicked Connect, then "Allow and Continue": the URL SR opens for them."""
    try:
        return {
            "consent_url": sim.companies.give_consent(company_id, sim.variants.consent_redirect)
        }
    except ConnectError as exc:
        raise HTTPException(409, str(exc)) from exc


@router.post("/companies/{company_id}/disconnect")
async def disconnect(company_id: str, sim: Sim, tell_partner: bool = True) -> dict:
    """The admin disconnected the partner's app; says what the partner answered. With
    `tell_partner=false` SR's call to the partner is lost:
    the company is disconnected at SR alone."""
    try:
        return await sim.disconnect(company_id, tell_partner=tell_partner)
    except ConnectError as exc:
        raise HTTPException(409, str(exc)) from exc
