"""The order workflow at its edges: how it ends with repairs waiting, SR outages, failed reads of
a revision, what queries answer, how much state a long-lived order keeps, and cancellations
during a call."""

from __future__ import annotations

import asyncio
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.workflow import UnfinishedUpdateHandlersWarning

from orders import results
from orders.activity_names import CREATE_INVITATION, POST_TO_SMARTRECRUITERS
from orders.models import (
    REPAIR_REFUSED,
    DeadlineExtension,
    Repair,
    RepairKind,
    RepairQuestion,
    VendorEvent,
    VendorResult,
    VendorStatus,
)
from peers import PeerError
from tests.support.temporal_test_server import dev_server, result_of
from tests.support.waiting import eventually
from tests.workflows.test_order_workflow import (
    Peers,
    RecordingSmartRecruiters,
    ScriptedVendor,
    an_order,
    hint,
    run_order,
    start,
)
from workflows.order import (
    CURRENT_DETAILS_NOTES,
    TIMELINE_NOTES,
    WEBHOOK_EVENTS_PER_ORDER,
    AssessmentOrderWorkflow,
)

WHO = {"operator": "ops.ann", "reason": "Candidate asked support for more time (ticket 4711)"}


@dataclass
class SmartRecruitersWithOutages(RecordingSmartRecruiters):
    """SR answering 503 while `down`: our calls retry until it is back."""

    down: bool = False

    async def patch_result(self, order_id: str, patch: dict, callback_url: str | None = None):
        if self.down:
            raise PeerError("SmartRecruiters", "answered HTTP 503", status=503, retryable=True)
        await super().patch_result(order_id, patch, callback_url)


@dataclass
class VendorWithUnreadableResults(ScriptedVendor):
    """A vendor refusing to give the result (422) while `result_unreadable`: a bug on its side."""

    result_unreadable: bool = False

    async def get_result(self, ref: str) -> VendorResult:
        if self.result_unreadable:
            raise PeerError("vendor", "result answered HTTP 422", status=422, retryable=False)
        return await super().get_result(ref)


async def refused(call) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await call
    assert isinstance(failed.value.cause, ApplicationError), failed.value.cause
    return failed.value.cause


async def current_details(handle: WorkflowHandle) -> str:
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return metadata.current_details


# --- repairs waiting when the order ends ---------------------------------------------------


async def test_a_repair_waiting_when_the_order_is_cancelled_gets_the_refusal(env):
    sr = SmartRecruitersWithOutages()
    peers = Peers(sr=sr)
    task_queue = str(uuid.uuid4())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with peers.worker(env, task_queue):
            handle = await start(env, an_order(deadline_days=7), task_queue)
            await env.sleep(timedelta(hours=1))
            sr.down = True
            await handle.cancel()  # say the company disconnected: SR is told REJECTED, once up
            await env.sleep(timedelta(minutes=10))
            waiting = await handle.start_update(
                AssessmentOrderWorkflow.cancel_order,
                Repair(**WHO),
                wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            )
            sr.down = False
            await env.sleep(timedelta(minutes=10))  # an update's result does not skip time
            refusal = await refused(waiting.result())
            with pytest.raises(WorkflowFailureError):
                await result_of(env, handle)

    assert (refusal.type, refusal.message) == (
        REPAIR_REFUSED,
        "The order ended before the repair could be made",
    )
    assert peers.sr.statuses == ["PENDING", "REJECTED"] and peers.vendor.cancellations == 1
    unfinished = [w for w in caught if issubclass(w.category, UnfinishedUpdateHandlersWarning)]
    assert unfinished == []


async def test_a_repair_waiting_when_the_order_fails_gets_the_refusal(env):
    sr = SmartRecruitersWithOutages(refuse={"COMPLETED"})
    peers = Peers(sr=sr)
    refusals = []

    async def repost_while_smartrecruiters_is_down(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=1))
        sr.down = True
        peers.vendor.status = VendorStatus.COMPLETED
        await env.sleep(timedelta(hours=2))  # the order is telling SR COMPLETED
        waiting = await handle.start_update(
            AssessmentOrderWorkflow.repost_result,
            Repair(**WHO),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        sr.down = False  # and SR refuses the result: the order fails
        await env.sleep(timedelta(minutes=10))  # an update's result does not skip time
        refusals.append(await refused(waiting.result()))

    with pytest.raises(WorkflowFailureError):
        await run_order(env, peers, an_order(), repost_while_smartrecruiters_is_down)
    [refusal] = refusals
    assert (refusal.type, refusal.message) == (
        REPAIR_REFUSED,
        "The order ended before the repair could be made",
    )


# --- the deadline runs from the order's receipt --------------------------------------------


async def test_an_smartrecruiters_outage_neither_pushes_the_deadline_nor_refuses_repairs(env):
    sr = SmartRecruitersWithOutages(down=True)
    peers = Peers(sr=sr)
    order = an_order(deadline_days=3)
    outcomes = []

    async def repair_during_a_ten_hour_outage(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=2))
        outcomes.append(
            await handle.execute_update(
                AssessmentOrderWorkflow.extend_deadline, DeadlineExtension(days=1, **WHO)
            )
        )
        await env.sleep(timedelta(hours=8))
        sr.down = False

    state = await run_order(env, peers, order, repair_during_a_ten_hour_outage)

    assert peers.sr.statuses == ["PENDING", "EXPIRED"]
    expected = order.received_at + timedelta(days=4)
    [outcome] = outcomes
    assert outcome.deadline == expected == state.deadline
    assert expected <= state.timeline[-1].at < expected + timedelta(minutes=1)


async def test_an_order_received_past_its_deadline_expires_without_an_invitation(env):
    peers = Peers()
    received = datetime.now(UTC) - timedelta(days=10)  # say the workers were down that long

    state = await run_order(env, peers, an_order(deadline_days=3, received_at=received))

    assert peers.sr.statuses == ["EXPIRED"]
    assert state.invitation is None and peers.vendor.status_reads == 0
    assert state.deadline == received + timedelta(days=3)


# --- a revision is known once posted --------------------------------------------------------


async def test_a_revision_whose_result_could_not_be_read_is_posted_once_it_can(env):
    vendor = VendorWithUnreadableResults(revisable=True, outcome="consider")
    peers = Peers(vendor=vendor)

    async def revised_while_the_result_is_unreadable(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=3))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"
        await env.sleep(timedelta(days=1))
        vendor.result_unreadable = True
        peers.vendor.revision, peers.vendor.outcome = "r2", "clear"
        await env.sleep(timedelta(days=2))
        vendor.result_unreadable = False

    state = await run_order(
        env,
        peers,
        an_order(deadline_days=7, result_revision_days=10),
        revised_while_the_result_is_unreadable,
    )

    assert peers.sr.statuses == ["PENDING", "COMPLETED", "COMPLETED"]
    assert peers.sr.patches[-1]["scoreLabel"] == "Clear"
    assert state.revisions_posted == 1 and state.vendor_revision == "r2"


@dataclass
class SmartRecruitersRefusingRevisions(RecordingSmartRecruiters):
    """SR taking the first COMPLETED and refusing every later one (a 422 on its payload)."""

    completed_posts: int = 0

    async def patch_result(self, order_id: str, patch: dict, callback_url: str | None = None):
        if patch["status"] == "COMPLETED":
            self.completed_posts += 1
            if self.completed_posts > 1:
                raise PeerError("SmartRecruiters", "answered HTTP 422", status=422, retryable=False)
        await super().patch_result(order_id, patch, callback_url)


async def test_a_revision_smartrecruiters_refuses_uploads_its_report_once(env):
    sr = SmartRecruitersRefusingRevisions()
    peers = Peers(vendor=ScriptedVendor(revisable=True, outcome="consider"), sr=sr)

    async def revised(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=3))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"
        await env.sleep(timedelta(days=1))
        peers.vendor.revision, peers.vendor.outcome = "r2", "clear"

    state = await run_order(env, peers, an_order(deadline_days=7, result_revision_days=10), revised)

    assert sr.completed_posts > 3  # the revision is tried again each revision poll
    assert sr.uploads == 2  # the result's report, then the revision's, once
    assert peers.sr.statuses == ["PENDING", "COMPLETED"] and state.revisions_posted == 0


# --- a repair refused when its turn comes ---------------------------------------------------


async def test_a_repair_refused_when_the_main_loop_comes_to_it_is_refused_not_failed(env):
    sr = SmartRecruitersWithOutages()
    peers = Peers(sr=sr)
    refusals = []

    async def cancel_twice_while_smartrecruiters_is_down(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=1))
        sr.down = True
        first = await handle.start_update(
            AssessmentOrderWorkflow.cancel_order,
            Repair(**WHO),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        await env.sleep(timedelta(minutes=30))  # the first one is telling SR REJECTED
        second = await handle.start_update(
            AssessmentOrderWorkflow.cancel_order,
            Repair(**WHO),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        sr.down = False
        await env.sleep(timedelta(minutes=10))  # an update's result does not skip time
        await first.result()
        refusals.append(await refused(second.result()))

    await run_order(env, peers, an_order(), cancel_twice_while_smartrecruiters_is_down)

    [refusal] = refusals
    assert (refusal.type, refusal.message) == (
        REPAIR_REFUSED,
        "The order has finished (SmartRecruiters shows REJECTED)",
    )
    assert peers.sr.statuses == ["PENDING", "REJECTED"]


# --- queries answer every question their types allow ---------------------------------------


async def test_asking_whether_an_extension_without_days_would_be_made_is_answered(env):
    peers = Peers()
    answers = []

    async def ask(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=1))
        answers.extend(
            [
                await handle.query(
                    AssessmentOrderWorkflow.repair_refusal,
                    RepairQuestion(kind=RepairKind.EXTEND_DEADLINE, repair=repair),
                )
                for repair in (Repair(**WHO), DeadlineExtension(days=1, **WHO))
            ]
        )
        peers.vendor.status = VendorStatus.DECLINED

    await run_order(env, peers, an_order(), ask)
    assert answers == ["An extension of the deadline needs the days to add", None]


# --- bounded state --------------------------------------------------------------------------


async def test_a_long_lived_order_keeps_a_bounded_timeline_and_current_details():
    # Hundreds of updates: on Temporal's dev server, in real time, as the time-skipping server
    # now and then stops answering after that many.
    peers = Peers()
    task_queue = str(uuid.uuid4())
    async with dev_server() as server, peers.worker(server, task_queue):
        handle = await start(server, an_order(), task_queue)

        async def invited() -> bool:
            return (await handle.query(AssessmentOrderWorkflow.state)).invitation is not None

        await eventually(invited, what="the candidate invited")
        for _ in range(TIMELINE_NOTES + 50):
            await handle.execute_update(
                AssessmentOrderWorkflow.extend_deadline, DeadlineExtension(days=0.01, **WHO)
            )
        details = await current_details(handle)
        peers.vendor.status = VendorStatus.DECLINED
        await hint(handle, "evt-declined")
        state = await handle.result()

    assert len(state.timeline) == TIMELINE_NOTES
    assert state.timeline_notes_dropped > 50
    assert state.timeline[0].what == "Order received for package Full-stack skills"
    assert state.timeline[-1].what == "Vendor reported declined"
    assert details.count("UTC**") == CURRENT_DETAILS_NOTES


async def test_an_older_order_remembers_a_bounded_number_of_webhook_ids(env):
    peers = Peers()

    async def a_flood_of_signals(handle: WorkflowHandle):
        await env.sleep(timedelta(minutes=5))
        for n in range(WEBHOOK_EVENTS_PER_ORDER + 30):
            await handle.signal(
                AssessmentOrderWorkflow.vendor_event,
                VendorEvent(event_id=f"evt-{n}", kind="invitation.updated"),
            )
        await env.sleep(timedelta(minutes=5))
        peers.vendor.status = VendorStatus.DECLINED

    state = await run_order(env, peers, an_order(poll_hours=24), a_flood_of_signals)
    assert len(state.events_received) == WEBHOOK_EVENTS_PER_ORDER
    assert state.events_received[-1] == f"evt-{WEBHOOK_EVENTS_PER_ORDER + 29}"


# --- the revision window, and how an order watching for revisions shows -------------------


async def test_the_revision_window_is_its_own_and_the_watch_says_so(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True))
    order = an_order(deadline_days=7, result_revision_days=30)
    task_queue = str(uuid.uuid4())
    async with peers.worker(env, task_queue):
        handle = await start(env, order, task_queue)
        await env.sleep(timedelta(hours=3))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"
        await env.sleep(timedelta(hours=3))
        state = await handle.query(AssessmentOrderWorkflow.state)
        details = await current_details(handle)
        await handle.terminate("test finished")

    assert peers.sr.statuses == ["PENDING", "COMPLETED"]
    assert state.deadline == order.received_at + timedelta(days=7)
    completed_at = next(e.at for e in state.timeline if e.what == "Result posted")
    assert state.revision_window_ends == completed_at + timedelta(days=30)
    assert details.startswith(
        f"SmartRecruiters shows COMPLETED. Watching for revisions of the result until "
        f"{state.revision_window_ends:%Y-%m-%d %H:%M} UTC"
    )


# --- a cancellation while the order calls SR ---------------------------------------------------


async def test_cancelling_while_a_call_to_smartrecruiters_retries_cancels_the_order(env):
    sr = SmartRecruitersWithOutages()
    peers = Peers(sr=sr)

    async def disconnected_while_smartrecruiters_is_down(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=1))
        sr.down = True  # the order keeps trying to tell SR IN_PROGRESS
        peers.vendor.status = VendorStatus.STARTED
        await env.sleep(timedelta(hours=2))
        await handle.cancel()  # say the company disconnected
        await env.sleep(timedelta(minutes=10))
        sr.down = False

    with pytest.raises(WorkflowFailureError) as failure:
        await run_order(env, peers, an_order(), disconnected_while_smartrecruiters_is_down)
    assert isinstance(failure.value.cause, CancelledError)
    assert peers.sr.statuses == ["PENDING", "REJECTED"] and peers.vendor.cancellations == 1


async def test_cancelling_while_the_result_is_being_posted_cancels_the_order(env):
    sr = SmartRecruitersWithOutages()
    peers = Peers(sr=sr)

    async def disconnected_while_the_result_waits_for_smartrecruiters(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=1))
        sr.down = True
        peers.vendor.status = VendorStatus.COMPLETED
        await env.sleep(timedelta(hours=2))  # the order is telling SR COMPLETED
        await handle.cancel()
        await env.sleep(timedelta(minutes=10))
        sr.down = False

    with pytest.raises(WorkflowFailureError) as failure:
        await run_order(
            env, peers, an_order(), disconnected_while_the_result_waits_for_smartrecruiters
        )
    assert isinstance(failure.value.cause, CancelledError)
    assert peers.sr.statuses == ["PENDING", "REJECTED"]


# --- work on a revision after the result ---------------------------------------------------


async def test_a_revision_in_the_works_is_known_and_polled_at_the_revision_pace(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True, outcome="consider"))
    task_queue = str(uuid.uuid4())
    async with peers.worker(env, task_queue):
        handle = await start(env, an_order(deadline_days=7, result_revision_days=10), task_queue)
        try:
            await env.sleep(timedelta(hours=3))
            peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"
            await env.sleep(timedelta(hours=3))
            # A regrade: the vendor's result goes back to processing, its webhook says so.
            peers.vendor.status, peers.vendor.revision = VendorStatus.PROCESSING, None
            await hint(handle, "evt-regrade")

            async def processing_known() -> bool:
                state = await handle.query(AssessmentOrderWorkflow.state)
                return state.vendor_status == VendorStatus.PROCESSING

            await eventually(processing_known, timeout=10, what="the regrade known")
            reads = peers.vendor.status_reads
            await env.sleep(timedelta(days=2))
            assert peers.vendor.status_reads - reads <= 3  # a poll a day, not a tight loop
            peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r2"
            peers.vendor.outcome = "clear"  # the revision poll finds it
            state = await result_of(env, handle)
        finally:
            await _terminate_if_running(handle)

    assert peers.sr.statuses == ["PENDING", "COMPLETED", "COMPLETED"]
    assert peers.sr.patches[-1]["scoreLabel"] == "Clear"
    assert state.revisions_posted == 1 and state.vendor_revision == "r2"


async def _terminate_if_running(handle: WorkflowHandle) -> None:
    """A test that failed leaves no workflow spinning on the worker it shuts down."""
    if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        await handle.terminate("the test failed")


@dataclass
class SlowSmartRecruiters(RecordingSmartRecruiters):
    """SR taking its time to answer one status (well within the call's timeout) until `answer`."""

    slow_status: str = "IN_PROGRESS"
    answer: asyncio.Event = field(default_factory=asyncio.Event)
    asked: asyncio.Event = field(default_factory=asyncio.Event)

    async def patch_result(self, order_id: str, patch: dict, callback_url: str | None = None):
        if patch["status"] == self.slow_status and not self.answer.is_set():
            self.asked.set()
            await self.answer.wait()
        await super().patch_result(order_id, patch, callback_url)


async def after_the_cancel_request(
    handle: WorkflowHandle, activity: str = POST_TO_SMARTRECRUITERS
) -> list[list[str]] | None:
    """Once the order has asked to cancel its call of `activity`: the activities it scheduled
    since (in the same workflow task, so they are in the history with the request), as one
    item."""
    events = (await handle.fetch_history()).events
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    requested = [
        i
        for i, e in enumerate(events)
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED
        and scheduled[e.activity_task_cancel_requested_event_attributes.scheduled_event_id]
        == activity
    ]
    if not requested:
        return None
    return [
        [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in events[requested[0] :]
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
    ]


@pytest.mark.parametrize(
    ("slow", "vendor_status", "sr_ends_with", "withdrawals"),
    [
        # The update lands, then the cancellation's REJECTED after it.
        ("IN_PROGRESS", VendorStatus.STARTED, ["PENDING", "IN_PROGRESS", "REJECTED"], 1),
        # The result landed: it stands, the cancellation only ends the order.
        ("COMPLETED", VendorStatus.COMPLETED, ["PENDING", "COMPLETED"], 0),
    ],
)
async def test_an_update_smartrecruiters_takes_while_the_order_is_cancelled_lands_first(
    slow, vendor_status, sr_ends_with, withdrawals
):
    # On Temporal's dev server, in real time: the time-skipping server now and then loses track
    # of an activity cancelled while an update is handled (ACTIVITY_UNKNOWN), and the hint's
    # update then never returns.
    sr = SlowSmartRecruiters(slow_status=slow)
    peers = Peers(sr=sr)
    task_queue = str(uuid.uuid4())
    async with dev_server() as server, peers.worker(server, task_queue):
        handle = await start(server, an_order(deadline_days=7), task_queue)
        await eventually(lambda: _true(sr.statuses == ["PENDING"]), what="PENDING at SR")
        peers.vendor.status = vendor_status
        await hint(handle, "evt-1")
        await asyncio.wait_for(sr.asked.wait(), 20)
        await handle.cancel()
        [scheduled] = await eventually(
            lambda: after_the_cancel_request(handle), what="the call's cancellation requested"
        )
        assert scheduled == [], "the order went on before SR answered the call"
        sr.answer.set()  # SR answers the call the order was making when it was cancelled
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()

    assert isinstance(failure.value.cause, CancelledError)
    assert sr.statuses == sr_ends_with
    assert peers.vendor.cancellations == withdrawals


@dataclass
class SlowVendor(ScriptedVendor):
    """A vendor taking its time to create the invitation (within the call's timeout)."""

    answer: asyncio.Event = field(default_factory=asyncio.Event)
    asked: asyncio.Event = field(default_factory=asyncio.Event)
    invitations_created: int = 0

    async def create_invitation(self, order, callback):
        self.asked.set()
        await self.answer.wait()
        self.invitations_created += 1
        return await super().create_invitation(order, callback)


async def test_an_order_cancelled_while_inviting_withdraws_the_invitation_and_is_cancelled(env):
    vendor = SlowVendor()
    peers = Peers(vendor=vendor)
    task_queue = str(uuid.uuid4())
    async with peers.worker(env, task_queue):
        handle = await start(env, an_order(deadline_days=7), task_queue)
        await asyncio.wait_for(vendor.asked.wait(), 20)
        await handle.cancel()
        [scheduled] = await eventually(
            lambda: after_the_cancel_request(handle, CREATE_INVITATION),
            what="the invitation's cancellation requested",
        )
        assert scheduled == [], "the order went on before the vendor answered"
        vendor.answer.set()  # the vendor creates the invitation the order was asking for
        with pytest.raises(WorkflowFailureError) as failure:
            await result_of(env, handle)

    assert isinstance(failure.value.cause, CancelledError)
    assert vendor.invitations_created == 1 and vendor.cancellations == 1
    assert peers.sr.statuses == ["REJECTED"]
    assert peers.sr.patches[-1]["summary"] == results.cancelled().summary


async def _true(value: bool) -> bool:
    return value
