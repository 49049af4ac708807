"""/admin: the operators' API (vendor accounts, trigger tokens, connections, partner configuration,
finding, inspecting and repairing orders).

Every route needs `Authorization: Bearer <ASSESSMENTS_ADMIN_API_KEY>`; with no key configured the
whole API answers 503, so it is never open by default. Routes are thin: `admin.operations` and
`admin.orders` hold the logic the CLI shares.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Response

from admin.audit import Audit
from admin.bulk_repairs import repair_all
from admin.models import (
    FILTER_VALUE_PATTERN,
    MAX_PAGE_SIZE,
    ORDER_ID_PATTERN,
    ApiKeyView,
    BulkRepairAnswer,
    BulkRepairRequest,
    ConnectionView,
    IssuedApiKeyView,
    IssuedTriggerTokenView,
    NewApiKey,
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
    Operations,
)
from admin.orders import OrderLookup, order_filter
from admin.repairs import RepairKind, repair_named_order, signed
from api.deps import (
    AdminActorDep,
    DisconnectorDep,
    SettingsDep,
    StoreDep,
    TemporalDep,
    admin_actor,
)
from orders.models import RepairOutcome
from store import UnreadableSecret


async def refusals_as_http() -> AsyncIterator[None]:
    """Dependency of every /admin route: the operations' refusals, as the HTTP answers they are."""
    try:
        yield
    except AdminError as err:
        raise HTTPException(err.status, str(err)) from None
    except UnreadableSecret as err:  # ASSESSMENTS_ENCRYPTION_KEYS lost a key still in use
        raise HTTPException(500, str(err)) from None


OrderIdPath = Annotated[
    str,
    Path(
        pattern=ORDER_ID_PATTERN,
        description="The SmartRecruiters order id, or the order's reference `order id:company id`",
    ),
]

router = APIRouter(
    prefix="/admin",
    tags=["Admin"],
    dependencies=[Depends(admin_actor), Depends(refusals_as_http)],
)


async def operations(store: StoreDep, settings: SettingsDep, actor: AdminActorDep) -> Operations:
    return Operations(store, settings, actor)


async def order_lookup(
    temporal: TemporalDep, store: StoreDep, settings: SettingsDep
) -> OrderLookup:
    return OrderLookup(temporal, store, settings)


OperationsDep = Annotated[Operations, Depends(operations)]
OrderLookupDep = Annotated[OrderLookup, Depends(order_lookup)]


@router.post(
    "/vendor-accounts",
    status_code=201,
    response_model=VendorAccountView,
    summary="Create a vendor account",
)
async def create_vendor_account(new: NewVendorAccount, ops: OperationsDep) -> VendorAccountView:
    return await ops.create_vendor_account(new)


@router.get(
    "/vendor-accounts",
    response_model=list[VendorAccountView],
    summary="List vendor accounts (never their credentials)",
)
async def vendor_accounts(ops: OperationsDep) -> list[VendorAccountView]:
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
    vendor_account_id: str, new: NewCredentials, ops: OperationsDep
) -> VendorAccountView:
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
    ops: OperationsDep,
    new: Annotated[NewTriggerToken | None, Body()] = None,
) -> IssuedTriggerTokenView:
    issued = await ops.issue_trigger_token(vendor_account_id, new)
    response.headers["Cache-Control"] = "no-store"
    return issued


@router.post(
    "/vendor-accounts/{vendor_account_id}/api-keys",
    status_code=201,
    response_model=IssuedApiKeyView,
    summary="Issue an API key of an API vendor account (its plaintext is in this answer only)",
)
async def issue_api_key(
    vendor_account_id: str,
    response: Response,
    ops: OperationsDep,
    new: Annotated[NewApiKey | None, Body()] = None,
) -> IssuedApiKeyView:
    issued = await ops.issue_api_key(vendor_account_id, new)
    response.headers["Cache-Control"] = "no-store"
    return issued


@router.get(
    "/vendor-accounts/{vendor_account_id}/api-keys",
    response_model=list[ApiKeyView],
    summary="List an API vendor account's keys (no plaintext)",
)
async def api_keys(vendor_account_id: str, ops: OperationsDep) -> list[ApiKeyView]:
    return await ops.api_keys(vendor_account_id)


@router.delete("/api-keys/{key_id}", status_code=204, summary="Revoke an API vendor's key")
async def revoke_api_key(key_id: str, ops: OperationsDep) -> Response:
    await ops.revoke_api_key(key_id)
    return Response(status_code=204)


@router.get(
    "/trigger-tokens",
    response_model=list[TriggerTokenView],
    summary="List External Trigger Tokens (no plaintext)",
)
async def trigger_tokens(
    ops: OperationsDep, vendor_account_id: Annotated[str | None, Query()] = None
) -> list[TriggerTokenView]:
    return await ops.trigger_tokens(vendor_account_id)


@router.delete(
    "/trigger-tokens/{token_id}", status_code=204, summary="Revoke an External Trigger Token"
)
async def revoke_trigger_token(token_id: str, ops: OperationsDep) -> Response:
    await ops.revoke_trigger_token(token_id)
    return Response(status_code=204)


@router.get(
    "/connections",
    response_model=list[ConnectionView],
    summary="List company connections and their state",
)
async def connections(ops: OperationsDep) -> list[ConnectionView]:
    return await ops.connections()


@router.delete(
    "/connections/{company_id}", summary="Disconnect a company (as SR's disconnect does)"
)
async def disconnect_company(
    company_id: str, ops: OperationsDep, disconnector: DisconnectorDep
) -> dict[str, Any]:
    """For when SR and we disagree (say SR's disconnect never reached us): the company's
    credentials stop working and its open orders are cancelled."""
    cancelled = await ops.disconnect(company_id, disconnector)
    return {"company_id": company_id, "orders_cancelled": cancelled}


@router.put(
    "/smartrecruiters/partner-configuration",
    summary="Register our partner configuration at SmartRecruiters",
)
async def register_partner_configuration(ops: OperationsDep) -> dict[str, Any]:
    return await ops.register_partner_configuration()


@router.get(
    "/smartrecruiters/partner-configuration",
    summary="The partner configuration SmartRecruiters holds for us",
)
async def partner_configuration(ops: OperationsDep) -> dict[str, Any]:
    return await ops.partner_configuration()


# --- Orders: find and inspect (admin/orders.py) ----------------------------------------------

_NAME = "letters, digits and _ . : @ -"


@router.get(
    "/orders",
    response_model=OrderPage,
    summary="List orders by company, vendor, package, status, age, or stuck",
)
async def list_orders(
    settings: SettingsDep,
    lookup: OrderLookupDep,
    company: Annotated[
        str | None,
        Query(pattern=FILTER_VALUE_PATTERN, description=f"SmartRecruiters companyId ({_NAME})"),
    ] = None,
    vendor: Annotated[
        str | None,
        Query(
            pattern=FILTER_VALUE_PATTERN,
            description="The vendor: sandbox, hackerrank, checkr, testgorilla",
        ),
    ] = None,
    package: Annotated[
        str | None,
        Query(pattern=FILTER_VALUE_PATTERN, description="Package id, e.g. skills-fullstack"),
    ] = None,
    status: Annotated[
        OrderStatus | None,
        Query(
            description=(
                "AssessmentOrderStatus: what SR was last told (RECEIVED before that, CANCELLED "
                "if cancelled, SR_REFUSING while SR refuses us for the company, UNDELIVERED "
                "once the order gave up)"
            )
        ),
    ] = None,
    older_than: Annotated[
        str | None,
        Query(max_length=32, description="Placed longer ago than this: 30m, 12h, 3d, 2w, 1d12h"),
    ] = None,
    expiring_within: Annotated[
        str | None,
        Query(
            max_length=32,
            description=(
                "Only open orders waiting for their candidate whose deadline "
                "(AssessmentDeadline) is at most this far ahead, e.g. 2d"
            ),
        ),
    ] = None,
    open: Annotated[
        bool | None, Query(description="true: only orders still running; false: only finished ones")
    ] = None,
    stuck: Annotated[
        bool,
        Query(
            description=(
                "Only stuck orders: an unfinished call to SR or the vendor and no progress for "
                "ASSESSMENTS_STUCK_AFTER_HOURS"
            )
        ),
    ] = False,
    stuck_for: Annotated[
        str | None,
        Query(
            max_length=32, description="Only orders stuck for this long (implies stuck), e.g. 2h"
        ),
    ] = None,
    failed: Annotated[
        bool,
        Query(
            description=(
                "Only orders whose workflow failed (SR refused their final update: a reset "
                "repairs those), was terminated or timed out (past Temporal's history limits, "
                "or by hand): SR never heard how they ended"
            )
        ),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Orders per page")] = 50,
    page_token: Annotated[
        str | None, Query(max_length=4096, description="next_page_token of the previous page")
    ] = None,
) -> OrderPage:
    """Newest first, open orders before finished ones. With `stuck`, a page holds the stuck orders
    among one page of open orders: it may hold fewer than `limit` while `next_page_token` is set."""
    wanted = order_filter(
        settings,
        company=company,
        vendor=vendor,
        package=package,
        status=status,
        older_than=older_than,
        expiring_within=expiring_within,
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
async def find_orders(search: OrderSearch, lookup: OrderLookupDep) -> list[OrderSummary]:
    """A POST, so that a candidate's email never sits in a URL (proxies log those). Nothing
    found is an empty list. The email is looked up by its keyed hash: the store never holds it."""
    return await lookup.find(search)


@router.get(
    "/orders/{order_id}",
    response_model=OrderDetail,
    summary="An order's state and timeline, with a link to the Temporal UI",
)
async def show_order(
    response: Response,
    lookup: OrderLookupDep,
    order_id: OrderIdPath,
) -> OrderDetail:
    """Holds the candidate's name and email (for the operator only; never cached)."""
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
    temporal: TemporalDep,
    settings: SettingsDep,
    store: StoreDep,
    actor: AdminActorDep,
    repair: RepairRequest,
    order_id: OrderIdPath,
    kind: Annotated[
        RepairKind,
        Path(
            description="extend-deadline (needs days), resend-invitation, cancel (SR shows "
            "REJECTED with the reason), repost-result (an ended order's through a reset), or "
            "reset (a failed order, to just before its final update)"
        ),
    ],
) -> RepairOutcome:
    """Recorded in the order's history and timeline as "Repair by <operator>: <what> (<reason>)";
    a reset as "Reset by <operator>: <reason>", and its answer names the order's new run
    (`run_id`)."""
    repair, audit = signed(repair, Audit(store, actor))
    return await repair_named_order(temporal, settings, order_id, kind, repair, audit)


# --- Orders: bulk repairs (admin/bulk_repairs.py) --------------------------------------------


@router.post(
    "/orders/bulk-repairs/{kind}",
    response_model=BulkRepairAnswer,
    summary=(
        "Repair every order matching a filter, or (the default) say what each would do: a dry run"
    ),
)
async def repair_orders_route(
    settings: SettingsDep,
    store: StoreDep,
    actor: AdminActorDep,
    lookup: OrderLookupDep,
    repair: BulkRepairRequest,
    kind: Annotated[
        RepairKind,
        Path(
            description=(
                "extend-deadline (needs days), resend-invitation, cancel or repost-result of "
                "running orders; reset of failed ones; repost-result of ended ones (a reset)"
            )
        ),
    ],
) -> BulkRepairAnswer:
    """The listing's filters select the orders (at least one is needed; `open: true` alone means
    every running order), newest first, up to ASSESSMENTS_BULK_REPAIR_LIMIT. A dry run unless
    `dry_run` is false; each order's outcome is in the answer, and one order's refusal or failure
    never stops the others. Answers when every order is done."""
    wanted = order_filter(settings, **repair.filter_fields())
    named, audit = signed(repair, Audit(store, actor))
    return await repair_all(lookup, wanted, kind, named, audit, dry_run=repair.dry_run)
