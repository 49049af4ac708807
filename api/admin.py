"""/admin: the operators' API (vendor accounts, trigger tokens, connections, partner configuration).

Every route needs `Authorization: Bearer <ASSESSMENTS_ADMIN_API_KEY>`; with no key configured the
whole API answers 503, so it is never open by default. Routes are thin: `admin.operations`
holds the logic the CLI shares.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from admin.models import (
    ConnectionView,
    NewCredentials,
    IssuedTriggerTokenView,
    NewTriggerToken,
    NewVendorAccount,
    TriggerTokenView,
    VendorAccountView,
)
from admin.operations import AdminError, Conflict, Invalid, NotFound, Operations, SmartRecruitersFailed
from store import UnreadableSecret

DISABLED = "admin API disabled: set ASSESSMENTS_ADMIN_API_KEY"
_bearer = HTTPBearer(auto_error=False, description="ASSESSMENTS_ADMIN_API_KEY")
_STATUS: dict[type[AdminError], int] = {NotFound: 404, Conflict: 409, Invalid: 400, SmartRecruitersFailed: 502}


def require_admin(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """Dependency of every /admin route: the admin key as a bearer token, compared in constant time."""
    key = request.app.state.settings.admin_api_key
    expected = key.get_secret_value().encode() if key is not None else b""
    if not expected:  # unset or empty: disabled, never open
        raise HTTPException(503, DISABLED)
    presented = credentials.credentials.encode() if credentials is not None else b""
    if not hmac.compare_digest(presented, expected):
        raise HTTPException(401, "A valid admin API key is required as a bearer token", headers={"WWW-Authenticate": "Bearer"})


router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)])


def operations(request: Request) -> Operations:
    return Operations(request.app.state.store, request.app.state.settings)


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except AdminError as err:
        raise HTTPException(_STATUS.get(type(err), 400), str(err)) from None
    except UnreadableSecret as err:  # ASSESSMENTS_ENCRYPTION_KEYS lost a key still in use
        raise HTTPException(500, str(err)) from None


@router.post("/vendor-accounts", status_code=201, response_model=VendorAccountView, summary="Create a vendor account")
async def create_vendor_account(new: NewVendorAccount, ops: Operations = Depends(operations)) -> VendorAccountView:
    with _refusals():
        return await ops.create_vendor_account(new)


@router.get("/vendor-accounts", response_model=list[VendorAccountView], summary="List vendor accounts (never their credentials)")
async def vendor_accounts(ops: Operations = Depends(operations)) -> list[VendorAccountView]:
    with _refusals():
        return await ops.vendor_accounts()


@router.put(
    "/vendor-accounts/{vendor_account_id}/credentials",
    response_model=VendorAccountView,
    summary="Replace a vendor account's credentials (a rotated key); open orders use them within a minute",
)
async def replace_vendor_credentials(vendor_account_id: str, new: NewCredentials, ops: Operations = Depends(operations)) -> VendorAccountView:
    with _refusals():
        return await ops.replace_vendor_credentials(vendor_account_id, new)


@router.post(
    "/vendor-accounts/{vendor_account_id}/trigger-tokens",
    status_code=201,
    response_model=IssuedTriggerTokenView,
    summary="Issue an External Trigger Token (its plaintext is in this answer only)",
)
async def issue_trigger_token(
    vendor_account_id: str, response: Response, new: NewTriggerToken | None = Body(None), ops: Operations = Depends(operations)
) -> IssuedTriggerTokenView:
    with _refusals():
        issued = await ops.issue_trigger_token(vendor_account_id, new)
    response.headers["Cache-Control"] = "no-store"
    return issued


@router.get("/trigger-tokens", response_model=list[TriggerTokenView], summary="List External Trigger Tokens (no plaintext)")
async def trigger_tokens(vendor_account_id: str | None = Query(None), ops: Operations = Depends(operations)) -> list[TriggerTokenView]:
    with _refusals():
        return await ops.trigger_tokens(vendor_account_id)


@router.delete("/trigger-tokens/{token_id}", status_code=204, summary="Revoke an External Trigger Token")
async def revoke_trigger_token(token_id: str, ops: Operations = Depends(operations)) -> Response:
    with _refusals():
        await ops.revoke_trigger_token(token_id)
    return Response(status_code=204)


@router.get("/connections", response_model=list[ConnectionView], summary="List company connections and their state")
async def connections(ops: Operations = Depends(operations)) -> list[ConnectionView]:
    return await ops.connections()


@router.delete("/connections/{company_id}", summary="Disconnect a company (as SR's disconnect does)")
async def disconnect_company(company_id: str, request: Request) -> dict[str, Any]:
    """For when SR and we disagree (say SR's disconnect never reached us): the company's
    credentials stop working and its open orders are cancelled."""
    if await request.app.state.store.connection(company_id) is None:
        raise HTTPException(404, "No connection for this company")
    cancelled = await request.app.state.disconnector.disconnect(company_id)
    return {"company_id": company_id, "orders_cancelled": cancelled}


@router.put("/smartrecruiters/partner-configuration", summary="Register our partner configuration at SmartRecruiters")
async def register_partner_configuration(ops: Operations = Depends(operations)) -> dict[str, Any]:
    with _refusals():
        return await ops.register_partner_configuration()


@router.get("/smartrecruiters/partner-configuration", summary="The partner configuration SmartRecruiters holds for us")
async def partner_configuration(ops: Operations = Depends(operations)) -> dict[str, Any]:
    with _refusals():
        return await ops.partner_configuration()
