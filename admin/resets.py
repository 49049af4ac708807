"""Operators' resets of an order whose workflow has ended: `repair_order` (admin/repairs.py) calls
`reset_order` for the `reset` repair, and for `repost-result` once the order's workflow has ended
(a running order's repairs are workflow updates; an ended workflow takes none).

A reset is Temporal's ResetWorkflowExecution: the new run of the order (same workflow id, a new
run id) keeps the history up to a workflow task that the order completed, and goes on from there
with the code the workers run now. That task is the one that scheduled:

- `reset` (a FAILED order): the final update whose refusal by SmartRecruiters failed the order
  (the workflow's failure names that activity). The new run maps the result and posts it again,
  so a fix to our result mapping, or SR accepting again, reaches SR; the report already moved
  is not moved again. The same for an UNDELIVERED order (it gave up after SR refused us for its
  company for ASSESSMENTS_SR_REFUSAL_GIVE_UP_DAYS): its last update, the final one SR refused.
- `repost-result` (a COMPLETED or FAILED order that read a result): the last read of the result
  at the vendor. The new run reads it again (a fix to a vendor adapter reaches SR too), moves the
  report again and posts COMPLETED; a revisable result is then watched for revisions again, as
  after its first post.

The reason, "Reset by <operator>: <reason>", is recorded in the new run's history (its
WorkflowTaskFailed event of cause RESET_WORKFLOW; `orders show` lists it in the timeline).
Vendor webhooks that reached the old run after that point are given to the new one again
(Temporal's default reapply), where they are only hints to read the vendor's status.

A reset always acts on the order's current run, and only on an ended one, as Temporal does not
refuse to reset a run again (nor, since server 1.31, dedup resets by their request id): an
operator who resets twice, or retries a reset whose answer was lost, resets the new run only if it
failed again, and is refused while it runs or once it completed. Two operators resetting the same
order in the same instant may still both reset it (the later one ends the earlier one's run): SR
then gets the same update twice, which it takes as one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHistory,
)
from temporalio.service import RPCError

from admin.operations import Conflict
from admin.temporal import TemporalFailed, posted_status, refused_for_order, within
from orders import visibility
from orders.activity_names import POST_TO_SMARTRECRUITERS, READ_RESULT
from orders.models import Repair, RepairOutcome
from settings import Settings

NO_RESULT = "The order has no result to re-post"
RESET_SINCE = "The order was reset since this run was listed; its current run is {run_id}"


@dataclass(frozen=True)
class ResetPoint:
    """Where a reset of the order's current run would go back to."""

    run_id: str
    workflow_task_finish_event_id: int
    what: str  # "posting COMPLETED to SmartRecruiters", "reading the result at the vendor"


async def reset_point(
    temporal: Client,
    settings: Settings,
    order_id: str,
    *,
    reread_result: bool,
    listed_run: str | None = None,
    description: WorkflowExecutionDescription | None = None,
) -> ResetPoint:
    """Where the order would be reset to before its final update (`reset`) or before it read its
    result (`repost-result`, `reread_result`); Conflict with the reason when it cannot be. A bulk
    dry run asks only this. With `listed_run`, only that run is reset: a bulk repair's listing
    still shows a reset order's old run, which must not send its newer run back again. The
    order's `description`, when the caller has just read it, is not asked for again."""
    workflow_id = visibility.workflow_id(order_id)
    timeout = settings.temporal_rpc_timeout
    try:
        if description is None:
            description = await within(
                settings, temporal.get_workflow_handle(workflow_id).describe(rpc_timeout=timeout)
            )
        if listed_run is not None and description.run_id != listed_run:
            raise Conflict(RESET_SINCE.format(run_id=description.run_id))
        undelivered = (
            description.typed_search_attributes.get(visibility.ORDER_STATUS)
            == visibility.UNDELIVERED
        )
        if refusal := _refusal(description.status, reread_result, undelivered=undelivered):
            raise Conflict(refusal)
        run = temporal.get_workflow_handle(workflow_id, run_id=description.run_id)
        history = await within(settings, run.fetch_history(rpc_timeout=timeout))
    except TimeoutError:
        raise TemporalFailed(
            f"Temporal at {settings.temporal_address} did not answer in time"
        ) from None
    except RPCError as err:
        raise refused_for_order(err, order_id, "the reset") from None
    if reread_result:
        point, what = _before_reading_result(history)
    else:
        point, what = await (
            _before_undelivered_update(temporal, history)
            if undelivered
            else _before_final_update(temporal, history)
        )
    return ResetPoint(run_id=description.run_id, workflow_task_finish_event_id=point, what=what)


async def reset_order(
    temporal: Client,
    settings: Settings,
    order_id: str,
    repair: Repair,
    *,
    reread_result: bool,
    listed_run: str | None = None,
    description: WorkflowExecutionDescription | None = None,
) -> RepairOutcome:
    """Reset the order's ended workflow to before its final update (`reset`) or before it read its
    result (`repost-result`, `reread_result`); the outcome names the new run."""
    kind = "repost-result" if reread_result else "reset"
    workflow_id = visibility.workflow_id(order_id)
    point = await reset_point(
        temporal,
        settings,
        order_id,
        reread_result=reread_result,
        listed_run=listed_run,
        description=description,
    )
    try:
        reset = await within(
            settings,
            temporal.workflow_service.reset_workflow_execution(
                ResetWorkflowExecutionRequest(
                    namespace=temporal.namespace,
                    workflow_execution=WorkflowExecution(
                        workflow_id=workflow_id, run_id=point.run_id
                    ),
                    reason=f"Reset by {repair.operator}: {repair.reason}",
                    workflow_task_finish_event_id=point.workflow_task_finish_event_id,
                    # The same run and point, the same request (servers before 1.31 dedup by it).
                    request_id=str(
                        uuid.uuid5(
                            uuid.NAMESPACE_URL,
                            f"{workflow_id}/{point.run_id}/{point.workflow_task_finish_event_id}",
                        )
                    ),
                    identity=temporal.identity,
                ),
                retry=False,  # a reset that went through and is asked again would reset the new run
                timeout=settings.temporal_rpc_timeout,
            ),
        )
    except TimeoutError:
        raise TemporalFailed(
            f"Temporal at {settings.temporal_address} did not answer in time; the order "
            f"may have been reset (see `orders show {order_id}`)"
        ) from None
    except RPCError as err:
        raise refused_for_order(err, order_id, "the reset") from None
    note = (
        f"Reset by {repair.operator}: order reset to just before {point.what}; run "
        f"{reset.run_id} does it again ({repair.reason})"
    )
    return RepairOutcome(repair=kind, done_at=datetime.now(UTC), note=note, run_id=reset.run_id)


def _refusal(
    status: WorkflowExecutionStatus | None, reread_result: bool, *, undelivered: bool = False
) -> str | None:
    """Why the order's current run cannot be reset for this repair, or None."""
    if status == WorkflowExecutionStatus.FAILED or (
        (reread_result or undelivered) and status == WorkflowExecutionStatus.COMPLETED
    ):
        return None
    if status == WorkflowExecutionStatus.RUNNING:
        if reread_result:  # it ran again since repost-result looked (another operator's reset)
            return "The order is running again; ask for repost-result again"
        return (
            "The order is running: only a failed order is reset (to post a running order's "
            "result again, use repost-result)"
        )
    ended = status.name if status is not None else "UNKNOWN"
    if reread_result:
        return (
            f"The order's workflow has ended ({ended}); only a completed or failed order's "
            "result can be re-posted"
        )
    if status == WorkflowExecutionStatus.COMPLETED:
        return (
            "The order completed: nothing failed to go back to (to read its result again and "
            "post it, use repost-result)"
        )
    return f"The order's workflow has ended ({ended}), not failed; only a failed order is reset"


async def _before_final_update(temporal: Client, history: WorkflowHistory) -> tuple[int, str]:
    """The workflow task that scheduled the update whose
    refusal failed the order, and that update."""
    ended = history.events[-1] if history.events else None
    failed_post = None
    if ended is not None and ended.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        failure = ended.workflow_execution_failed_event_attributes.failure
        activity = failure.activity_failure_info
        if (
            failure.HasField("activity_failure_info")
            and activity.activity_type.name == POST_TO_SMARTRECRUITERS
        ):
            failed_post = next(
                (
                    event
                    for event in history.events
                    if event.event_id == activity.scheduled_event_id
                ),
                None,
            )
    if failed_post is None:
        raise Conflict(
            "The order failed before it posted a result: there is no result post to go back to"
        )
    scheduled = failed_post.activity_task_scheduled_event_attributes
    update = await posted_status(temporal.data_converter, scheduled) or "its final update"
    return scheduled.workflow_task_completed_event_id, f"posting {update} to SmartRecruiters"


async def _before_undelivered_update(temporal: Client, history: WorkflowHistory) -> tuple[int, str]:
    """The workflow task that scheduled an UNDELIVERED order's last update: the final one, which SR
    refused us for until the order gave up."""
    posts = [
        event.activity_task_scheduled_event_attributes
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name
        == POST_TO_SMARTRECRUITERS
    ]
    if not posts:
        raise Conflict(
            "The order gave up before it posted anything: there is no update to go back to"
        )
    update = await posted_status(temporal.data_converter, posts[-1]) or "its final update"
    return posts[-1].workflow_task_completed_event_id, f"posting {update} to SmartRecruiters"


def _before_reading_result(history: WorkflowHistory) -> tuple[int, str]:
    """The workflow task that scheduled the order's first successful read of its result: the one
    its COMPLETED was posted from. (A later read, of a revision, is posted only if the result
    changed, so going back to it would re-post nothing after a fix to our mapping.)"""
    reads: dict[int, int] = {}  # a read's scheduled event → the workflow task that scheduled it
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name == READ_RESULT:
                reads[event.event_id] = scheduled.workflow_task_completed_event_id
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            first_read = reads.get(
                event.activity_task_completed_event_attributes.scheduled_event_id
            )
            if first_read is not None:
                return first_read, "reading the result at the vendor"
    raise Conflict(NO_RESULT)
