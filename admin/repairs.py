"""Operators' repairs of one order: the admin API (`POST /admin/orders/{id}/repairs/{kind}`) and
the CLI (`assessments orders repair`) both call `repair_order`.

Each repair is an update of the order's workflow (`workflows/order.py`): its validator refuses a
repair that makes no sense in the order's state (→ Conflict, with the workflow's reason), and an
accepted one is recorded in the order's history with the operator and the reason.

- `extend-deadline` (`days`): the candidate has that much longer; the order expires later.
- `resend-invitation`: the vendor emails the invitation again (vendors whose adapter can).
- `cancel`: the invitation is withdrawn and SR shows REJECTED with the reason as its summary.
- `repost-result`: the result is read again from the vendor and posted again (after a mapping
  fix), while the order still runs (a revisable result, in its revision window). Once the
  order's workflow has completed or failed, through a reset to just before it read the result.
- `reset`: a FAILED order (SR refused its final update) goes back to just before that update,
  which a new run posts again with the current code (after a mapping fix, or once SR accepts);
  so does an UNDELIVERED one (it gave up after SR refused us for its company).

Resets (`admin/resets.py`) are Temporal resets of an ended workflow, not updates: the reason,
"Reset by <operator>: <reason>", is in the new run's history, and the outcome names the new run.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from admin.audit import Action, Actor, Audit, Via
from admin.models import RepairRequest
from admin.operations import AdminError, Conflict, Invalid
from admin.resets import RESET_SINCE, reset_order
from admin.temporal import (
    TemporalFailed,
    check_order_id,
    refused_for_order,
    resolve_order,
    within,
)
from orders import visibility
from orders.models import (
    REPAIR_FAILED,
    REPAIR_REFUSED,
    DeadlineExtension,
    Repair,
    RepairKind,
    RepairOutcome,
)
from settings import Settings
from vendors.registry import ADAPTERS
from workflows.order import AssessmentOrderWorkflow

# The workflow's refusals, whose messages are written for operators.
_REFUSALS = {REPAIR_REFUSED, REPAIR_FAILED}
ENDED = "the order's workflow has ended ({status}); only a running order can be repaired"

_UPDATES: dict[RepairKind, Any] = {
    RepairKind.EXTEND_DEADLINE: AssessmentOrderWorkflow.extend_deadline,
    RepairKind.RESEND_INVITATION: AssessmentOrderWorkflow.resend_invitation,
    RepairKind.CANCEL: AssessmentOrderWorkflow.cancel_order,
    RepairKind.REPOST_RESULT: AssessmentOrderWorkflow.repost_result,
}


def resend_refusal(vendor: str | None) -> str | None:
    """Why an order of this vendor cannot have its invitation resent (its adapter offers none), or
    None; asked before the order's workflow is, so that no order records a resend bound to fail."""
    adapter = ADAPTERS.get(vendor or "")
    if adapter is not None and not adapter.capabilities.resend:
        return f"{vendor} offers no resend through this integration (docs/vendors.md)"
    return None


def repair_input(kind: RepairKind, request: RepairRequest) -> Repair:
    """The workflow's input for this repair; Invalid when `days` is missing or not wanted, or
    nobody is named (`signed` names the authenticated operator)."""
    if request.operator is None:
        raise Invalid(SHARED_KEY_NEEDS_A_NAME)
    if kind == RepairKind.EXTEND_DEADLINE:
        if request.days is None:
            raise Invalid("extend-deadline needs days: how many days to add to the deadline")
        return DeadlineExtension(
            operator=request.operator, reason=request.reason, days=request.days
        )
    if request.days is not None:
        raise Invalid(f"{kind.value} takes no days")
    return Repair(operator=request.operator, reason=request.reason)


SHARED_KEY_NEEDS_A_NAME = (
    "operator: say who you are; the shared admin key does not (an operator key of your own "
    "does: `assessments operators key`)"
)
SOMEONE_ELSE = "operator: you are {name}; leave the field out or give your own name"


def signed(request: RepairRequest, audit: Audit) -> tuple[RepairRequest, Audit]:
    """The repair as the authenticated operator's: their name goes into the order's history and
    the audit log. Only the shared admin key, which names nobody, takes the name its caller
    gives (and the audit log says it came with that key)."""
    actor = audit.actor
    if actor.via == Via.ADMIN_KEY:
        if request.operator is None:
            raise Invalid(SHARED_KEY_NEEDS_A_NAME)
        named = Actor(name=request.operator, via=actor.via, role=actor.role)
        return request, Audit(audit.store, named)
    if request.operator not in (None, actor.name):
        raise Invalid(SOMEONE_ELSE.format(name=actor.name))
    return request.model_copy(update={"operator": actor.name}), audit


async def repair_named_order(
    temporal: Client,
    settings: Settings,
    given: str,
    kind: RepairKind,
    request: RepairRequest,
    audit: Audit,
) -> RepairOutcome:
    """The repair of the order an operator names, by its reference or SR's order id alone,
    recorded in the audit log (refusals too)."""
    async with audit.recorded(
        Action.ORDER_REPAIR, given, reason=request.reason, refusals=(AdminError,)
    ) as detail:
        detail.append(kind.value)
        order_id = await resolve_order(temporal, settings, given)
        outcome = await repair_order(temporal, settings, order_id, kind, request)
        detail.append(outcome.note)
        return outcome


async def repair_order(
    temporal: Client,
    settings: Settings,
    order_id: str,
    kind: RepairKind,
    request: RepairRequest,
    *,
    listed_run: str | None = None,
) -> RepairOutcome:
    """The repair, as an update of the running order or a reset of an ended one; `order_id` is
    the order's reference (orders/visibility.py). `listed_run` (bulk repairs): a reset acts only
    on that run of the order (admin/resets.py)."""
    check_order_id(order_id)
    repair = repair_input(kind, request)
    if kind == RepairKind.RESET:
        return await reset_order(
            temporal, settings, order_id, repair, reread_result=False, listed_run=listed_run
        )
    handle = temporal.get_workflow_handle(visibility.workflow_id(order_id))
    timeout = settings.temporal_rpc_timeout
    try:
        description = await within(settings, handle.describe(rpc_timeout=timeout))
        if listed_run is not None and description.run_id != listed_run:
            raise Conflict(RESET_SINCE.format(run_id=description.run_id))
        if description.status != WorkflowExecutionStatus.RUNNING:
            if (
                kind == RepairKind.REPOST_RESULT
            ):  # an ended workflow takes no update, but can be reset
                return await reset_order(
                    temporal,
                    settings,
                    order_id,
                    repair,
                    reread_result=True,
                    listed_run=listed_run,
                    description=description,
                )
            raise Conflict(
                ENDED.format(
                    status=description.status.name if description.status is not None else "UNKNOWN"
                )
            )
        if kind == RepairKind.RESEND_INVITATION and (
            refusal := resend_refusal(description.typed_search_attributes.get(visibility.VENDOR))
        ):
            raise Conflict(refusal)
        return await within(
            settings,
            handle.execute_update(
                _UPDATES[kind], repair, result_type=RepairOutcome, rpc_timeout=timeout
            ),
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in _REFUSALS:
            raise Conflict(cause.message) from None
        raise Conflict("the order refused the repair") from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise TemporalFailed(
            f"Temporal at {settings.temporal_address} did not answer in time; the repair "
            f"may still be made (see `orders show {order_id}`)"
        ) from None
    except RPCError as err:
        raise refused_for_order(err, order_id, "the repair") from None
