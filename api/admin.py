"""/admin: the operators' API (vendor accounts, trigger tokens, connections, partner configuration,
finding, inspecting and repairing orders).

Every route needs `Authorization: Bearer <ASSESSMENTS_ADMIN_API_KEY>`; with no key configured the
whole API answers 503, so it is never open by default. Routes are thin: `admin.operations` and
`admin.orders` hold the logic the CLI shares.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from admin.models import (
    FILTER_VALUE_PATTERN,
    MAX_PAGE_SIZE,
    ORDER_ID_PATTERN,
    BulkRepairAnswer,
    BulkRepairRequest,
    ConnectionView,
    IssuedTriggerTokenView,
    NewCredentials,
    NewTriggerToken,
    NewVendorAccount,
    OrderDetail,
    OrderPage,
    OrderSearch,
    OrderStatus,
    OrderSummary,
    RepairRequest,
    TriggerTokenView,
    VendorAccountView,
)
from admin.operations import (
    AdminError,
    Conflict,
    Invalid,
    NotFound,
    Operations,
    SmartRecruitersFailed,
)
from admin.orders import OrderLookup, TemporalFailed, order_filter
from admin.repairs import RepairKind, repair_named_order
from orders.models import RepairOutcome
from store import UnreadableSecret

DISABLED = "admin API disabled: set ASSESSMENTS_ADMIN_API_KEY"
_bearer = HTTPBearer(auto_error=False, description="ASSESSMENTS_ADMIN_API_KEY")
_STATUS: dict[type[AdminError], int] = {
    NotFound: 404,
    Conflict: 409,
    Invalid: 400,
    SmartRecruitersFailed: 502,
    TemporalFailed: 503,
}


def require_admin(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> None:
    """Dependency of every /admin route: the admin key as a bearer token,
    compared in constant time."""
    key = request.app.state.settings.admin_api_key
    expected = key.get_secret_value().encode() if key is not None else b""
    if not expected:  # unset or empty: disabled, never open
        raise HTTPException(503, DISABLED)
    presented = credentials.credentials.encode() if credentials is not None else b""
    if not hmac.compare_digest(presented, expected):
        raise HTTPException(
            401,
            "A valid admin API key is required as a bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter(prefix="/admin", tags=["Admin"], dependencies=[Depends(require_admin)])


def operations(request: Request) -> Operations:
    return Operations(request.app.state.store, request.app.state.settings)


def order_lookup(request: Request) -> OrderLookup:
    return OrderLookup(
        request.app.state.temporal, request.app.state.store, request.app.state.settings
    )


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except AdminError as err:
        raise HTTPException(_STATUS.get(type(err), 400), str(err)) from None
    except UnreadableSecret as err:  # ASSESSMENTS_ENCRYPTION_KEYS lost a key still in use
        raise HTTPException(500, str(err)) from None


@router.post(
    "/vendor-accounts",
    status_code=201,
    response_model=VendorAccountView,
    summary="Create a vendor account",
)
async def create_vendor_account(
    new: NewVendorAccount, ops: Operations = Depends(operations)
) -> VendorAccountView:
    with _refusals():
        return await ops.create_vendor_account(new)


@router.get(
    "/vendor-accounts",
    response_model=list[VendorAccountView],
    summary="List vendor accounts (never their credentials)",
)
async def vendor_accounts(ops: Operations = Depends(operations)) -> list[VendorAccountView]:
    with _refusals():
        return await ops.vendor_accounts()


@router.put(
    "/vendor-accounts/{vendor_account_id}/credentials",
    response_model=VendorAccountView,
    summary=(
        "Replace a vendor account's credentials (a rotated key); open orders use them within a "
        "minute"
    ),
)
async def replace_vendor_credentials(
    vendor_account_id: str, new: NewCredentials, ops: Operations = Depends(operations)
) -> VendorAccountView:
    with _refusals():
        return await ops.replace_vendor_credentials(vendor_account_id, new)


@router.post(
    "/vendor-accounts/{vendor_account_id}/trigger-tokens",
    status_code=201,
    response_model=IssuedTriggerTokenView,
    summary="Issue an External Trigger Token (its plaintext is in this answer only)",
)
async def issue_trigger_token(
    vendor_account_id: str,
    response: Response,
    new: NewTriggerToken | None = Body(None),
    ops: Operations = Depends(operations),
) -> IssuedTriggerTokenView:
    with _refusals():
        issued = await ops.issue_trigger_token(vendor_account_id, new)
    response.headers["Cache-Control"] = "no-store"
    return issued


@router.get(
    "/trigger-tokens",
    response_model=list[TriggerTokenView],
    summary="List External Trigger Tokens (no plaintext)",
)
async def trigger_tokens(
    vendor_account_id: str | None = Query(None), ops: Operations = Depends(operations)
) -> list[TriggerTokenView]:
    with _refusals():
        return await ops.trigger_tokens(vendor_account_id)


@router.delete(
    "/trigger-tokens/{token_id}", status_code=204, summary="Revoke an External Trigger Token"
)
async def revoke_trigger_token(token_id: str, ops: Operations = Depends(operations)) -> Response:
    with _refusals():
        await ops.revoke_trigger_token(token_id)
    return Response(status_code=204)


@router.get(
    "/connections",
    response_model=list[ConnectionView],
    summary="List company connections and their state",
)
async def connections(ops: Operations = Depends(operations)) -> list[ConnectionView]:
    return await ops.connections()


@router.delete(
    "/connections/{company_id}", summary="Disconnect a company (as SR's disconnect does)"
)
async def disconnect_company(company_id: str, request: Request) -> dict[str, Any]:
    """For when SR and we disagree (say SR's disconnect never reached us): the company's
    credentials stop working and its open orders are cancelled."""
    if await request.app.state.store.connection(company_id) is None:
        raise HTTPException(404, "No connection for this company")
    cancelled = await request.app.state.disconnector.disconnect(company_id)
    return {"company_id": company_id, "orders_cancelled": cancelled}


@router.put(
    "/smartrecruiters/partner-configuration",
    summary="Register our partner configuration at SmartRecruiters",
)
async def register_partner_configuration(ops: Operations = Depends(operations)) -> dict[str, Any]:
    with _refusals():
        return await ops.register_partner_configuration()


@router.get(
    "/smartrecruiters/partner-configuration",
    summary="The partner configuration SmartRecruiters holds for us",
)
async def partner_configuration(ops: Operations = Depends(operations)) -> dict[str, Any]:
    with _refusals():
        return await ops.partner_configuration()


# --- Orders: find and inspect (admin/orders.py) ----------------------------------------------

_NAME = "letters, digits and _ . : @ -"


@router.get(
    "/orders",
    response_model=OrderPage,
    summary="List orders by company, vendor, package, status, age, or stuck",
)
async def list_orders(
    request: Request,
    company: str | None = Query(
        None, pattern=FILTER_VALUE_PATTERN, description=f"SmartRecruiters companyId ({_NAME})"
    ),
    vendor: str | None = Query(
        None,
        pattern=FILTER_VALUE_PATTERN,
        description="The vendor: sandbox, hackerrank, checkr, testgorilla",
    ),
    package: str | None = Query(
        None, pattern=FILTER_VALUE_PATTERN, description="Package id, e.g. skills-fullstack"
    ),
    status: OrderStatus | None = Query(
        None,
        description=(
            "AssessmentOrderStatus: what SR was last told (RECEIVED before that, CANCELLED if "
            "cancelled, SR_REFUSING while SR refuses us for the company, UNDELIVERED once the "
            "order gave up)"
        ),
    ),
    older_than: str | None = Query(
        None, max_length=32, description="Placed longer ago than this: 30m, 12h, 3d, 2w, 1d12h"
    ),
    open: bool | None = Query(
        None, description="true: only orders still running; false: only finished ones"
    ),
    stuck: bool = Query(
        False,
        description=(
            "Only stuck orders: an unfinished call to SR or the vendor and no progress for "
            "ASSESSMENTS_STUCK_AFTER_HOURS"
        ),
    ),
    stuck_for: str | None = Query(
        None, max_length=32, description="Only orders stuck for this long (implies stuck), e.g. 2h"
    ),
    failed: bool = Query(
        False,
        description=(
            "Only orders whose workflow failed (SR refused their final update: a reset repairs "
            "those), was terminated or timed out (past Temporal's history limits, or by hand): "
            "SR never heard how they ended"
        ),
    ),
    limit: int = Query(50, ge=1, le=MAX_PAGE_SIZE, description="Orders per page"),
    page_token: str | None = Query(
        None, max_length=4096, description="next_page_token of the previous page"
    ),
    lookup: OrderLookup = Depends(order_lookup),
) -> OrderPage:
    """Newest first, open orders before finished ones. With `stuck`, a page holds the stuck orders
    among one page of open orders: it may hold fewer than `limit` while `next_page_token` is set."""
    with _refusals():
        wanted = order_filter(
            request.app.state.settings,
            company=company,
            vendor=vendor,
            package=package,
            status=status,
            older_than=older_than,
            open=open,
            stuck=stuck,
            stuck_for=stuck_for,
            failed=failed,
            limit=limit,
            page_token=page_token,
        )
        return await lookup.list(wanted)


@router.post(
    "/orders/find",
    response_model=list[OrderSummary],
    summary="Find orders by SR order id, vendor reference or candidate email",
)
async def find_orders(
    search: OrderSearch, lookup: OrderLookup = Depends(order_lookup)
) -> list[OrderSummary]:
    """A POST, so that a candidate's email never sits in a URL (proxies log those). Nothing
    found is an empty list. The email is looked up by its keyed hash: the store never holds it."""
    with _refusals():
        return await lookup.find(search)


@router.get(
    "/orders/{order_id}",
    response_model=OrderDetail,
    summary="An order's state and timeline, with a link to the Temporal UI",
)
async def show_order(
    response: Response,
    order_id: str = Path(
        pattern=ORDER_ID_PATTERN,
        description="The SmartRecruiters order id, or the order's reference `order id:company id`",
    ),
    lookup: OrderLookup = Depends(order_lookup),
) -> OrderDetail:
    """Holds the candidate's name and email (for the operator only; never cached)."""
    with _refusals():
        detail = await lookup.show(order_id)
    response.headers["Cache-Control"] = "no-store"
    return detail


# --- Orders: repairs (admin/repairs.py) -----------------------------------------------------


@router.post(
    "/orders/{order_id}/repairs/{kind}",
    response_model=RepairOutcome,
    summary=(
        "Repair an order: extend its deadline, resend the invitation, cancel it, re-post its "
        "result, or reset it (a failed order)"
    ),
    responses={
        409: {
            "description": (
                "The repair makes no sense in the order's state (the reason says why), or the "
                "order has ended"
            )
        }
    },
)
async def repair_order_route(
    request: Request,
    repair: RepairRequest,
    order_id: str = Path(
        pattern=ORDER_ID_PATTERN,
        description="The SmartRecruiters order id, or the order's reference `order id:company id`",
    ),
    kind: RepairKind = Path(
        description=(
            "extend-deadline (needs days), resend-invitation, cancel (SR shows REJECTED with the "
            "reason), repost-result (an ended order's through a reset), or reset (a failed order, "
            "to just before its final update)"
        )
    ),
) -> RepairOutcome:
    """Recorded in the order's history and timeline as "Repair by <operator>: <what> (<reason>)";
    a reset as "Reset by <operator>: <reason>",
    and its answer names the order's new run (`run_id`)."""
    with _refusals():
        return await repair_named_order(
            request.app.state.temporal, request.app.state.settings, order_id, kind, repair
        )


# --- Orders: bulk repairs (admin/bulk_repairs.py) --------------------------------------------


@router.post(
    "/orders/bulk-repairs/{kind}",
    response_model=BulkRepairAnswer,
    summary=(
        "Repair every order matching a filter, or (the default) say what each would do: a dry run"
    ),
)
async def repair_orders_route(
    request: Request,
    repair: BulkRepairRequest,
    kind: RepairKind = Path(
        description=(
            "extend-deadline (needs days), resend-invitation, cancel or repost-result of "
            "running orders; reset of failed ones; repost-result of ended ones (a reset)"
        )
    ),
    lookup: OrderLookup = Depends(order_lookup),
) -> BulkRepairAnswer:
    """The listing's filters select the orders (at least one is needed; `open: true` alone means
    every running order), newest first, up to ASSESSMENTS_BULK_REPAIR_LIMIT. A dry run unless
    `dry_run` is false; each order's outcome is in the answer, and one order's refusal or failure
    never stops the others. Answers when every order is done."""
    with _refusals():
        wanted = order_filter(request.app.state.settings, **repair.filter_fields())
        return await lookup.repair_all(wanted, kind, repair, dry_run=repair.dry_run)
