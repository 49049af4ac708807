"""An order's history as operators read it on its timeline (`orders show`), and what an open
order is stuck on (`orders list --stuck`).

Our failures name peers and statuses, never candidate data, so their messages are shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.api.enums.v1 import (
    ApplicationErrorCategory,
    EventType,
    PendingActivityState,
    WorkflowTaskFailedCause,
)
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from admin.models import TimelineItem
from admin.temporal import posted_status
from orders.activity_names import (
    ABANDON_INVITATION,
    CANCEL_INVITATION,
    CREATE_INVITATION,
    GET_VENDOR_STATUS,
    POLL,
    POST_ONCE_SMARTRECRUITERS_LISTENS,
    POST_TO_SMARTRECRUITERS,
    READ_RESULT,
    RESEND_INVITATION,
    TRANSFER_REPORT,
)

# What each activity of the order workflow does, and whom it calls ("vendor": the order's vendor).
_CALLS: dict[str, tuple[str, str]] = {
    CREATE_INVITATION: ("vendor", "Invite the candidate at the vendor"),
    GET_VENDOR_STATUS: ("vendor", "Read the invitation's status at the vendor"),
    POLL: ("vendor", "Poll the vendor for news"),
    READ_RESULT: ("vendor", "Read the result at the vendor"),
    CANCEL_INVITATION: ("vendor", "Withdraw the invitation at the vendor"),
    ABANDON_INVITATION: ("vendor", "Tidy up after an invitation given up"),
    RESEND_INVITATION: ("vendor", "Ask the vendor to send the invitation again"),
    TRANSFER_REPORT: (
        "vendor, SmartRecruiters",
        "Move the report from the vendor to SmartRecruiters",
    ),
    POST_TO_SMARTRECRUITERS: ("SmartRecruiters", "Tell SmartRecruiters"),
    POST_ONCE_SMARTRECRUITERS_LISTENS: (
        "SmartRecruiters",
        "Tell SmartRecruiters, once it stops refusing us for the company",
    ),
}
# Events that are a step of the order: its start, and a call finishing (admin/orders.py, "Stuck").
_PROGRESS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    }
)
_CALL_ENDS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: (
        "activity_task_completed_event_attributes",
        "completed",
    ),
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: ("activity_task_failed_event_attributes", "failed"),
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: (
        "activity_task_timed_out_event_attributes",
        "timed out",
    ),
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: (
        "activity_task_canceled_event_attributes",
        "cancelled",
    ),
}


async def history_timeline(
    history: WorkflowHistory,
    described: DescribeWorkflowExecutionResponse,
    *,
    vendor: str,
    data_converter: DataConverter,
) -> list[TimelineItem]:
    """Each SR and vendor call with its outcome, attempts and last failure (from the history, and
    for unfinished calls from the pending activities), vendor webhooks, cancellation and how the
    workflow ended. `vendor` names the order's vendor in the calls' peers."""
    calls: dict[int, _Call] = {}
    items: list[TimelineItem] = []
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            calls[event.event_id] = _Call(
                activity_id=attributes.activity_id,
                activity=attributes.activity_type.name,
                at=_time(event),
                what=await _call_what(attributes, data_converter),
            )
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            if call := calls.get(started.scheduled_event_id):
                call.attempts = started.attempt
                if started.HasField("last_failure") and not _benign(started.last_failure):
                    call.failure = _failure_text(started.last_failure)
        elif kind in _CALL_ENDS:
            field, outcome = _CALL_ENDS[kind]
            attributes = getattr(event, field)
            if call := calls.get(attributes.scheduled_event_id):
                call.outcome, call.finished_at = outcome, _time(event)
                if hasattr(attributes, "failure") and attributes.HasField("failure"):
                    call.failure = _failure_text(attributes.failure)
        elif item := _workflow_item(event):
            items.append(item)
    pending = {activity.activity_id: activity for activity in described.pending_activities}
    for call in calls.values():
        if call.outcome is None and (activity := pending.get(call.activity_id)) is not None:
            call.attempts = activity.attempt
            failing = activity.HasField("last_failure") and not _benign(activity.last_failure)
            call.failure = _failure_text(activity.last_failure) if failing else None
            if call.activity == POLL:
                call.outcome = "polling"
            elif failing:
                call.outcome = "retrying"
            elif activity.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED:
                call.outcome = "waiting for a worker"
            else:
                call.outcome = "running"
        items.append(call.item(vendor))
    return items


async def _call_what(scheduled: Any, data_converter: DataConverter) -> str:
    name = scheduled.activity_type.name
    what = _CALLS.get(name, ("", name))[1]
    if name in (POST_TO_SMARTRECRUITERS, POST_ONCE_SMARTRECRUITERS_LISTENS) and (
        status := await posted_status(data_converter, scheduled)
    ):
        what = f"{what}: {status}"
    return what


@dataclass
class _Call:
    activity_id: str
    activity: str
    at: datetime
    what: str
    attempts: int | None = None
    outcome: str | None = None
    failure: str | None = None
    finished_at: datetime | None = None

    def item(self, vendor: str) -> TimelineItem:
        peer = _CALLS.get(self.activity, ("", ""))[0].replace("vendor", vendor) or None
        return TimelineItem(
            at=self.at,
            kind="call",
            what=self.what,
            peer=peer,
            outcome=self.outcome,
            attempts=self.attempts,
            failure=self.failure,
            finished_at=self.finished_at,
        )


def unfinished_call(described: DescribeWorkflowExecutionResponse) -> str | None:
    """What the order is stuck on, if a call is unfinished (admin/orders.py, "Stuck")."""
    for activity in described.pending_activities:
        name = activity.activity_type.name
        failing = activity.HasField("last_failure") and not _benign(activity.last_failure)
        if name == POLL and not failing:
            continue  # waiting for the candidate or the vendor: not stuck
        what = _CALLS.get(name, ("", name))[1]
        if failing:
            return (
                f"{what}: attempt {activity.attempt}, last failure: "
                f"{_failure_text(activity.last_failure)}"
            )
        if activity.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED:
            return f"{what}: attempt {activity.attempt}, not taken by any worker"
        return f"{what}: attempt {activity.attempt}, running"
    task = described.pending_workflow_task
    if described.HasField("pending_workflow_task") and task.attempt > 1:
        return f"the worker fails on this order (workflow task attempt {task.attempt})"
    return None


def _benign(failure: Failure) -> bool:
    """A failure that is none: the poll's "no news yet", or a call our own budget put off."""
    info = failure.application_failure_info
    return (
        failure.HasField("application_failure_info")
        and info.category == ApplicationErrorCategory.APPLICATION_ERROR_CATEGORY_BENIGN
    )


def _failure_text(failure: Failure, limit: int = 500) -> str:
    """The failure and its causes in one line (our failures name peers and statuses,
    never candidate data)."""
    parts: list[str] = []
    current: Failure | None = failure
    while current is not None and len(parts) < 5:
        if current.message and current.message not in parts:
            parts.append(current.message)
        current = current.cause if current.HasField("cause") else None
    text = ": ".join(parts) or "(no message)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _workflow_item(event: HistoryEvent) -> TimelineItem | None:
    """Webhooks, inline link requests, cancellation and the workflow's end, as timeline lines."""
    kind, at = event.event_type, _time(event)
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        name = event.workflow_execution_signaled_event_attributes.signal_name
        return TimelineItem(
            at=at,
            kind="webhook",
            what="Vendor webhook received" if name == "vendor_event" else f"Signal {name}",
        )
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        name = event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        if name == "vendor_hint":
            return TimelineItem(at=at, kind="webhook", what="Vendor webhook received")
        if name == "invitation_link":
            return TimelineItem(
                at=at,
                kind="workflow",
                what="SmartRecruiters asked for the candidate's link (inline order)",
            )
        return TimelineItem(at=at, kind="workflow", what=f"Update {name}")
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
        return TimelineItem(at=at, kind="workflow", what="Cancellation requested")
    if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        cause = event.workflow_task_failed_event_attributes.cause
        if (
            cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
        ):  # its message is the reset's reason (admin/resets.py)
            return TimelineItem(
                at=at,
                kind="workflow",
                what=event.workflow_task_failed_event_attributes.failure.message
                or "Workflow reset",
            )
        return TimelineItem(
            at=at,
            kind="workflow",
            what=(
                "The worker failed on this order "
                f"({_enum_words(cause, 'WORKFLOW_TASK_FAILED_CAUSE_')})"
            ),
        )
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return TimelineItem(at=at, kind="workflow", what="Workflow completed")
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        return TimelineItem(
            at=at,
            kind="workflow",
            what="Workflow failed",
            failure=_failure_text(event.workflow_execution_failed_event_attributes.failure),
        )
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        return TimelineItem(at=at, kind="workflow", what="Workflow cancelled")
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        reason = event.workflow_execution_terminated_event_attributes.reason
        return TimelineItem(
            at=at, kind="workflow", what="Workflow terminated" + (f": {reason}" if reason else "")
        )
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
        return TimelineItem(at=at, kind="workflow", what="Workflow timed out")
    return None


def _enum_words(value: WorkflowTaskFailedCause.ValueType, prefix: str) -> str:
    return WorkflowTaskFailedCause.Name(value).removeprefix(prefix).replace("_", " ").lower()


def _time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


def last_progress(events: Iterable[HistoryEvent], default: datetime) -> datetime:
    """When the order last made progress: its start, or a call to SR or the vendor finishing."""
    return max((_time(event) for event in events if event.event_type in _PROGRESS), default=default)
