"""GET /packages and GET /packages/{id}: the catalog a recruiter picks from."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response

from api.auth import Caller, smartrecruiters_caller
from orders.catalog import UnknownPackage
from smartrecruiters.models import AssessmentPackage

router = APIRouter(tags=["SmartRecruiters"])


def _check_requester(requester: str | None) -> None:
    """SR sends the recruiter as a JSON object in the `requester` header (its encoding is undocumented)."""
    if requester is None:
        return
    try:
        parsed = json.loads(requester)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise HTTPException(400, "The requester header must be a JSON object such as {\"email\": \"…\"}")


@router.get("/packages", response_model=list[AssessmentPackage], responses={204: {"description": "No packages"}})
async def list_packages(request: Request, requester: str | None = Header(None), caller: Caller = Depends(smartrecruiters_caller)):
    """The catalog of the caller's vendor account (the embedded default vendor's in embedded mode)."""
    _check_requester(requester)
    packages = [entry.as_smartrecruiters() for entry in await request.app.state.catalog.for_company(caller.company_id)]
    if not packages:
        return Response(status_code=204)
    return packages


@router.get("/packages/{package_id}", response_model=AssessmentPackage)
async def get_package(package_id: str, request: Request, caller: Caller = Depends(smartrecruiters_caller)):
    try:
        return (await request.app.state.catalog.find(caller.company_id, package_id)).as_smartrecruiters()
    except UnknownPackage:
        raise HTTPException(404, "There is no package with this id") from None
