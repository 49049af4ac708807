"""DELETE /integrations/companies/{companyId}: the company disconnected us in SmartRecruiters.

SR's spec declares no security on this operation, so SR may call it without our bearer token. A
call with a valid token of the company itself is acted on at once. Any other (bare, another
company's token, an invalid one) is only a hint: the company is disconnected once SR refuses the
credentials it issued for it (connections/disconnect.py). Every call answers the same 204 with
the same work done, so the answer never tells whether a company is connected.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response
from fastapi.security import HTTPAuthorizationCredentials

from api.auth import Caller, TokenIssuer
from api.deps import (
    BearerDep,
    DisconnectorDep,
    SettingsDep,
    StoreDep,
    TokensDep,
    smartrecruiters_caller,
)
from api.openapi import refusals
from connections.disconnect import CompanyDisconnector
from connections.partner_configuration import COMPANY_ID_PLACEHOLDER
from smartrecruiters.observations import observed
from store import Store

router = APIRouter(tags=["SmartRecruiters Connect"])
CompanyId = Annotated[str, Path(min_length=1, max_length=200)]


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
    settings: SettingsDep,
    disconnector: DisconnectorDep,
    tokens: TokensDep,
    store: StoreDep,
    credentials: BearerDep,
    companyId: CompanyId,
):
    # The company id in place of the registered placeholder, or appended to an id-less registration.
    template = settings.sr_id_url_form == "template"
    expansion = (
        "the id in place of {companyId}" if template else "the id appended to the id-less URL"
    )
    caller = await _caller(tokens, store, credentials)
    return await _disconnect(disconnector, companyId, credentials, caller, expansion)


@router.delete(
    "/integrations/companies/{placeholder}/{companyId}", status_code=204, include_in_schema=False
)
async def disconnect_company_appended(
    placeholder: str,
    disconnector: DisconnectorDep,
    tokens: TokensDep,
    store: StoreDep,
    credentials: BearerDep,
    companyId: CompanyId,
):
    """The company id appended to the registered URL, its placeholder left in
    (braces decoded or not)."""
    if placeholder != COMPANY_ID_PLACEHOLDER:
        raise HTTPException(404, "Not Found")
    caller = await _caller(tokens, store, credentials)
    return await _disconnect(
        disconnector, companyId, credentials, caller, "the id appended after {companyId}"
    )


async def _disconnect(
    disconnector: CompanyDisconnector,
    company_id: str,
    credentials: HTTPAuthorizationCredentials | None,
    caller: Caller | None,
    expansion: str,
) -> Response:
    """How SR called is logged once the call proves to be SR's: authenticated as the company, or
    confirmed by SR refusing the company's credentials (anyone may send a bare DELETE)."""
    if caller is not None and caller.company_id == company_id:
        observed(EXPANSION, expansion)
        observed("DELETE integrationDisableUrl", "with the company's bearer token")
        await disconnector.disconnect(company_id)
        return Response(status_code=204)
    forms = [(EXPANSION, expansion)] + (
        [("DELETE integrationDisableUrl", "without a bearer token")] if credentials is None else []
    )
    await disconnector.check_later(company_id, forms)
    return Response(status_code=204)


async def _caller(
    tokens: TokenIssuer, store: Store, credentials: HTTPAuthorizationCredentials | None
) -> Caller | None:
    """The company the bearer token speaks for, if any: the route itself takes any call."""
    if credentials is None:
        return None
    try:
        return await smartrecruiters_caller(tokens, store, credentials)
    except HTTPException:  # invalid, expired, or its company's connection ended
        return None
