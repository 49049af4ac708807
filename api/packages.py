"""GET /packages and GET /packages/{id}: the catalog a recruiter picks from."""

from __future__ import annotations

import json
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from api.auth import Caller, smartrecruiters_caller
from api.openapi import refusals
from connections.partner_configuration import PACKAGE_ID_PLACEHOLDER
from orders.catalog import UnknownPackage
from smartrecruiters.models import AssessmentPackage
from smartrecruiters.observations import observed

router = APIRouter(tags=["SmartRecruiters"])

# An address alone: no JSON or display-name punctuation around it.
_BARE_EMAIL = re.compile(r'[^@\s"<>\[\]{}(),;:]+@[^@\s"<>\[\]{}(),;:]+')


def requester_form(requester: str | None) -> str:
    """How SR encoded the recruiter in the `requester` header: the spec gives it the schema
    `Requester {email}` but no encoding. We never use it, so every form (or none) is accepted;
    only its name is logged, the first time."""
    if requester is None:
        return "absent"
    if _BARE_EMAIL.fullmatch(requester.strip()):
        return "bare email"
    try:
        parsed = json.loads(requester)
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        return "other"
    return "JSON object" if isinstance(parsed, dict) else "other"


class LocationFilters(BaseModel):
    """The job's location, which SR may send to narrow the catalog (spec: GET /packages)."""

    country_code: str | None = Field(None, alias="country-code", max_length=8)
    region_abbr: str | None = Field(None, alias="region-abbr", max_length=64)
    city: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=400)
    postal_code: str | None = Field(None, alias="postal-code", max_length=32)
    remote: bool | None = None


@router.get(
    "/packages",
    response_model=list[AssessmentPackage],
    responses={204: {"description": "No packages"}, **refusals(502, 503)},
)
async def list_packages(
    request: Request,
    requester: str | None = Header(
        None, description="The recruiter (SR's `Requester`), in any encoding; not used"
    ),
    # FastAPI builds the filters from the query string, so this default is never used: it only
    # lets the parameter follow those with defaults.
    location: Annotated[LocationFilters, Query()] = None,  # type: ignore[assignment]
    caller: Caller = Depends(smartrecruiters_caller),
):
    """The catalog of the caller's vendor account (the embedded default vendor's in embedded mode).

    Location filters are checked and accepted; none of our vendors restricts packages by
    location, so they narrow nothing today.
    """
    observed("requester header of GET /packages", requester_form(requester))
    packages = [
        entry.as_smartrecruiters()
        for entry in await request.app.state.catalog.for_company(caller.company_id)
    ]
    if not packages:
        return Response(status_code=204)
    return packages


@router.get(
    "/packages/{package_id}",
    response_model=AssessmentPackage,
    responses=refusals(404, 502, 503, _404="There is no package with this id"),
)
async def get_package(
    package_id: str, request: Request, caller: Caller = Depends(smartrecruiters_caller)
):
    # The id in place of the registered placeholder, or appended to an id-less registration.
    template = request.app.state.settings.sr_id_url_form == "template"
    observed(
        "singleAssessmentPackageUrl expansion",
        "the id in place of {assessmentPackageId}"
        if template
        else "the id appended to the id-less URL",
    )
    return await _package(request, caller, package_id)


@router.get(
    "/packages/{placeholder}/{package_id}",
    response_model=AssessmentPackage,
    include_in_schema=False,
)
async def get_package_appended(
    placeholder: str,
    package_id: str,
    request: Request,
    caller: Caller = Depends(smartrecruiters_caller),
):
    """The id appended to the registered URL, its placeholder left in (braces decoded or not)."""
    if placeholder != PACKAGE_ID_PLACEHOLDER:
        raise HTTPException(404, "Not Found")
    observed("singleAssessmentPackageUrl expansion", "the id appended after {assessmentPackageId}")
    return await _package(request, caller, package_id)


async def _package(request: Request, caller: Caller, package_id: str):
    try:
        return (
            await request.app.state.catalog.find(caller.company_id, package_id)
        ).as_smartrecruiters()
    except UnknownPackage:
        raise HTTPException(404, "There is no package with this id") from None
