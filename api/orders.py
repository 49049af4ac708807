"""POST /packages/orders and POST /packages/inline/orders: SmartRecruiters places an order."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.auth import Caller, smartrecruiters_caller
from orders.catalog import UnknownPackage
from orders.intake import CandidateUnacceptable, InvitationRefused, InvitationUnavailable, TemporalUnavailable
from smartrecruiters.models import (
    AssessmentPackageOrderRequest,
    InlineAssessmentPackageOrderRequest,
    InlineAssessmentPackageResponse,
)

router = APIRouter(tags=["SmartRecruiters"])


def _check_company(caller: Caller, company_id: str) -> None:
    # A company's credentials order for that company only.
    if not caller.may_act_for(company_id):
        raise HTTPException(403, "These credentials are not valid for this company")


def _invalid(err: CandidateUnacceptable) -> RequestValidationError:
    """Answered like any other invalid field (api/errors.py): 400, naming the field."""
    return RequestValidationError([{"loc": ("body", *err.field.split(".")), "msg": err.accepted, "type": "value_error"}])


@router.post(
    "/packages/orders",
    status_code=202,
    responses={404: {"description": "There is no package which was ordered"}, 503: {"description": "Temporarily unable to take the order; retry"}},
)
async def place_order(body: AssessmentPackageOrderRequest, request: Request, caller: Caller = Depends(smartrecruiters_caller)):
    """Accept an order; the candidate is invited in the background. Repeats are answered alike."""
    _check_company(caller, body.companyId)
    try:
        await request.app.state.intake.place(body)
    except UnknownPackage:
        raise HTTPException(404, "There is no package which was ordered") from None
    except CandidateUnacceptable as err:
        raise _invalid(err) from None
    except TemporalUnavailable:
        raise HTTPException(503, "The service is temporarily unavailable; please retry", headers={"Retry-After": "5"}) from None
    return JSONResponse({}, status_code=202)


@router.post(
    "/packages/inline/orders",
    response_model=InlineAssessmentPackageResponse,
    responses={
        404: {"description": "There is no package which was ordered"},
        422: {"description": "The vendor refused to invite the candidate"},
        503: {"description": "The link is not ready yet; retry"},
    },
)
async def place_inline_order(body: InlineAssessmentPackageOrderRequest, request: Request, caller: Caller = Depends(smartrecruiters_caller)):
    """Place an order and answer with the URL of the candidate's assessment."""
    _check_company(caller, body.companyId)
    try:
        url = await request.app.state.intake.place_inline(body)
    except UnknownPackage:
        raise HTTPException(404, "There is no package which was ordered") from None
    except CandidateUnacceptable as err:
        raise _invalid(err) from None
    except InvitationRefused as err:
        raise HTTPException(422, f"The assessment could not be ordered: {err}.") from None
    except InvitationUnavailable as err:
        raise HTTPException(503, f"The assessment link is not available yet: {err}. Please retry.", headers={"Retry-After": "5"}) from None
    return InlineAssessmentPackageResponse(url=url)
