"""The order workflow on Temporal's time-skipping test server: days-long waits run in seconds.

The real activities run against a scripted vendor adapter and a recording SmartRecruiters
client; everything else (timers, retries, signals, updates, cancellation) is real Temporal.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.orders import OrderActivities
from orders.models import (
    HINT_REFUSED,
    HINTS_CLOSED,
    Candidate,
    Invitation,
    Order,
    OrderState,
    PackageTestResult,
    StatusReading,
    VendorEvent,
    VendorResult,
    VendorStatus,
)
from peers import PeerError
from tests.support.temporal_test_server import result_of
from vendors.base import Capabilities, OrderCallback, Push, Report
from workflows.order import WEBHOOK_EVENTS_PER_ORDER, AssessmentOrderWorkflow

if TYPE_CHECKING:
    from connections.smartrecruiters_clients import SmartRecruitersClients
    from vendors.registry import Vendors

POLL_HOURS = 1


@dataclass
class ScriptedVendor:
    """A vendor adapter whose candidate the test controls."""

    name: str = "sandbox"
    capabilities: Capabilities = Capabilities(
        push=Push.ACCOUNT_URL,
        push_auth="none",
        idempotency="reference_returns_existing",
        cancel=True,
    )
    status: VendorStatus = VendorStatus.INVITED
    refuse_invitation: bool = False
    refused_with: str = "invitation answered HTTP 422"
    refuse_cancellation: bool = False
    report_missing: bool = False
    finishes_while_being_cancelled: bool = False
    status_reads: int = 0
    cancellations: int = 0
    # A vendor that revises completed results (Checkr disputes) and the current revision.
    revisable: bool = False
    revision: str | None = None
    outcome: str = "passed"
    credentials_refused: bool = False
    # The vendor answers 404 for the invitation: its records lost, or another account's key.
    forgotten: bool = False
    # The vendor forgets an invitation once it is withdrawn (HackerRank, TestGorilla).
    forgets_withdrawn: bool = False
    # The orders whose invitation was given up, as the vendor was told.
    abandoned: list[str] = field(default_factory=list)

    async def create_invitation(self, order: Order, callback) -> Invitation:
        if self.refuse_invitation:
            raise PeerError("vendor", self.refused_with, status=422, retryable=False)
        return Invitation(
            vendor_ref="inv-1",
            test_url=f"https://vendor.example/take/{order.order_id}",
            results_revisable=self.revisable,
        )

    async def get_status(self, ref: str) -> StatusReading:
        self.status_reads += 1
        if self.credentials_refused:
            raise PeerError("vendor", "status answered HTTP 401", status=401, retryable=False)
        if self.forgotten or (self.forgets_withdrawn and self.status == VendorStatus.CANCELLED):
            raise PeerError("vendor", "status answered HTTP 404", status=404, retryable=False)
        return StatusReading(status=self.status, revision=self.revision)

    async def get_result(self, ref: str) -> VendorResult:
        return VendorResult(
            score=83.3333,
            max_score=100,
            outcome=self.outcome,
            summary=f"Scored 83%, {self.outcome}.",
            submitted_at=datetime(2026, 11, 2, tzinfo=UTC),
            tests=[
                PackageTestResult(
                    test_id="python-basics",
                    name="Python basics",
                    score=2,
                    max_score=3,
                    outcome="passed",
                )
            ],
        )

    async def abandon_invitation(self, order_reference: str) -> None:
        self.abandoned.append(order_reference)

    async def cancel_invitation(self, ref: str) -> None:
        if self.refuse_cancellation:
            raise PeerError("vendor", "cancellation answered HTTP 403", status=403, retryable=False)
        self.cancellations += 1
        if self.finishes_while_being_cancelled:
            self.status = VendorStatus.COMPLETED
        elif self.status != VendorStatus.COMPLETED:
            self.status = VendorStatus.CANCELLED

    async def download_report(self, ref: str) -> Report | None:
        if self.report_missing:
            raise PeerError(
                "vendor", "report download answered HTTP 404", status=404, retryable=False
            )
        return Report(filename="report.pdf", content=b"%PDF-1.4")


@dataclass
class RecordingSmartRecruiters:
    """Stands in for the SR client: records every patch and upload; can refuse statuses."""

    refuse: set[str] = field(default_factory=set)
    patches: list[dict] = field(default_factory=list)
    uploads: int = 0
    # The companies SR confirmed orders of: order id → company.
    owners: dict[str, str] = field(default_factory=dict)

    async def patch_result(
        self, order_id: str, patch: dict, callback_url: str | None = None
    ) -> None:
        if patch["status"] in self.refuse:
            raise PeerError(
                "SmartRecruiters", "result update answered HTTP 400", status=400, retryable=False
            )
        self.patches.append(patch)

    async def upload_attachment(
        self,
        order_id: str,
        filename: str,
        content: bytes,
        content_type: str,
        callback_url: str | None = None,
    ) -> str:
        self.uploads += 1
        return "https://sr.example/files/1"

    async def for_company(self, company_id: str) -> RecordingSmartRecruiters:
        return self

    async def order_accepted(self, order_id: str, company_id: str) -> None:
        self.owners.setdefault(order_id, company_id)

    @property
    def statuses(self) -> list[str]:
        return [p["status"] for p in self.patches]


@dataclass
class Peers:
    vendor: ScriptedVendor = field(default_factory=ScriptedVendor)
    sr: RecordingSmartRecruiters = field(default_factory=RecordingSmartRecruiters)

    @contextlib.asynccontextmanager
    async def using(self, vendor_account_id: str | None) -> AsyncIterator[ScriptedVendor]:
        yield self.vendor

    async def remember_candidate(self, email: str, order_id: str) -> None:
        pass  # the operators' index is the store's (tests/store)

    async def remember_invitation(
        self, vendor_account_id: str | None, invitation: Invitation, order_id: str
    ) -> None:
        pass  # the vendor reference indexes are the store's (tests/store)

    def callback_for(self, vendor: str, order_id: str) -> OrderCallback:
        return OrderCallback(
            url=f"https://us.example/webhooks/{vendor}/orders/{order_id}", token="t"
        )

    def worker(self, env: WorkflowEnvironment, task_queue: str) -> Worker:
        # Test doubles of SR's clients and of the vendor registry, standing in by their methods.
        activities = OrderActivities(cast("SmartRecruitersClients", self.sr), cast("Vendors", self))
        return Worker(
            env.client,
            task_queue=task_queue,
            workflows=[AssessmentOrderWorkflow],
            activities=activities.all(),
        )


def an_order(
    *,
    deadline_days: float = 3,
    poll_hours: float = POLL_HOURS,
    inline: bool = False,
    received_at: datetime | None = None,
    **fields,
) -> Order:
    """An order received now (its deadline runs from then), unless `received_at` says otherwise."""
    return Order(
        order_id=str(uuid.uuid4()),
        company_id="acme",
        package_id="skills-fullstack",
        package_name="Full-stack skills",
        vendor="sandbox",
        result_callback_url="https://sr.example/orders/x/results",
        candidate=Candidate(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        inline=inline,
        deadline_days=deadline_days,
        poll_interval_seconds=poll_hours * 3600,
        received_at=received_at or datetime.now(UTC),
        **fields,
    )


async def start(env: WorkflowEnvironment, order: Order, task_queue: str) -> WorkflowHandle:
    return await env.client.start_workflow(
        AssessmentOrderWorkflow.run,
        order,
        id=f"assessment-order:{order.order_id}",
        task_queue=task_queue,
    )


async def run_order(env, peers: Peers, order: Order, script=None) -> OrderState:
    task_queue = str(uuid.uuid4())
    async with peers.worker(env, task_queue):
        handle = await start(env, order, task_queue)
        if script:
            await script(handle)
        return await result_of(env, handle)


async def hint(handle: WorkflowHandle, event_id: str) -> str | None:
    """A webhook's hint, handed over as the API does; the order's reason if it refused it."""
    try:
        await handle.execute_update(
            AssessmentOrderWorkflow.vendor_hint,
            VendorEvent(event_id=event_id, kind="invitation.updated"),
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if not (isinstance(cause, ApplicationError) and cause.type in {HINT_REFUSED, HINTS_CLOSED}):
            raise
        return cause.message
    return None


async def test_candidate_who_never_finishes_expires_after_the_package_deadline(env):
    peers = Peers()
    state = await run_order(env, peers, an_order(deadline_days=3))

    assert peers.sr.statuses == ["PENDING", "EXPIRED"]
    assert "3 days" in peers.sr.patches[-1]["summary"]
    assert peers.vendor.cancellations == 1
    # Polled about once an hour for three days (plus two looks around the withdrawal).
    assert 62 <= peers.vendor.status_reads <= 82
    assert state.finished
    assert (
        timedelta(days=3)
        <= state.timeline[-1].at - state.order.received_at
        < timedelta(days=3, minutes=1)
    )


async def test_polling_alone_carries_an_order_to_completion_over_days(env):
    peers = Peers()

    async def candidate_takes_two_days(handle):
        await env.sleep(timedelta(days=1))
        peers.vendor.status = VendorStatus.STARTED
        await env.sleep(timedelta(days=1))
        peers.vendor.status = VendorStatus.COMPLETED

    state = await run_order(env, peers, an_order(deadline_days=7), candidate_takes_two_days)

    assert peers.sr.statuses == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    completed = peers.sr.patches[-1]
    assert completed["score"] == {"raw": 83, "min": 0, "max": 100}
    assert completed["scoreLabel"] == "Passed"
    assert completed["assessmentResults"][0]["score"] == {"raw": 2, "min": 0, "max": 3}
    assert peers.sr.uploads == 1 and peers.vendor.cancellations == 0
    assert state.report_url == "https://sr.example/files/1"


async def test_webhooks_are_deduplicated_by_vendor_event_id(env):
    peers = Peers()

    async def duplicate_webhooks(handle):
        # Polls are a day apart here, so only the webhooks can move the order along quickly.
        await env.sleep(timedelta(minutes=5))
        peers.vendor.status = VendorStatus.STARTED
        assert [await hint(handle, "evt-1") for _ in range(3)] == [
            None,
            "The order has this event already",
            "The order has this event already",
        ]
        await env.sleep(timedelta(minutes=5))
        peers.vendor.status = VendorStatus.COMPLETED
        assert await hint(handle, "evt-2") is None

    state = await run_order(
        env, peers, an_order(deadline_days=7, poll_hours=24), duplicate_webhooks
    )

    assert peers.sr.statuses == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    assert state.events_received == ["evt-1", "evt-2"]
    # First poll, one read per distinct webhook,
    # one fresh poll after the first: never per duplicate.
    assert peers.vendor.status_reads == 4
    assert state.timeline[-1].at - state.order.received_at < timedelta(hours=1)


async def test_an_order_takes_a_bounded_number_of_webhooks_then_follows_the_vendor_by_polling(env):
    peers = Peers()
    refusals: list[str | None] = []
    flooded: dict[str, int] = {}

    async def a_flood_of_distinct_webhooks(handle):
        await env.sleep(timedelta(minutes=5))
        refusals.extend(
            [await hint(handle, f"evt-{n}") for n in range(WEBHOOK_EVENTS_PER_ORDER + 20)]
        )
        history = await handle.fetch_history()
        flooded["events"] = len(history.events)
        flooded["accepted"] = sum(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
            for e in history.events
        )
        peers.vendor.status = VendorStatus.COMPLETED
        refusals.append(await hint(handle, "evt-news"))  # refused too: the next poll finds the news

    state = await run_order(
        env, peers, an_order(deadline_days=7, poll_hours=24), a_flood_of_distinct_webhooks
    )

    past_share = (
        f"The order has taken {WEBHOOK_EVENTS_PER_ORDER} webhook events; it follows the vendor "
        "by polling"
    )
    assert refusals == [None] * WEBHOOK_EVENTS_PER_ORDER + [past_share] * 21
    # Each accepted webhook costs the history a bounded number of events; a refused one, none.
    assert (
        flooded["accepted"] == WEBHOOK_EVENTS_PER_ORDER
        and flooded["events"] < 20 * WEBHOOK_EVENTS_PER_ORDER
    ), flooded
    assert len(state.events_received) == WEBHOOK_EVENTS_PER_ORDER
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]
    # Polls are a day apart: the completion was found by the next one.
    assert (
        timedelta(hours=23) < state.timeline[-1].at - state.order.received_at < timedelta(hours=25)
    )


async def test_unknown_vendor_status_changes_nothing_and_does_not_spin(env):
    peers = Peers(vendor=ScriptedVendor(status=VendorStatus.UNKNOWN))

    async def vendor_speaks_gibberish_for_a_day(handle):
        await env.sleep(timedelta(days=1))
        peers.vendor.status = VendorStatus.COMPLETED

    await run_order(env, peers, an_order(deadline_days=7), vendor_speaks_gibberish_for_a_day)

    assert peers.sr.statuses == ["PENDING", "COMPLETED"]
    assert peers.vendor.status_reads <= 30  # hourly, not in a tight loop


async def test_candidate_declining_ends_as_rejected_with_a_readable_summary(env):
    peers = Peers()

    async def declines(handle):
        await env.sleep(timedelta(hours=3))
        peers.vendor.status = VendorStatus.DECLINED

    await run_order(env, peers, an_order(), declines)

    assert peers.sr.statuses == ["PENDING", "REJECTED"]
    assert peers.sr.patches[-1]["summary"] == "The candidate declined the assessment."
    assert peers.vendor.cancellations == 0


async def test_invitation_expiring_at_the_vendor_is_expired_in_smartrecruiters(env):
    peers = Peers()

    async def vendor_expires_it(handle):
        await env.sleep(timedelta(days=1))
        peers.vendor.status = VendorStatus.EXPIRED

    await run_order(env, peers, an_order(deadline_days=7), vendor_expires_it)
    assert peers.sr.statuses == ["PENDING", "EXPIRED"]


async def test_vendor_refusing_the_invitation_rejects_the_order(env):
    peers = Peers(vendor=ScriptedVendor(refuse_invitation=True))
    order = an_order()
    state = await run_order(env, peers, order)

    assert peers.sr.statuses == ["REJECTED"]
    assert "could not send the invitation" in peers.sr.patches[0]["summary"]
    assert state.invitation is None and peers.vendor.status_reads == 0
    assert peers.vendor.abandoned == [order.reference]  # told, so it can tidy up
    assert any("HTTP 422" in entry.what for entry in state.timeline)


async def test_the_rejection_names_what_the_vendor_refused(env):
    refusal = "invitation answered HTTP 422: it refused the candidate's first name"
    peers = Peers(vendor=ScriptedVendor(refuse_invitation=True, refused_with=refusal))
    await run_order(env, peers, an_order())

    assert [(p["status"], p["summary"]) for p in peers.sr.patches] == [
        ("REJECTED", f"The vendor could not send the invitation (vendor: {refusal}).")
    ]


async def test_smartrecruiters_refusing_a_progress_update_does_not_stop_the_order(env):
    peers = Peers(sr=RecordingSmartRecruiters(refuse={"IN_PROGRESS"}))

    async def candidate_finishes(handle):
        await env.sleep(timedelta(hours=2))
        peers.vendor.status = VendorStatus.STARTED
        await env.sleep(timedelta(hours=2))
        peers.vendor.status = VendorStatus.COMPLETED

    state = await run_order(env, peers, an_order(), candidate_finishes)
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]
    assert any("refused our status update IN_PROGRESS" in entry.what for entry in state.timeline)


async def test_smartrecruiters_refusing_the_final_result_fails_the_order_visibly(env):
    peers = Peers(sr=RecordingSmartRecruiters(refuse={"COMPLETED"}))

    async def candidate_finishes(handle):
        await env.sleep(timedelta(hours=2))
        peers.vendor.status = VendorStatus.COMPLETED

    with pytest.raises(WorkflowFailureError):
        await run_order(env, peers, an_order(), candidate_finishes)
    assert peers.sr.statuses == ["PENDING"]


async def test_missing_report_still_posts_the_result(env):
    peers = Peers(vendor=ScriptedVendor(report_missing=True))

    async def candidate_finishes(handle):
        await env.sleep(timedelta(hours=2))
        peers.vendor.status = VendorStatus.COMPLETED

    state = await run_order(env, peers, an_order(), candidate_finishes)
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]
    assert peers.sr.uploads == 0 and state.report_url is None
    assert any("the result goes on without the file" in entry.what for entry in state.timeline)


async def test_expiry_is_posted_even_when_the_vendor_refuses_the_withdrawal(env):
    peers = Peers(vendor=ScriptedVendor(refuse_cancellation=True))
    state = await run_order(env, peers, an_order(deadline_days=1))
    assert peers.sr.statuses == ["PENDING", "EXPIRED"]
    assert any("the withdrawal of the invitation" in entry.what for entry in state.timeline)


async def test_candidate_finishing_during_the_withdrawal_completes_the_order(env):
    peers = Peers(vendor=ScriptedVendor(finishes_while_being_cancelled=True))
    await run_order(env, peers, an_order(deadline_days=1))
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]


async def test_cancelling_the_workflow_withdraws_the_invitation_and_tells_smartrecruiters(env):
    peers = Peers()

    async def operator_cancels(handle):
        await env.sleep(timedelta(hours=5))
        await handle.cancel()

    with pytest.raises(WorkflowFailureError) as failure:
        await run_order(env, peers, an_order(), operator_cancels)
    assert isinstance(failure.value.cause, CancelledError)
    assert peers.vendor.cancellations == 1
    assert peers.sr.statuses == ["PENDING", "REJECTED"]


async def test_inline_order_answers_with_the_test_link_through_update_with_start(env):
    peers = Peers()
    order = an_order(inline=True)
    task_queue = str(uuid.uuid4())
    async with peers.worker(env, task_queue):
        start_op = WithStartWorkflowOperation(
            AssessmentOrderWorkflow.run,
            order,
            id=f"assessment-order:{order.order_id}",
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        link = await env.client.execute_update_with_start_workflow(
            AssessmentOrderWorkflow.invitation_link, start_workflow_operation=start_op
        )
        assert link.url == f"https://vendor.example/take/{order.order_id}"
        peers.vendor.status = VendorStatus.COMPLETED
        state = await result_of(env, await start_op.workflow_handle())
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]
    assert (
        peers.vendor.status_reads <= 2
    )  # polling found it: the first look, or the next an hour later
    assert peers.sr.uploads == 0  # SR refuses attachments on inline orders
    assert state.report_url is None


async def test_a_background_check_being_prepared_outlives_the_candidate_deadline(env):
    peers = Peers()

    async def candidate_consents_then_the_report_takes_ten_days(handle):
        await env.sleep(timedelta(days=1))
        peers.vendor.status = VendorStatus.PROCESSING  # the candidate's part is done
        await env.sleep(timedelta(days=1))
        peers.vendor.status = VendorStatus.ON_HOLD  # a document is missing
        await env.sleep(timedelta(days=3))
        peers.vendor.status = VendorStatus.PROCESSING
        await env.sleep(timedelta(days=5))
        peers.vendor.status = VendorStatus.COMPLETED

    state = await run_order(
        env,
        peers,
        an_order(deadline_days=3, report_wait_days=30),
        candidate_consents_then_the_report_takes_ten_days,
    )

    assert peers.sr.statuses == [
        "PENDING",
        "IN_PROGRESS",
        "IN_PROGRESS",
        "IN_PROGRESS",
        "COMPLETED",
    ]
    assert "on hold" in peers.sr.patches[2]["summary"].lower()
    assert peers.vendor.cancellations == 0
    assert (
        timedelta(days=10)
        <= state.timeline[-1].at - state.order.received_at
        < timedelta(days=10, hours=2)
    )


async def test_a_disputed_result_is_posted_again_once_revised(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True, outcome="consider"))

    async def completed_then_disputed_then_revised(handle):
        await env.sleep(timedelta(days=1))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"
        await env.sleep(timedelta(days=2))
        peers.vendor.status = VendorStatus.ON_HOLD  # the candidate disputes the report
        await env.sleep(timedelta(days=2))
        peers.vendor.status, peers.vendor.revision, peers.vendor.outcome = (
            VendorStatus.COMPLETED,
            "r2",
            "clear",
        )

    state = await run_order(
        env,
        peers,
        an_order(deadline_days=7, result_revision_days=10, report_wait_days=5),
        completed_then_disputed_then_revised,
    )

    assert peers.sr.statuses == ["PENDING", "COMPLETED", "COMPLETED", "COMPLETED"]
    first, under_review, revised = peers.sr.patches[1:]
    assert first["scoreLabel"] == "Consider"
    assert "disputed" in under_review["summary"] and "scoreLabel" not in under_review
    assert revised["scoreLabel"] == "Clear" and revised["summary"] == "Scored 83%, clear."
    assert state.revisions_posted == 1 and peers.sr.uploads == 2
    # The result is watched for ten days after it was first posted, then the order closes.
    assert (
        timedelta(days=11)
        <= state.timeline[-1].at - state.order.received_at
        < timedelta(days=11, hours=2)
    )


async def test_a_result_that_cannot_be_revised_closes_the_order_at_once(env):
    peers = Peers()

    async def completes(handle):
        await env.sleep(timedelta(hours=5))
        peers.vendor.status = VendorStatus.COMPLETED

    state = await run_order(env, peers, an_order(deadline_days=7), completes)
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]
    assert state.timeline[-1].at - state.order.received_at < timedelta(hours=7)


async def test_a_candidate_who_finished_unseen_by_the_deadline_is_followed_not_expired(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True))

    async def consents_half_an_hour_before_the_deadline(handle):
        await env.sleep(timedelta(hours=23, minutes=30))
        peers.vendor.status = VendorStatus.PROCESSING  # seen by no poll (they are six hours apart)
        await env.sleep(timedelta(days=3))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"

    order = an_order(deadline_days=1, poll_hours=6, result_revision_days=1, report_wait_days=30)
    state = await run_order(env, peers, order, consents_half_an_hour_before_the_deadline)

    assert peers.sr.statuses == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    assert state.revisions_posted == 0 and peers.sr.uploads == 1


async def test_a_completion_found_at_the_deadline_is_posted_once(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True))

    async def completes_unseen_just_before_the_deadline(handle):
        await env.sleep(timedelta(hours=23, minutes=30))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"

    state = await run_order(
        env,
        peers,
        an_order(deadline_days=1, poll_hours=6, result_revision_days=2),
        completes_unseen_just_before_the_deadline,
    )
    assert peers.sr.statuses == ["PENDING", "COMPLETED"] and peers.sr.uploads == 1
    assert state.revisions_posted == 0 and peers.vendor.cancellations == 0


async def test_cancelling_while_watching_for_revisions_leaves_the_result_alone(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True))
    task_queue = str(uuid.uuid4())
    async with peers.worker(env, task_queue):
        handle = await start(env, an_order(deadline_days=7), task_queue)
        await env.sleep(timedelta(hours=3))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"
        await env.sleep(timedelta(days=2))
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await result_of(env, handle)
        state = await handle.query(AssessmentOrderWorkflow.state)
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]
    assert peers.vendor.cancellations == 0
    assert state.timeline[-1].what == "Stopped watching for revisions of the result (cancelled)"


async def test_a_review_that_confirms_the_result_takes_the_dispute_note_away(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True))

    async def disputed_then_confirmed(handle):
        await env.sleep(timedelta(hours=3))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"
        await env.sleep(timedelta(days=2))
        peers.vendor.status = VendorStatus.ON_HOLD
        await env.sleep(timedelta(days=2))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r2"  # same outcome

    state = await run_order(
        env,
        peers,
        an_order(deadline_days=7, result_revision_days=10, report_wait_days=5),
        disputed_then_confirmed,
    )
    assert peers.sr.statuses == ["PENDING", "COMPLETED", "COMPLETED", "COMPLETED"]
    assert "disputed" in peers.sr.patches[2]["summary"]
    assert (
        peers.sr.patches[-1]["summary"] == peers.sr.patches[1]["summary"]
    )  # the result stands again
    assert state.revisions_posted == 0 and peers.sr.uploads == 1 and not state.under_review


async def test_a_review_still_open_when_the_watch_ends_puts_the_result_back(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True))

    async def disputed_for_ever(handle):
        await env.sleep(timedelta(hours=3))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"
        await env.sleep(timedelta(days=8))
        peers.vendor.status = VendorStatus.ON_HOLD

    state = await run_order(
        env,
        peers,
        an_order(deadline_days=7, result_revision_days=10, report_wait_days=5),
        disputed_for_ever,
    )
    assert peers.sr.statuses == ["PENDING", "COMPLETED", "COMPLETED", "COMPLETED"]
    assert peers.sr.patches[-1]["summary"] == peers.sr.patches[1]["summary"]
    # The review extended the watch by its own five days: from day 8 to day 13.
    assert (
        timedelta(days=13) <= state.timeline[-1].at - state.order.received_at < timedelta(days=14)
    )


async def test_watching_a_result_polls_the_vendor_about_once_a_day(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True))

    async def completes(handle):
        await env.sleep(timedelta(hours=3))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"

    await run_order(
        env, peers, an_order(deadline_days=7, poll_hours=1, result_revision_days=30), completes
    )
    # About 3 hourly polls before the result, then one a day for 30 days: not 720 hourly ones.
    assert peers.vendor.status_reads <= 40


async def test_a_vendor_refusing_the_accounts_key_holds_orders_until_it_is_fixed(env):
    peers = Peers()

    async def key_revoked_then_fixed(handle):
        await env.sleep(timedelta(hours=3))
        peers.vendor.credentials_refused = True  # someone rotated the key at the vendor
        await env.sleep(timedelta(hours=10))
        peers.vendor.status = VendorStatus.COMPLETED
        peers.vendor.credentials_refused = False  # the operator updated the account

    state = await run_order(env, peers, an_order(deadline_days=7), key_revoked_then_fixed)
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]  # never REJECTED
    assert state.timeline[-1].at - state.order.received_at < timedelta(hours=14)


async def test_a_vendor_that_no_longer_knows_the_invitation_holds_the_order_until_it_does(env):
    peers = Peers()

    async def vendor_forgets_then_knows_again(handle):
        await env.sleep(timedelta(hours=3))
        peers.vendor.forgotten = (
            True  # the vendor lost its records, or the key is another account's
        )
        await env.sleep(timedelta(hours=1))
        assert await hint(handle, "evt-while-forgotten") is None  # a webhook's read answers 404 too
        await env.sleep(timedelta(days=2))
        reads_while_forgotten = peers.vendor.status_reads
        peers.vendor.forgotten = False
        peers.vendor.status = VendorStatus.COMPLETED
        return reads_while_forgotten

    state = await run_order(env, peers, an_order(deadline_days=7), vendor_forgets_then_knows_again)
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]  # never REJECTED on a 404 alone
    assert peers.sr.patches[-1]["score"] == {"raw": 83, "min": 0, "max": 100}
    assert peers.vendor.cancellations == 0
    notes = [entry.what for entry in state.timeline]
    assert any(
        "does not know this order's invitation" in note and "held" in note for note in notes
    ), notes
    # Held at the slow pace of an account's trouble (every 5 minutes), then completed at once.
    assert (
        timedelta(days=2, hours=4)
        <= state.timeline[-1].at - state.order.received_at
        < timedelta(days=2, hours=4, minutes=10)
    )


async def test_a_vendor_that_forgets_for_good_ends_the_order_at_its_deadline_not_before(env):
    peers = Peers(vendor=ScriptedVendor(forgotten=True))
    state = await run_order(env, peers, an_order(deadline_days=3))
    assert peers.sr.statuses == ["PENDING", "EXPIRED"]
    assert (
        timedelta(days=3)
        <= state.timeline[-1].at - state.order.received_at
        < timedelta(days=3, minutes=10)
    )
    # Polled every 5 minutes while held, not once an hour as the order asked.
    assert 3 * 24 * 12 - 20 <= peers.vendor.status_reads <= 3 * 24 * 12 + 20


async def test_a_vendor_forgetting_an_invitation_we_withdrew_is_no_reason_to_wait(env):
    peers = Peers(vendor=ScriptedVendor(forgets_withdrawn=True))
    state = await run_order(env, peers, an_order(deadline_days=3))
    assert peers.sr.statuses == ["PENDING", "EXPIRED"]
    assert peers.vendor.cancellations == 1
    assert (
        timedelta(days=3)
        <= state.timeline[-1].at - state.order.received_at
        < timedelta(days=3, minutes=1)
    )
    assert state.vendor_status == VendorStatus.CANCELLED
