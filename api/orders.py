"""POST /packages/orders and POST /packages/inline/orders: SmartRecruiters places an order."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.deps import CallerDep, IntakeDep
from api.openapi import refusals
from ordering.catalog import UnknownPackage
from ordering.intake import (
    FieldUnacceptable,
    InvitationRefused,
    InvitationUnavailable,
    OrderOfAnotherCompany,
    TemporalUnavailable,
)
from smartrecruiters.models import (
    AssessmentPackageOrderRequest,
    InlineAssessmentPackageOrderRequest,
    InlineAssessmentPackageResponse,
)

router = APIRouter(tags=["SmartRecruiters"])


# Nothing about the other order (whether it runs, its company, its candidate) is said.
ANOTHER_COMPANYS_ORDER = "This order id belongs to another company's order"
UNAVAILABLE = "The service is temporarily unavailable; please retry"


def _invalid(err: FieldUnacceptable) -> RequestValidationError:
    """Answered like any other invalid field (api/errors.py): 400, naming the field."""
    return RequestValidationError(
        [{"loc": ("body", *err.field.split(".")), "msg": err.accepted, "type": "value_error"}]
    )


@contextlib.contextmanager
def _intake_refusals() -> Iterator[None]:
    """Intake's refusals, as SR reads them; the link's own (422,
    503) arise for inline orders only."""
    try:
        yield
    except UnknownPackage:
        raise HTTPException(404, "There is no package which was ordered") from None
    except FieldUnacceptable as err:
        raise _invalid(err) from None
    except OrderOfAnotherCompany:
        raise HTTPException(409, ANOTHER_COMPANYS_ORDER) from None
    except TemporalUnavailable:
        raise HTTPException(503, UNAVAILABLE, headers={"Retry-After": "5"}) from None
    except InvitationRefused as err:
        raise HTTPException(422, f"The assessment could not be ordered: {err}.") from None
    except InvitationUnavailable as err:
        raise HTTPException(
            503,
            f"The assessment link is not available yet: {err}. Please retry.",
            headers={"Retry-After": "5"},
        ) from None


@router.post(
    "/packages/orders",
    status_code=202,
    responses=refusals(
        404,
        409,
        502,
        503,
        _404="There is no package which was ordered",
        _409=ANOTHER_COMPANYS_ORDER,
        _503="Temporarily unable to take the order; retry",
    ),
)
async def place_order(body: AssessmentPackageOrderRequest, intake: IntakeDep, caller: CallerDep):
    """Accept an order; the candidate is invited in the background. Repeats are answered alike."""
    caller.check_acts_for(body.companyId)
    with _intake_refusals():
        await intake.place(body)
    return JSONResponse({}, status_code=202)


@router.post(
    "/packages/inline/orders",
    response_model=InlineAssessmentPackageResponse,
    responses=refusals(
        404,
        409,
        422,
        502,
        503,
        _404="There is no package which was ordered",
        _409=ANOTHER_COMPANYS_ORDER,
        _422="The vendor refused to invite the candidate",
        _503="The link is not ready yet; retry",
    ),
)
async def place_inline_order(
    body: InlineAssessmentPackageOrderRequest, intake: IntakeDep, caller: CallerDep
):
    """Place an order and answer with the URL of the candidate's assessment."""
    caller.check_acts_for(body.companyId)
    with _intake_refusals():
        url = await intake.place_inline(body)
    return InlineAssessmentPackageResponse.for_link(url)
