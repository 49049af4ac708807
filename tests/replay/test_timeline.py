"""An order's timeline and what it is stuck on, read from the committed histories
(admin/timeline.py).

The histories are real runs (tests/replay/record.py); their payloads are sealed with the embedded
payload key, which the timeline needs to show which status a post to SmartRecruiters carried.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from temporalio.api.common.v1 import ActivityType
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.api.failure.v1 import Failure
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from admin.timeline import history_timeline, last_progress, unfinished_call
from codec import data_converter
from orders.activity_names import POLL, POST_TO_SMARTRECRUITERS
from settings import EMBEDDED_PAYLOAD_KEY

HISTORIES = Path(__file__).parent / "histories"
CONVERTER = data_converter(EMBEDDED_PAYLOAD_KEY)
NOTHING_PENDING = DescribeWorkflowExecutionResponse()


def history(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"assessment-order:{name}", (HISTORIES / name).read_text())


async def timeline(
    recorded: WorkflowHistory,
    described: DescribeWorkflowExecutionResponse = NOTHING_PENDING,
    converter: DataConverter = CONVERTER,
) -> list[tuple[str, str, str | None, str | None]]:
    items = await history_timeline(recorded, described, vendor="sandbox", data_converter=converter)
    return [(item.kind, item.what, item.peer, item.outcome) for item in items]


async def test_a_completed_order_shows_each_call_its_peer_and_what_was_posted():
    assert await timeline(history("completed-via-webhook.json")) == [
        ("webhook", "Vendor webhook received", None, None),
        ("webhook", "Vendor webhook received", None, None),
        ("workflow", "Workflow completed", None, None),
        ("call", "Invite the candidate at the vendor", "sandbox", "completed"),
        ("call", "Tell SmartRecruiters: PENDING", "SmartRecruiters", "completed"),
        ("call", "Poll the vendor for news", "sandbox", "completed"),
        ("call", "Read the invitation's status at the vendor", "sandbox", "completed"),
        ("call", "Read the result at the vendor", "sandbox", "completed"),
        (
            "call",
            "Move the report from the vendor to SmartRecruiters",
            "sandbox, SmartRecruiters",
            "completed",
        ),
        ("call", "Tell SmartRecruiters: COMPLETED", "SmartRecruiters", "completed"),
    ]


async def test_a_refused_result_shows_the_refusal_on_the_call_and_on_the_workflow():
    items = await history_timeline(
        history("result-refused-by-smartrecruiters.json"),
        NOTHING_PENDING,
        vendor="sandbox",
        data_converter=CONVERTER,
    )
    post = items[-1]
    assert (post.what, post.outcome, post.attempts) == (
        "Tell SmartRecruiters: COMPLETED",
        "failed",
        1,
    )
    assert post.failure == "SmartRecruiters: result update answered HTTP 400"
    [ended] = [item for item in items if item.kind == "workflow"]
    assert ended.what == "Workflow failed"
    assert ended.failure == "Activity task failed: SmartRecruiters: result update answered HTTP 400"


async def test_a_reset_shows_its_reason_and_an_inline_order_its_link_request():
    reset = await timeline(history("reset-after-result-refused.json"))
    assert ("workflow", "Reset by ops.ann: Result refused once, reset", None, None) in reset
    inline = await timeline(history("inline-order.json"))
    assert inline[0] == (
        "workflow",
        "SmartRecruiters asked for the candidate's link (inline order)",
        None,
        None,
    )


async def test_a_post_whose_input_cannot_be_decoded_is_shown_without_its_status():
    items = await timeline(history("completed-via-webhook.json"), converter=DataConverter.default)
    posts = [what for kind, what, peer, outcome in items if peer == "SmartRecruiters"]
    assert posts == ["Tell SmartRecruiters", "Tell SmartRecruiters"]


def _until_scheduled(recorded: WorkflowHistory, activity: str) -> tuple[WorkflowHistory, str]:
    """The history up to the first scheduling of `activity`, and that call's activity id."""
    for index, event in enumerate(recorded.events):
        scheduled = event.activity_task_scheduled_event_attributes
        if (
            event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and scheduled.activity_type.name == activity
        ):
            return WorkflowHistory(recorded.workflow_id, recorded.events[: index + 1]), (
                scheduled.activity_id
            )
    raise AssertionError(f"{activity} is never scheduled")


def _pending(activity_id: str, activity: str, **given) -> DescribeWorkflowExecutionResponse:
    return DescribeWorkflowExecutionResponse(
        pending_activities=[
            PendingActivityInfo(
                activity_id=activity_id, activity_type=ActivityType(name=activity), **given
            )
        ]
    )


async def test_an_unfinished_post_that_keeps_failing_is_what_the_order_is_stuck_on():
    recorded, activity_id = _until_scheduled(
        history("completed-via-webhook.json"), POST_TO_SMARTRECRUITERS
    )
    described = _pending(
        activity_id,
        POST_TO_SMARTRECRUITERS,
        attempt=4,
        last_failure=Failure(message="SmartRecruiters: result update answered HTTP 503"),
        state=PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
    )
    items = await history_timeline(recorded, described, vendor="sandbox", data_converter=CONVERTER)
    assert (items[-1].what, items[-1].outcome, items[-1].attempts, items[-1].failure) == (
        "Tell SmartRecruiters: PENDING",
        "retrying",
        4,
        "SmartRecruiters: result update answered HTTP 503",
    )
    assert unfinished_call(described) == (
        "Tell SmartRecruiters: attempt 4, last failure: SmartRecruiters: result update "
        "answered HTTP 503"
    )


async def test_a_poll_waiting_for_the_candidate_is_not_stuck():
    recorded, activity_id = _until_scheduled(history("completed-via-webhook.json"), POLL)
    described = _pending(activity_id, POLL, attempt=1)
    items = await timeline(recorded, described)
    assert items[-1] == ("call", "Poll the vendor for news", "sandbox", "polling")
    assert unfinished_call(described) is None


def test_the_last_progress_is_the_last_call_that_finished():
    recorded = history("completed-via-webhook.json")
    finished = [
        event
        for event in recorded.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
    ]
    started = recorded.events[0].event_time.ToDatetime(tzinfo=UTC)
    assert last_progress(recorded.events, default=started) == finished[-1].event_time.ToDatetime(
        tzinfo=UTC
    )
    assert last_progress([], default=started) == started


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda path: path.stem)
async def test_every_history_reads_as_a_timeline_without_candidate_data(path):
    items = await history_timeline(
        history(path.name), NOTHING_PENDING, vendor="sandbox", data_converter=CONVERTER
    )
    assert items and all(item.at is not None for item in items)
    shown = " ".join(item.model_dump_json() for item in items)
    assert "example.com" not in shown and "Replay" not in shown
