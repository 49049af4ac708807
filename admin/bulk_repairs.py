"""Operators' bulk repairs: one repair (admin/repairs.py) for every order matching a filter, the
listing's filters (admin/orders.py). The admin API (`POST /admin/orders/bulk-repairs/{kind}`) and
the CLI (`assessments orders repair-all`) both call `repair_all`.

- The matching orders are listed first, page by page, newest first, up to
  ASSESSMENTS_BULK_REPAIR_LIMIT (the answer says when more matched), and only then repaired: a
  repair can change what the filter matches (a cancelled order is no longer open), which would
  shift the pages under a walk that repaired as it went.
- **Real run**: each running order gets the repair through `repair_order`, a few at a time: an
  update of its workflow, as one order's repair.
- **Dry run**: each running order is asked, by the `repair_refusal` query, what its update's
  validator would say; a query enters no history, so nothing about the order changes.
- **Resets** (admin/resets.py): `reset` of failed orders (the `failed` filter finds them, e.g.
  after a fix to the result mapping), and `repost-result` of orders that have ended. The dry run
  finds, in each order's history, the point it would go back to (or why there is none); the real
  run resets each order there.
- One order's refusal or failure never stops the others: each order's outcome is in the answer
  (repaired, would-repair, refused with the order's reason, failed with what went wrong), with
  counts by outcome.

A filter is required (`open` alone is one: every running order), so that no omission repairs
every order there is. Messages carry order ids and Temporal's words, never candidate data.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError, RPCStatusCode

from admin.audit import Action, Audit, Outcome
from admin.models import (
    MAX_PAGE_SIZE,
    BulkOutcome,
    BulkRepairAnswer,
    BulkRepairItem,
    OrderFilter,
    OrderSummary,
    RepairRequest,
)
from admin.operations import AdminError, Conflict, Invalid
from admin.orders import OrderLookup
from admin.repairs import ENDED, RepairKind, repair_input, repair_order, resend_refusal
from admin.resets import reset_point
from admin.temporal import QUERY_TIMEOUT_SECONDS
from orders.models import RepairQuestion
from settings import Settings
from workflows.order import AssessmentOrderWorkflow

log = logging.getLogger("assessments.admin")

# Orders repaired at once: a few, so that a batch of cancellations does not crowd out the
# orders' own calls to SR and the vendors (and the SR rate limit they share).
CONCURRENCY = 4
NEEDS_A_FILTER = (
    "say which orders to repair: give at least one filter (company, vendor, package, "
    "status, older than, expiring within, open, stuck, failed); "
    "for every running order, ask for open ones"
)
RUNNING = "RUNNING"


async def repair_all(
    lookup: OrderLookup,
    wanted: OrderFilter,
    kind: RepairKind,
    request: RepairRequest,
    audit: Audit,
    *,
    dry_run: bool,
) -> BulkRepairAnswer:
    """The repair (or, dry, its verdict) for every order matching `wanted`; Invalid for a missing
    filter or a repair's bad input, before any order is touched. A real run records each order's
    repair in the audit log, and the whole run (a dry run changes nothing, and records nothing)."""
    temporal, settings = lookup.temporal, lookup.settings
    if not _narrows(wanted):
        raise Invalid(NEEDS_A_FILTER)
    question = RepairQuestion(kind=kind, repair=repair_input(kind, request))
    orders, more_matched = await _matching(lookup, wanted, settings.bulk_repair_limit)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(order: OrderSummary) -> BulkRepairItem:
        async with gate:
            resets = kind == RepairKind.RESET or (
                kind == RepairKind.REPOST_RESULT and order.workflow_status != RUNNING
            )
            if not resets and order.workflow_status != RUNNING:
                return _item(order, "refused", ENDED.format(status=order.workflow_status))
            if kind == RepairKind.RESEND_INVITATION and (refusal := resend_refusal(order.vendor)):
                return _item(order, "refused", refusal)
            if dry_run:
                if resets:
                    return await _reset_verdict(temporal, settings, order, kind)
                return await _verdict(temporal, settings, order, question)
            item = await _repaired(temporal, settings, order, kind, request)
            await audit.record(
                Action.ORDER_REPAIR,
                order.reference,
                reason=request.reason,
                outcome=_AUDITED[item.outcome],
                detail=f"{kind.value} (bulk): {item.detail}",
            )
            return item

    items = await asyncio.gather(*(one(order) for order in orders))
    counts: dict[BulkOutcome, int] = {"would-repair": 0, "repaired": 0, "refused": 0, "failed": 0}
    for item in items:
        counts[item.outcome] += 1
    if not dry_run:
        await audit.record(
            Action.ORDERS_BULK_REPAIR,
            described(wanted),
            reason=request.reason,
            detail=f"{kind.value}: "
            + ", ".join(f"{count} {outcome}" for outcome, count in counts.items() if count)
            + (" (more matched)" if more_matched else ""),
        )
    return BulkRepairAnswer(
        repair=kind.value,
        dry_run=dry_run,
        examined=len(items),
        more_matched=more_matched,
        counts=counts,
        orders=list(items),
    )


_AUDITED = {
    "repaired": Outcome.DONE,
    "refused": Outcome.REFUSED,
    "failed": Outcome.FAILED,
    "would-repair": Outcome.DONE,
}


def described(wanted: OrderFilter) -> str:
    """The filter in a line: what a bulk repair's audit record names as its target."""
    given = wanted.model_dump(exclude={"limit", "page_token"}, exclude_defaults=True, mode="json")
    return " ".join(f"{name}={value}" for name, value in given.items())


def _narrows(wanted: OrderFilter) -> bool:
    return bool(wanted.model_dump(exclude={"limit", "page_token"}, exclude_defaults=True))


async def _matching(
    lookup: OrderLookup, wanted: OrderFilter, cap: int
) -> tuple[list[OrderSummary], bool]:
    """Up to `cap` matching orders, newest first, and whether more matched: pages are read until
    one order beyond the cap is seen (a stuck filter's page may hold none while more follow)."""
    orders: dict[str, OrderSummary] = {}
    page_token = None
    while True:
        page_size = min(MAX_PAGE_SIZE, cap + 1 - len(orders))
        page = await lookup.list(
            wanted.model_copy(update={"limit": page_size, "page_token": page_token})
        )
        for (
            order
        ) in page.orders:  # a reset order is listed once per run: the newest run stands for it
            orders.setdefault(order.reference, order)
        page_token = page.next_page_token
        if len(orders) > cap or page_token is None:
            return list(orders.values())[:cap], len(orders) > cap


async def _verdict(
    temporal: Client, settings: Settings, order: OrderSummary, question: RepairQuestion
) -> BulkRepairItem:
    """What the order's update validator would say now, without asking for the repair."""
    handle = temporal.get_workflow_handle(order.workflow_id)
    try:
        refusal = await asyncio.wait_for(
            handle.query(
                AssessmentOrderWorkflow.repair_refusal,
                question,
                rpc_timeout=settings.temporal_rpc_timeout,
            ),
            timeout=QUERY_TIMEOUT_SECONDS,
        )
    except TimeoutError:
        return _item(
            order,
            "failed",
            f"Temporal did not answer within {QUERY_TIMEOUT_SECONDS:g} s (is a worker running?)",
        )
    except (
        WorkflowQueryFailedError,
        WorkflowQueryRejectedError,
    ):  # e.g. a worker older than the query
        return _item(
            order,
            "failed",
            "the order's worker could not answer whether it would be repaired (are the "
            "workers up to date?)",
        )
    except RPCError as err:
        return _item(order, "failed", _rpc_failure(err))
    if refusal is not None:
        return _item(order, "refused", refusal)
    return _item(order, "would-repair", f"would be repaired: {question.kind}")


async def _reset_verdict(
    temporal: Client, settings: Settings, order: OrderSummary, kind: RepairKind
) -> BulkRepairItem:
    """Where the order's reset would go back to, found in its history, without resetting it."""
    try:
        point = await reset_point(
            temporal,
            settings,
            order.reference,
            reread_result=kind == RepairKind.REPOST_RESULT,
            listed_run=order.run_id,
        )
    except Conflict as err:
        return _item(order, "refused", str(err))
    except AdminError as err:
        return _item(order, "failed", str(err))
    return _item(order, "would-repair", f"would be reset to just before {point.what}")


async def _repaired(
    temporal: Client,
    settings: Settings,
    order: OrderSummary,
    kind: RepairKind,
    request: RepairRequest,
) -> BulkRepairItem:
    """The repair of the run listed, as its dry run judged it (never a newer run of the order)."""
    try:
        outcome = await repair_order(
            temporal, settings, order.reference, kind, request, listed_run=order.run_id
        )
    except (
        Conflict
    ) as err:  # the order's own reason, or it ended (or was reset) since it was listed
        return _item(order, "refused", str(err))
    except AdminError as err:  # Temporal did not answer or refused; the order is gone
        return _item(order, "failed", str(err))
    except Exception:  # the batch goes on; the others' outcomes must reach the operator
        log.exception("bulk repair %s of order %s failed", kind.value, order.order_id)
        return _item(
            order, "failed", "an unexpected error (logged); see `orders show` for the order's state"
        )
    sr_status = outcome.sr_status.value if outcome.sr_status is not None else None
    return _item(order, "repaired", outcome.note, deadline=outcome.deadline, sr_status=sr_status)


def _rpc_failure(err: RPCError) -> str:
    if err.status == RPCStatusCode.NOT_FOUND:
        return "the order is no longer in Temporal"
    return f"Temporal refused ({err.status.name if err.status else 'unknown status'})"


def _item(order: OrderSummary, outcome: BulkOutcome, detail: str, **repaired) -> BulkRepairItem:
    return BulkRepairItem(
        order_id=order.order_id,
        status=order.status,
        workflow_status=order.workflow_status,
        outcome=outcome,
        detail=detail,
        **repaired,
    )
