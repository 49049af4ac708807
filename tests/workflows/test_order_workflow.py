"""The order workflow on Temporal's time-skipping test server: days-long waits run in seconds.

The activities are replaced by a scripted vendor and a recording SmartRecruiters; everything
else (timers, retries, signals, updates) is the real Temporal machinery.
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.orders import PEER_REJECTED, STATUS_UNCHANGED
from orders.models import (
    Candidate,
    Invitation,
    Order,
    OrderState,
    PollRequest,
    ReportLink,
    ReportTransfer,
    SrStatus,
    SrUpdateRequest,
    StatusReading,
    PackageTestResult,
    VendorEvent,
    VendorRef,
    VendorResult,
    VendorStatus,
)
from workflows.order import AssessmentOrderWorkflow

POLL_HOURS = 1


@pytest.fixture(scope="module")
async def env():
    server = Path(sys.executable).parent / "temporal-test-server"
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(server), data_converter=pydantic_data_converter
    )
    yield environment
    await environment.shutdown()


@dataclass
class ScriptedPeers:
    """A vendor whose status the test sets, and a SmartRecruiters that records what it is told."""

    status: VendorStatus = VendorStatus.INVITED
    invitation_fails: bool = False
    polls: int = 0
    status_reads: int = 0
    cancellations: int = 0
    report_transfers: int = 0
    sr_updates: list[SrUpdateRequest] = field(default_factory=list)

    def activities(self) -> list:
        @activity.defn(name="create_invitation")
        async def create_invitation(order: Order) -> Invitation:
            if self.invitation_fails:
                raise ApplicationError("vendor refused the email", type=PEER_REJECTED, non_retryable=True)
            return Invitation(vendor_ref="inv-1", test_url=f"https://vendor.example/take/{order.order_id}")

        @activity.defn(name="await_vendor_change")
        async def await_vendor_change(request: PollRequest) -> StatusReading:
            self.polls += 1
            if self.status == request.known_status:
                raise ApplicationError("unchanged", type=STATUS_UNCHANGED, category=ApplicationErrorCategory.BENIGN)
            return StatusReading(status=self.status)

        @activity.defn(name="get_vendor_status")
        async def get_vendor_status(ref: VendorRef) -> StatusReading:
            self.status_reads += 1
            return StatusReading(status=self.status)

        @activity.defn(name="get_vendor_result")
        async def get_vendor_result(ref: VendorRef) -> VendorResult:
            return VendorResult(
                score=83.3333, max_score=100, outcome="passed", summary="Scored 83%.",
                submitted_at=datetime(2026, 11, 2, tzinfo=timezone.utc),
                tests=[PackageTestResult(test_id="python-basics", name="Python basics", score=2, max_score=3, outcome="passed")],
            )  # fmt: skip

        @activity.defn(name="cancel_invitation")
        async def cancel_invitation(ref: VendorRef) -> None:
            self.cancellations += 1

        @activity.defn(name="transfer_report")
        async def transfer_report(transfer: ReportTransfer) -> ReportLink:
            self.report_transfers += 1
            return ReportLink(url="https://sr.example/files/1")

        @activity.defn(name="update_smartrecruiters")
        async def update_smartrecruiters(request: SrUpdateRequest) -> None:
            self.sr_updates.append(request)

        return [create_invitation, await_vendor_change, get_vendor_status, get_vendor_result, cancel_invitation, transfer_report, update_smartrecruiters]

    @property
    def sr_statuses(self) -> list[SrStatus]:
        return [u.update.status for u in self.sr_updates]


def an_order(*, deadline_days: float = 3, poll_hours: float = POLL_HOURS, inline: bool = False) -> Order:
    return Order(
        order_id=str(uuid.uuid4()), company_id="acme", package_id="skills-fullstack", package_name="Full-stack skills",
        vendor="sandbox", result_callback_url="https://sr.example/orders/x/results",
        candidate=Candidate(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        inline=inline, deadline_days=deadline_days, poll_interval_seconds=poll_hours * 3600,
        received_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
    )  # fmt: skip


async def start(env: WorkflowEnvironment, order: Order, task_queue: str) -> WorkflowHandle:
    return await env.client.start_workflow(AssessmentOrderWorkflow.run, order, id=f"assessment-order:{order.order_id}", task_queue=task_queue)


async def run_order(env, peers: ScriptedPeers, order: Order, script=None) -> OrderState:
    task_queue = str(uuid.uuid4())
    async with Worker(env.client, task_queue=task_queue, workflows=[AssessmentOrderWorkflow], activities=peers.activities()):
        handle = await start(env, order, task_queue)
        if script:
            await script(handle)
        return await handle.result()


async def test_candidate_who_never_finishes_expires_after_the_package_deadline(env):
    peers = ScriptedPeers()
    state = await run_order(env, peers, an_order(deadline_days=3))

    assert peers.sr_statuses == [SrStatus.PENDING, SrStatus.EXPIRED]
    assert "3 days" in peers.sr_updates[-1].update.summary
    assert peers.cancellations == 1
    assert peers.status_reads == 1  # the final look before giving up
    # Polled about once an hour for three days: the fallback ran, without hammering the vendor.
    assert 60 <= peers.polls <= 80
    assert state.finished
    assert timedelta(days=3) <= state.timeline[-1].at - state.timeline[0].at < timedelta(days=3, minutes=1)


async def test_polling_alone_carries_an_order_to_completion_over_days(env):
    peers = ScriptedPeers()

    async def candidate_takes_two_days(handle):
        await env.sleep(timedelta(days=1))
        peers.status = VendorStatus.STARTED
        await env.sleep(timedelta(days=1))
        peers.status = VendorStatus.COMPLETED

    state = await run_order(env, peers, an_order(deadline_days=7), candidate_takes_two_days)

    assert peers.sr_statuses == [SrStatus.PENDING, SrStatus.IN_PROGRESS, SrStatus.COMPLETED]
    completed = peers.sr_updates[-1].update
    assert completed.score.model_dump() == {"raw": 83, "min": 0, "max": 100}
    assert completed.score_label == "Passed"
    assert completed.assessment_results[0].score.model_dump() == {"raw": 2, "min": 0, "max": 3}
    assert peers.report_transfers == 1 and peers.cancellations == 0
    assert state.report_url == "https://sr.example/files/1"


async def test_webhooks_are_deduplicated_by_vendor_event_id(env):
    peers = ScriptedPeers()

    async def duplicate_webhooks(handle):
        # Polls are a day apart here, so only the webhooks can move the order along quickly.
        await env.sleep(timedelta(minutes=5))
        peers.status = VendorStatus.STARTED
        for _ in range(3):
            await handle.signal(AssessmentOrderWorkflow.vendor_event, VendorEvent(event_id="evt-1", kind="invitation.started"))
        await env.sleep(timedelta(minutes=5))
        peers.status = VendorStatus.COMPLETED
        await handle.signal(AssessmentOrderWorkflow.vendor_event, VendorEvent(event_id="evt-2", kind="invitation.completed"))

    state = await run_order(env, peers, an_order(deadline_days=7, poll_hours=24), duplicate_webhooks)

    assert peers.sr_statuses == [SrStatus.PENDING, SrStatus.IN_PROGRESS, SrStatus.COMPLETED]
    assert state.events_received == ["evt-1", "evt-2"]
    assert state.duplicate_events == 2
    assert peers.status_reads == 2  # each distinct webhook made one authoritative read


async def test_candidate_declining_ends_as_rejected_with_a_readable_summary(env):
    peers = ScriptedPeers()

    async def declines(handle):
        await env.sleep(timedelta(hours=3))
        peers.status = VendorStatus.DECLINED

    await run_order(env, peers, an_order(), declines)

    assert peers.sr_statuses == [SrStatus.PENDING, SrStatus.REJECTED]
    assert peers.sr_updates[-1].update.summary == "The candidate declined the assessment."
    assert peers.cancellations == 0


async def test_vendor_refusing_the_invitation_rejects_the_order(env):
    peers = ScriptedPeers(invitation_fails=True)
    state = await run_order(env, peers, an_order())

    assert peers.sr_statuses == [SrStatus.REJECTED]
    assert "could not send the invitation" in peers.sr_updates[0].update.summary
    assert state.invitation is None and peers.polls == 0


async def test_inline_order_answers_with_the_test_link_through_update_with_start(env):
    peers = ScriptedPeers()
    order = an_order(inline=True)
    task_queue = str(uuid.uuid4())
    # Real time here: the hourly poll must not be skipped to, so only the webhook finishes the order.
    with env.auto_time_skipping_disabled():
        async with Worker(env.client, task_queue=task_queue, workflows=[AssessmentOrderWorkflow], activities=peers.activities()):
            start_op = WithStartWorkflowOperation(
                AssessmentOrderWorkflow.run, order, id=f"assessment-order:{order.order_id}", task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )  # fmt: skip
            link = await env.client.execute_update_with_start_workflow(AssessmentOrderWorkflow.invitation_link, start_workflow_operation=start_op)
            assert link.url == f"https://vendor.example/take/{order.order_id}"
            peers.status = VendorStatus.COMPLETED
            handle = await start_op.workflow_handle()
            await handle.signal(AssessmentOrderWorkflow.vendor_event, VendorEvent(event_id="evt-done", kind="invitation.completed"))
            state = await handle.result()
    assert peers.sr_statuses == [SrStatus.PENDING, SrStatus.COMPLETED]
    assert peers.polls == 1  # the first look, right after the invitation
    assert peers.report_transfers == 0  # SR refuses attachments on inline orders
    assert state.report_url is None
