"""DELETE /integrations/companies/{companyId}: the company disconnected us in SmartRecruiters.

SR's spec declares no security on this operation, so SR may call it without our bearer token. A
call with a valid token of the company itself is acted on at once. Any other (bare, another
company's token, an invalid one) is only a hint: the company is disconnected once SR refuses the
credentials it issued for it (connections/disconnect.py). Every call answers the same 204 with
the same work done, so the answer never tells whether a company is connected.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Caller, smartrecruiters_caller
from api.openapi import refusals
from connections.partner_configuration import COMPANY_ID_PLACEHOLDER
from smartrecruiters.observations import observed

router = APIRouter(tags=["SmartRecruiters Connect"])
_bearer = HTTPBearer(auto_error=False)
COMPANY_ID = Path(min_length=1, max_length=200)


# The spec declares no security here: besides the bearer token the route reads (which FastAPI
# documents itself), none at all (`{}`) is accepted; the token only says who calls.
OPTIONAL_BEARER: dict[str, Any] = {"security": [{}]}
EXPANSION = "integrationDisableUrl expansion"


@router.delete(
    "/integrations/companies/{companyId}",
    status_code=204,
    summary="The company disconnected the integration",
    description=(
        "Without a bearer token of the company, the company is disconnected once "
        "SmartRecruiters refuses the credentials it issued for it."
    ),
    responses=refusals(503),
    openapi_extra=OPTIONAL_BEARER,
)
async def disconnect_company(
    request: Request,
    companyId: str = COMPANY_ID,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
):
    # The company id in place of the registered placeholder, or appended to an id-less registration.
    template = request.app.state.settings.sr_id_url_form == "template"
    expansion = (
        "the id in place of {companyId}" if template else "the id appended to the id-less URL"
    )
    return await _disconnect(request, companyId, credentials, expansion)


@router.delete(
    "/integrations/companies/{placeholder}/{companyId}", status_code=204, include_in_schema=False
)
async def disconnect_company_appended(
    request: Request,
    placeholder: str,
    companyId: str = COMPANY_ID,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
):
    """The company id appended to the registered URL, its placeholder left in
    (braces decoded or not)."""
    if placeholder != COMPANY_ID_PLACEHOLDER:
        raise HTTPException(404, "Not Found")
    return await _disconnect(request, companyId, credentials, "the id appended after {companyId}")


async def _disconnect(
    request: Request,
    company_id: str,
    credentials: HTTPAuthorizationCredentials | None,
    expansion: str,
) -> Response:
    """How SR called is logged once the call proves to be SR's: authenticated as the company, or
    confirmed by SR refusing the company's credentials (anyone may send a bare DELETE)."""
    disconnector = request.app.state.disconnector
    if (
        credentials is not None
        and (caller := await _caller(request, credentials)) is not None
        and caller.company_id == company_id
    ):
        observed(EXPANSION, expansion)
        observed("DELETE integrationDisableUrl", "with the company's bearer token")
        await disconnector.disconnect(company_id)
        return Response(status_code=204)
    forms = [(EXPANSION, expansion)] + (
        [("DELETE integrationDisableUrl", "without a bearer token")] if credentials is None else []
    )
    await disconnector.check_later(company_id, forms)
    return Response(status_code=204)


async def _caller(request: Request, credentials: HTTPAuthorizationCredentials) -> Caller | None:
    try:
        return await smartrecruiters_caller(request, credentials)
    except HTTPException:  # invalid, expired, or its company's connection ended
        return None
