"""The story of one assessment order, from SmartRecruiters' request to the result on the profile.

invite the candidate at the vendor → tell SR "PENDING" → wait for the candidate (webhooks race a
polling fallback) → "IN_PROGRESS" when they start → on completion move the report and post
"COMPLETED" with the score → done. A decline or vendor failure ends as "REJECTED"; nothing by
the package deadline ends, after a last look and a cancellation at the vendor, as "EXPIRED".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    FailureError,
    RetryState,
)
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.orders import PEER_REJECTED, SR_REFUSING, OrderActivities
    from orders import results, visibility
    from orders.models import (
        HINT_REFUSED,
        HINTS_CLOSED,
        REPAIR_FAILED,
        REPAIR_REFUSED,
        DeadlineExtension,
        Invitation,
        InvitationLink,
        Order,
        OrderState,
        PollRequest,
        Repair,
        RepairKind,
        RepairOutcome,
        RepairQuestion,
        ReportTransfer,
        ResultUpdate,
        SrStatus,
        SrUpdateRequest,
        StatusReading,
        TimelineEntry,
        VendorEvent,
        VendorRef,
        VendorResult,
        VendorStatus,
    )
    from peers import CREDENTIALS_REFUSED, INVITATION_UNKNOWN, PEER_UNAVAILABLE
    from workflows import notes

# Vendor webhook events an order acts on, at most: a vendor sends a handful per order (each
# status change, a few more for a background check and its dispute). Each costs the history a few
# dozen events at worst, so this bounds what webhooks can add to one order's history.
WEBHOOK_EVENTS_PER_ORDER = 100
# An order keeps its first notes (how it began) and its latest ones in its state, so that a
# long-lived order's state, queries and history stay small; `orders show` reads every step from
# the history as well. The Temporal UI's current details show the latest few notes.
TIMELINE_NOTES = 200
TIMELINE_FIRST_NOTES = 10
CURRENT_DETAILS_NOTES = 20

# Transient peer failures are retried at a gentle pace; a peer's 4xx is final (peers.py).
PEER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=[PEER_REJECTED],
)


class ActivityOptions(TypedDict, total=False):
    """The options of `workflow.execute_activity_method` our calls set, typed for its overloads."""

    start_to_close_timeout: timedelta
    schedule_to_close_timeout: timedelta
    retry_policy: RetryPolicy


# Vendor calls give up after this long (an hour of outage is survived; two days are not).
VENDOR_CALL = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(days=2),
    retry_policy=PEER_RETRY,
)
# SR must eventually hear about every order, so SR calls retry until SR answers.
SMARTRECRUITERS_CALL = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=60), retry_policy=PEER_RETRY
)
# Withdrawing an invitation is tidying up: worth an hour of tries, not more.
CLEANUP_CALL = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(hours=1),
    retry_policy=PEER_RETRY,
)
# SR refusing us for the order's company (SR_REFUSING): its final update is tried again, then
# given up (`_until_smartrecruiters_listens`). Histories without the patch never met the error
# type: there a 403 failed the order, and refused credentials were retried without end.
SR_REFUSAL_PATCH = "sr-refusal-bounded"
# The candidate's deadline runs from the order's receipt, as the vendor's own expiry does, and is
# set before SR is told PENDING. Histories without the patch set it once SR had taken PENDING.
DEADLINE_FROM_RECEIPT_PATCH = "deadline-from-receipt"
# A revision is known once its result is posted; one whose result could not be read or posted is
# tried again a revision poll later. Histories without the patch knew it before reading it.
REVISION_KNOWN_ONCE_POSTED_PATCH = "revision-known-once-posted"
# Cancelling an order while it calls SR or the vendor cancels it (withdrawal, SR told). Histories
# without the patch took the cancelled call for a failed one and went on.
CANCEL_DURING_A_CALL_PATCH = "cancel-during-a-call"
# A cancelled order waits for the end of a call to SR under way, so that its REJECTED cannot land
# before the update the call carried. Histories without the patch abandoned the call.
SR_CALL_FINISHES_PATCH = "sr-call-finishes-on-cancel"
# A cancellation while inviting waits for the vendor's answer: an invitation it created is
# withdrawn, and the order is cancelled (SR told REJECTED). Histories without the patch took the
# abandoned call for a refused invitation: SR heard REJECTED, the order ended as done, and an
# invitation the vendor created stayed open.
INVITATION_FINISHES_ON_CANCEL_PATCH = "invitation-finishes-on-cancel"
# A revision's report is moved to the profile once, however often SR refuses its result. Histories
# without the patch moved it again with every try.
REPORT_MOVED_ONCE_PATCH = "report-moved-once"
# An order received past its deadline (its workflow started that late: workers down, say) expires
# without inviting the candidate. Histories without the patch invited, then withdrew at once.
EXPIRED_ON_RECEIPT_PATCH = "expired-on-receipt"
# Repairs still waiting when the order is cancelled or fails are refused, as when it is done.
# Histories without the patch ended with them waiting.
REPAIRS_REFUSED_AT_ANY_END_PATCH = "repairs-refused-at-any-end"
# An invitation the order gave up (it failed, or the order was cancelled while it was being
# retried) is tidied up at the vendor: an API vendor's order is closed there. Histories without
# the patch left it as it was.
INVITATION_ABANDONED_PATCH = "invitation-abandoned"
# The candidate's deadline is the order's AssessmentDeadline search attribute while the order waits
# for them (set with the deadline, moved with it, removed as the order ends), so operators list
# orders expiring soon. Histories without the patch upserted only AssessmentOrderStatus.
DEADLINE_ATTRIBUTE_PATCH = "deadline-search-attribute"

T = TypeVar("T")


def refusal_retry(give_up: timedelta) -> RetryPolicy:
    """How an update SR refuses us for is tried again: one activity retried with a capped backoff
    (its attempts add nothing to the history), a minute apart at first, at most an hour, and
    faster for a short give-up time."""
    return RetryPolicy(
        initial_interval=min(timedelta(minutes=1), give_up / 20),
        backoff_coefficient=2.0,
        maximum_interval=min(timedelta(hours=1), give_up / 10),
        non_retryable_error_types=[PEER_REJECTED],
    )


@workflow.defn
class AssessmentOrderWorkflow:
    @workflow.init
    def __init__(self, order: Order) -> None:
        self._state = OrderState(order=order)
        self._unhandled_hints = 0
        # Operators' repairs that need calls to SR or the vendor wait here, in the order asked,
        # for the main loop to make them (never concurrently with its own calls); their outcomes
        # (or refusals) by ticket.
        self._repairs: list[tuple[int, RepairKind, Repair]] = []
        self._repair_tickets = 0
        self._repair_outcomes: dict[int, RepairOutcome | ApplicationError] = {}
        self._ended = False
        # Watching a posted result for revisions (the revision window).
        self._watching = False
        # The result whose report was last moved to the profile (or refused there).
        self._report_moved_for: VendorResult | None = None
        # The order was cancelled during a call that went through anyway (SR took the update,
        # the vendor created the invitation): the order ends once the caller has recorded it.
        self._cancelled_during_a_call = False

    @workflow.run
    async def run(self, order: Order) -> OrderState:
        try:
            state = await self._run(order)
        except BaseException:
            # Cancelled or failed: repairs still waiting are told so too. Histories without the
            # patch ended with them waiting (their answers are updates completed, new events).
            if not workflow.all_handlers_finished() and workflow.patched(
                REPAIRS_REFUSED_AT_ANY_END_PATCH
            ):
                await self._end()
            raise
        await self._end()
        return state

    async def _end(self) -> None:
        """Repairs still waiting are told the order ended; handlers finish before the workflow."""
        self._ended = True
        await workflow.wait_condition(workflow.all_handlers_finished)

    async def _run(self, order: Order) -> OrderState:
        self._note(f"Order received for package {order.package_name}")
        deadline = _deadline_from_receipt(order)
        if deadline <= workflow.now() and workflow.patched(EXPIRED_ON_RECEIPT_PATCH):
            self._state.deadline = deadline
            return await self._finish(
                results.expired(order.deadline_days),
                "Deadline passed before the candidate could be invited",
            )
        try:
            vendor_ref = await self._invite(order)
        except ActivityError as err:
            self._note(self._failed(err, notes.INVITATION))
            await self._abandon_invitation(order)
            return await self._finish(
                results.invitation_failed(_refusal(err)),
                "The vendor could not invite the candidate",
            )
        except asyncio.CancelledError:
            await self._abandon_invitation(order)
            await self._cancel(None)  # no invitation to withdraw
            raise
        try:
            self._end_if_cancelled_during_a_call()  # the invitation came despite it
            return await self._follow(vendor_ref, order)
        except asyncio.CancelledError:
            await self._cancel(vendor_ref)
            raise

    async def _cancel(self, vendor_ref: VendorRef | None) -> None:
        """The order is cancelled (an operator, or the company disconnected): withdraw the
        invitation, and tell SR if it still listens to us for this company."""
        if self._state.finished:
            # SR has the order's final status (its posting may have ended after the
            # cancellation): it stands, and cancelling only ends the watch for revisions.
            self._note(
                "Stopped watching for revisions of the result (cancelled)"
                if self._watching
                else "Order cancelled after SmartRecruiters had its final status"
            )
            return
        self._drop_deadline_attribute()
        if vendor_ref is not None:
            await self._withdraw(vendor_ref)
        await self._tell_smartrecruiters(results.cancelled(), progress=True)
        self._state.finished = True
        self._set_status("CANCELLED")
        self._note("Order cancelled")
        self._count_ending("CANCELLED")

    async def _follow(self, vendor_ref: VendorRef, order: Order) -> OrderState:
        # From the receipt, like the vendor's expiry; set first, so that an SR outage neither
        # pushes it nor keeps operators' repairs waiting for it.
        from_receipt = workflow.patched(DEADLINE_FROM_RECEIPT_PATCH)
        if from_receipt:
            self._set_deadline(_deadline_from_receipt(order))
        await self._tell_smartrecruiters(results.pending(workflow.now()), progress=True)
        if not from_receipt:
            self._set_deadline(workflow.now() + timedelta(days=order.deadline_days))
        while True:
            reading = await self._next_vendor_reading(vendor_ref, order.poll_interval_seconds)
            if self._state.finished:  # an operator cancelled the order
                return self._state
            status = None
            if reading is not None:
                self._record(reading)
                status = reading.status
            if status is None:
                status = await self._last_look(vendor_ref)
                if status is None:
                    return await self._finish(
                        results.expired(order.deadline_days),
                        "Deadline passed; invitation withdrawn at the vendor",
                    )
            if status == VendorStatus.COMPLETED:
                await self._complete(vendor_ref, order)
                return await self._watch_revisions(vendor_ref, order)
            if status == VendorStatus.EXPIRED:
                return await self._finish(
                    results.expired_at_vendor(), "The invitation expired at the vendor"
                )
            if status.is_final:
                return await self._finish(
                    results.rejected(status), f"Vendor reported {status.value.lower()}"
                )
            if status in (VendorStatus.PROCESSING, VendorStatus.ON_HOLD):
                # The candidate has done their part; the vendor's work (a background check's
                # report) is not bound by the candidate's deadline.
                self._extend_wait(order.report_wait_days)
            if status != VendorStatus.INVITED:
                self._note(results.progress_note(status))
                await self._tell_smartrecruiters(results.in_progress(status), progress=True)

    async def _last_look(self, vendor_ref: VendorRef) -> VendorStatus | None:
        """At the deadline: a candidate who has finished is followed on (the completion, or the
        vendor preparing the result, may have gone unseen); otherwise the invitation is withdrawn,
        looking once more for a candidate finishing meanwhile. None: the order expires."""
        for withdrawn in (False, True):
            if withdrawn:
                await self._withdraw(vendor_ref)
            reading = await self._read_status(vendor_ref)
            if reading.status in (
                VendorStatus.COMPLETED,
                VendorStatus.PROCESSING,
                VendorStatus.ON_HOLD,
            ):
                self._record(reading)
                return reading.status
        return None

    async def _watch_revisions(self, vendor_ref: VendorRef, order: Order) -> OrderState:
        """Some vendors revise a completed result (a Checkr dispute, a HackerRank regrade): SR
        gets each revision. Pushes bring them; a slow poll catches a lost one."""
        if (
            self._state.invitation is None
            or not self._state.invitation.results_revisable
            or self._state.result is None
        ):
            return self._state
        if self._state.undelivered is not None:  # SR never took the result: nothing to revise there
            return self._state
        self._state.revision_window_ends = workflow.now() + timedelta(
            days=order.result_revision_days
        )
        self._watching = True
        self._show_details()
        while (
            reading := await self._next_vendor_reading(
                vendor_ref, order.revision_poll_interval_seconds
            )
        ) is not None:
            status = reading.status
            if status == VendorStatus.ON_HOLD:
                self._record(reading)
                self._note("The result is under review at the vendor (disputed)")
                await self._tell_smartrecruiters(results.under_review(), progress=True)
                self._state.under_review = True
                self._extend_wait(order.report_wait_days)  # a review takes the time it takes
            elif status == VendorStatus.COMPLETED:
                if await self._complete(vendor_ref, order, revision=True):
                    self._record(reading)
                elif workflow.patched(REVISION_KNOWN_ONCE_POSTED_PATCH):
                    # Not known yet: the next poll finds it again, once this pause is over.
                    await self._pause(order.revision_poll_interval_seconds)
                else:
                    self._record(reading)
            elif status.is_final:
                self._record(reading)
                self._note(
                    f"Vendor reported {status.value.lower()} after the result; the posted "
                    "result stands"
                )
                break
            else:
                # Work on a revision (a regrade, a report back to pending): known now, so the
                # next poll waits for what follows it.
                self._record(reading)
                self._note(f"Vendor reported {status.value.lower()} after the result")
        if self._state.under_review:
            # SR still says a revision will follow: put back the result that stands.
            await self._tell_smartrecruiters(self._completed(self._state.result), progress=True)
            self._state.under_review = False
        self._watching = False
        self._note("No longer watching for revisions of the result")
        return self._state

    # --- steps -------------------------------------------------------------------------------

    async def _invite(self, order: Order) -> VendorRef:
        invitation: Invitation
        if workflow.patched(INVITATION_FINISHES_ON_CANCEL_PATCH):
            invitation = await self._call_to_its_end(
                OrderActivities.create_invitation, order, **VENDOR_CALL
            )
        else:  # a cancellation failed the invitation: SR heard REJECTED
            invitation = await workflow.execute_activity_method(
                OrderActivities.create_invitation, order, **VENDOR_CALL
            )
        self._state.invitation = invitation
        self._state.vendor_status = VendorStatus.INVITED
        _meter().create_histogram_timedelta(
            "assessment_time_to_invite", "From the order to the vendor's invitation", "ms"
        ).record(workflow.now() - workflow.info().start_time, self._labels())
        self._note(f"Candidate invited at {order.vendor}")
        return VendorRef(
            vendor=order.vendor,
            vendor_account_id=order.vendor_account_id,
            ref=invitation.vendor_ref,
        )

    async def _next_vendor_reading(
        self, vendor_ref: VendorRef, poll_interval_seconds: float
    ) -> StatusReading | None:
        """Wait for the vendor's status (or revision) to change, and say how, not yet recording it
        as known; None once the wait is over (the deadline, or the revision window)."""
        while self._time_left() > 0:
            if self._repairs:
                await self._make_repairs(vendor_ref)
                if self._state.finished and self._state.result is None:  # cancelled by an operator
                    return None
                continue
            reading = await self._wait_for_news(vendor_ref, poll_interval_seconds)
            if reading is None:
                return None
            if reading.status != VendorStatus.UNKNOWN and reading != self._known():
                return reading
        return None

    def _known(self) -> StatusReading:
        assert self._state.vendor_status is not None
        return StatusReading(status=self._state.vendor_status, revision=self._state.vendor_revision)

    def _record(self, reading: StatusReading) -> None:
        self._state.vendor_status = reading.status
        self._state.vendor_revision = reading.revision

    def _wait_ends(self) -> datetime | None:
        """When the order stops waiting: the end of the revision window once it has a result to
        watch, else the candidate's deadline."""
        return self._state.revision_window_ends or self._state.deadline

    def _extend_wait(self, days: float) -> None:
        later = workflow.now() + timedelta(days=days)
        if self._state.revision_window_ends is not None:
            self._state.revision_window_ends = max(self._state.revision_window_ends, later)
            self._show_details()
        elif self._state.deadline is None or later > self._state.deadline:
            self._set_deadline(later)

    async def _pause(self, seconds: float) -> None:
        """Wait this long (at most until the wait ends) before trying again, unless an operator's
        repair or a webhook comes first."""
        timeout = min(seconds, self._time_left())
        if timeout > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(
                    lambda: bool(self._repairs) or self._unhandled_hints > 0, timeout=timeout
                )

    async def _wait_for_news(
        self, vendor_ref: VendorRef, poll_interval_seconds: float
    ) -> StatusReading | None:
        """A webhook and a polling activity race; None if neither has news by the deadline.

        The webhook is quick; the poll catches what a lost webhook would have told us. Either
        way the status is read from the vendor itself, since a webhook is only a hint.
        """
        poll = workflow.start_activity_method(
            OrderActivities.await_vendor_change,
            PollRequest(vendor=vendor_ref, known=self._known()),
            start_to_close_timeout=timedelta(seconds=30),
            # Polling stops at the deadline; attempts are not recorded in history.
            schedule_to_close_timeout=timedelta(seconds=self._time_left()),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=poll_interval_seconds),
                backoff_coefficient=1.0,
                non_retryable_error_types=[PEER_REJECTED],
            ),
        )
        hint = asyncio.ensure_future(workflow.wait_condition(lambda: self._unhandled_hints > 0))
        # An operator's repair (or a later end of the wait) interrupts the wait; the caller
        # starts it again.
        ends = self._wait_ends()
        repair = asyncio.ensure_future(
            workflow.wait_condition(lambda: bool(self._repairs) or self._wait_ends() != ends)
        )
        try:
            done, _ = await workflow.wait(
                [poll, hint, repair], timeout=self._time_left(), return_when=asyncio.FIRST_COMPLETED
            )
            if poll in done:
                try:
                    reading = poll.result()
                    self._count_news("poll")
                    return reading
                except ActivityError as err:
                    if err.retry_state != RetryState.TIMEOUT:
                        return StatusReading(status=VendorStatus.FAILED)  # the vendor refused us
                # The polling budget is spent: until the deadline only a webhook can bring news.
                done, _ = await workflow.wait(
                    [hint, repair], timeout=self._time_left(), return_when=asyncio.FIRST_COMPLETED
                )
        finally:
            await _stop(poll, hint, repair)
        if hint not in done:
            return self._known() if repair in done else None
        self._unhandled_hints = 0
        self._count_news("webhook")
        return await self._read_status(vendor_ref)

    def _time_left(self) -> float:
        ends = self._wait_ends()
        return 0.0 if ends is None else max(0.0, (ends - workflow.now()).total_seconds())

    async def _call(
        self, activity: Callable[[Any, Any], Awaitable[T]], arg: Any, **options: Any
    ) -> T:
        """Run an activity. The order's cancellation reaches a running activity as its failure;
        it ends the order, not just the call. (Histories without the patch went on as if the
        call had failed.)"""
        try:
            return await workflow.execute_activity_method(activity, arg, **options)
        except ActivityError as err:
            if isinstance(err.cause, CancelledError) and workflow.patched(
                CANCEL_DURING_A_CALL_PATCH
            ):
                raise asyncio.CancelledError() from err
            raise

    async def _call_smartrecruiters(
        self, activity: Callable[[Any, Any], Awaitable[T]], arg: Any, **options: Any
    ) -> T:
        """Run an SR activity. SR applies an update once its request reaches it, so a cancelled
        order waits for the end of the call (`_call_to_its_end`): its next update cannot land
        before this one."""
        if not workflow.patched(SR_CALL_FINISHES_PATCH):
            return await self._call(activity, arg, **options)
        return await self._call_to_its_end(activity, arg, **options)

    async def _call_to_its_end(
        self, activity: Callable[[Any, Any], Awaitable[T]], arg: Any, **options: Any
    ) -> T:
        """Run an activity whose effect a cancellation cannot take back once its request is
        sent: a cancelled order waits for the end of an attempt under way (one request, within
        its timeout; the activity does not heartbeat, so nothing interrupts it) and learns
        what the peer did; an attempt waiting to be retried is cancelled at once. What a call
        that went through did is recorded by the caller, which then ends the order
        (`_end_if_cancelled_during_a_call`)."""
        cancelled_before = workflow.cancellation_reason() is not None
        try:
            result = await self._call(
                activity,
                arg,
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                **options,
            )
        except ActivityError as err:
            if not cancelled_before and workflow.cancellation_reason() is not None:
                raise asyncio.CancelledError() from err  # a failed attempt is not retried then
            raise
        self._cancelled_during_a_call = (
            not cancelled_before and workflow.cancellation_reason() is not None
        )
        return result

    def _end_if_cancelled_during_a_call(self) -> None:
        if self._cancelled_during_a_call:
            self._cancelled_during_a_call = False
            raise asyncio.CancelledError()

    async def _read_status(self, vendor_ref: VendorRef) -> StatusReading:
        try:
            return await self._call(OrderActivities.get_vendor_status, vendor_ref, **VENDOR_CALL)
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.type == INVITATION_UNKNOWN:
                if self._state.vendor_status == VendorStatus.CANCELLED:
                    return StatusReading(
                        status=VendorStatus.CANCELLED
                    )  # we withdrew it: vendors forget withdrawn invitations
                # A 404 alone proves nothing (lost records, another account's key): the order
                # keeps what it knew, and its poll asks again at a slow pace until the vendor knows.
                self._note(
                    f"{self._failed(err, notes.STATUS_READ)}; the order is held until the "
                    "vendor knows it again (`assessments vendor check` tests the account)"
                )
                return self._known()
            self._note(self._failed(err, notes.STATUS_READ))
            return StatusReading(status=VendorStatus.FAILED)

    async def _complete(
        self, vendor_ref: VendorRef, order: Order, *, revision: bool = False
    ) -> bool:
        """Read the result, attach the report and post COMPLETED; a revision is posted again.
        False when a revision's result could not be read or SR refused it: the result posted
        before stands."""
        self._note(
            "The vendor revised the result" if revision else "Candidate completed the assessment"
        )
        try:
            result = await self._call(OrderActivities.get_vendor_result, vendor_ref, **VENDOR_CALL)
        except ActivityError as err:
            self._note(self._failed(err, notes.RESULT_READ))
            if revision:
                return False
            await self._finish(
                results.rejected(VendorStatus.FAILED), "The vendor's result could not be read"
            )
            return True
        posted = self._state.result
        changed = result != posted
        self._state.result = result
        if changed and not order.inline:  # SR refuses attachments on inline orders
            await self._move_report(vendor_ref, order)
        if not revision:
            await self._finish(self._completed(result), "Result posted")
            return True
        if not changed and not self._state.under_review:
            self._note("The revised result is the same as the one posted")
            return True
        refused = not await self._tell_smartrecruiters(self._completed(result), progress=True)
        if refused and workflow.patched(REVISION_KNOWN_ONCE_POSTED_PATCH):
            self._state.result = posted  # SR still shows the one posted before
            return False
        self._state.under_review = False
        if changed:
            self._state.revisions_posted += 1
        self._note("Revised result posted" if changed else "The result stands after the review")
        return True

    async def _move_report(self, vendor_ref: VendorRef, order: Order) -> None:
        """Attach the vendor's report to the profile;
        without it the result is still worth posting."""
        result = self._state.result
        if result == self._report_moved_for and workflow.patched(REPORT_MOVED_ONCE_PATCH):
            return  # a revision SR refused, tried again: its report is there already
        self._report_moved_for = result
        try:
            link = await self._call_smartrecruiters(
                OrderActivities.transfer_report,
                ReportTransfer(
                    order_id=order.order_id,
                    company_id=order.company_id,
                    vendor=vendor_ref,
                    result_callback_url=order.result_callback_url,
                    package_name=order.package_name,
                ),
                **SMARTRECRUITERS_CALL
                | ActivityOptions(schedule_to_close_timeout=timedelta(days=2)),
            )
        except ActivityError as err:
            self._note(
                f"{self._failed(err, notes.REPORT_MOVE)}; the result goes on without the file"
            )
            return
        self._state.report_url = link.url
        if link.url:
            self._note("Report attached to the candidate's profile")
        self._end_if_cancelled_during_a_call()

    def _completed(self, result: VendorResult) -> ResultUpdate:
        """The result to post; it links the vendor's report unless its file reached SR."""
        return results.completed(result, report_uploaded=self._state.report_url is not None)

    async def _abandon_invitation(self, order: Order) -> None:
        if not workflow.patched(INVITATION_ABANDONED_PATCH):
            return
        try:
            await self._call(OrderActivities.abandon_invitation, order, **CLEANUP_CALL)
        except ActivityError as err:
            self._note(self._failed(err, notes.ABANDONED_INVITATION))

    async def _withdraw(self, vendor_ref: VendorRef) -> None:
        try:
            await self._call(OrderActivities.cancel_invitation, vendor_ref, **CLEANUP_CALL)
        except ActivityError as err:
            self._note(self._failed(err, notes.WITHDRAWAL))
            return
        self._state.vendor_status = VendorStatus.CANCELLED
        self._note("Invitation withdrawn at the vendor")

    async def _finish(self, update: ResultUpdate, note: str) -> OrderState:
        self._drop_deadline_attribute()
        if not await self._tell_smartrecruiters(update):
            return self._undelivered(update)
        self._state.finished = True
        self._note(note)
        self._count_ending(update.status.value)
        if update.status == SrStatus.COMPLETED:
            _meter().create_histogram_timedelta(
                "assessment_time_to_result", "From the order to its result posted at SR", "ms"
            ).record(workflow.now() - workflow.info().start_time, self._labels())
        self._end_if_cancelled_during_a_call()
        return self._state

    # --- metrics (replay-safe: the SDK records them only when the code runs for the first time) ---

    def _labels(self) -> dict[str, str]:
        return {"vendor": self._state.order.vendor}

    def _count_news(self, source: str) -> None:
        """How the order learnt of a vendor change: a webhook, or the polling fallback."""
        _meter().create_counter(
            "assessment_vendor_news", "Vendor status changes noticed, by how"
        ).add(1, self._labels() | {"source": source})

    def _count_ending(self, how: str) -> None:
        _meter().create_counter(
            "assessment_orders_ended", "Orders ended, by how SR saw them end"
        ).add(1, self._labels() | {"ending": how})

    async def _tell_smartrecruiters(self, update: ResultUpdate, *, progress: bool = False) -> bool:
        """Post an update to SR. A refused progress update is noted and the order goes on; a
        refused final update fails the order, so operators see it in the Temporal UI. But SR
        refusing us for the company (SR_REFUSING) says nothing about the update: the order shows
        SR_REFUSING, and a final update is tried again until the order gives up (False)."""
        order = self._state.order
        request = SrUpdateRequest(
            order_id=order.order_id,
            company_id=order.company_id,
            update=update,
            result_callback_url=order.result_callback_url,
        )
        try:
            await self._call_smartrecruiters(
                OrderActivities.update_smartrecruiters, request, **SMARTRECRUITERS_CALL
            )
        except ActivityError as err:
            refused = self._failed(err, notes.status_update(update.status.value))
            self._note(f"{refused}; the order goes on" if progress else refused)
            refusing = _failure_type(err) == SR_REFUSING and workflow.patched(SR_REFUSAL_PATCH)
            if refusing:
                self._set_status(visibility.SR_REFUSING)
                _meter().create_counter(
                    "assessment_sr_refusals",
                    "Updates SR refused us for the order's company (not connected, or "
                    "disconnected at SR)",
                ).add(1, self._labels())
            if progress:
                return False
            if not refusing:
                raise
            if not await self._until_smartrecruiters_listens(request):
                return False
        self._state.sr_status = update.status
        self._set_status(update.status.value)
        self._note(f"SmartRecruiters shows {update.status.value}")
        if progress:  # a final update's order ends in `_finish`, once it is recorded
            self._end_if_cancelled_during_a_call()
        return True

    async def _until_smartrecruiters_listens(self, request: SrUpdateRequest) -> bool:
        """Try a final update SR refuses us for again, until the order's give-up time; False
        when SR never took it. Its retries are one activity's attempts: the history stays small."""
        give_up = timedelta(days=self._state.order.sr_refusal_give_up_days)
        self._state.sr_refusing_until = workflow.now() + give_up
        status = request.update.status.value
        self._note(
            f"SmartRecruiters refuses us for this company: {status} is tried again until "
            f"{self._state.sr_refusing_until:%Y-%m-%d %H:%M} UTC"
        )
        try:
            await self._call_smartrecruiters(
                OrderActivities.update_smartrecruiters_once_it_listens,
                request,
                start_to_close_timeout=SMARTRECRUITERS_CALL["start_to_close_timeout"],
                schedule_to_close_timeout=give_up,
                retry_policy=refusal_retry(give_up),
            )
        except ActivityError as err:
            if (
                err.retry_state != RetryState.TIMEOUT
            ):  # SR listens again, and refuses the update itself
                self._note(self._failed(err, notes.status_update(status)))
                raise
            return False
        finally:
            self._state.sr_refusing_until = None
        return True

    def _undelivered(self, update: ResultUpdate) -> OrderState:
        """The order gives up telling SR how it ended; an operator's repair tells it later."""
        self._state.finished = True
        self._state.undelivered = update.status
        self._set_status(visibility.UNDELIVERED)
        repair = (
            "repost-result posts the result kept here"
            if self._state.result is not None
            else "reset posts it again"
        )
        self._note(
            f"Gave up telling SmartRecruiters {update.status.value}: it refused us for "
            "this company for "
            f"{_days(self._state.order.sr_refusal_give_up_days)}. Once it listens again, "
            f"the repair {repair}"
        )
        self._count_ending(visibility.UNDELIVERED)
        return self._state

    def _set_status(self, status: str) -> None:
        # Orders started without our search attributes (Temporal's time-skipping test server
        # cannot register them) are not given them later: the upsert would be refused.
        if workflow.info().typed_search_attributes.get(visibility.ORDER_STATUS) is not None:
            workflow.upsert_search_attributes([visibility.ORDER_STATUS.value_set(status)])

    def _set_deadline(self, deadline: datetime) -> None:
        """The candidate's deadline, set or moved, and its search attribute with it."""
        self._state.deadline = deadline
        # As for the status: only orders started with our search attributes get it.
        if workflow.info().typed_search_attributes.get(
            visibility.ORDER_STATUS
        ) is not None and workflow.patched(DEADLINE_ATTRIBUTE_PATCH):
            workflow.upsert_search_attributes([visibility.DEADLINE.value_set(deadline)])

    def _drop_deadline_attribute(self) -> None:
        """The order no longer waits for its candidate (it is telling SR how it ended, or it is
        cancelled): its deadline leaves the search attribute, so that an open order still
        watching its result for revisions, or trying SR again, never lists as expiring. The
        state keeps the deadline (`orders show`). Only an attribute this run set is removed:
        orders without the patch have none."""
        if workflow.info().typed_search_attributes.get(visibility.DEADLINE) is not None:
            workflow.upsert_search_attributes([visibility.DEADLINE.value_unset()])

    def _failed(self, err: ActivityError, what: str) -> str:
        """A failed call, in an operator's words (workflows/notes.py)."""
        return notes.failed(err, what, vendor=self._state.order.vendor)

    def _note(self, what: str) -> None:
        timeline = self._state.timeline
        timeline.append(TimelineEntry(at=workflow.now(), what=what))
        if len(timeline) > TIMELINE_NOTES:
            del timeline[TIMELINE_FIRST_NOTES]
            self._state.timeline_notes_dropped += 1
        self._show_details()

    def _show_details(self) -> None:
        """The Temporal UI's current details: the latest notes, under what the order waits for
        while it watches a posted result for revisions (its workflow runs on until then)."""
        lines = [
            f"**{e.at:%Y-%m-%d %H:%M:%S} UTC** {e.what}"
            for e in self._state.timeline[-CURRENT_DETAILS_NOTES:]
        ]
        ends = self._state.revision_window_ends
        if self._watching and ends is not None:
            shows = self._state.sr_status.value if self._state.sr_status else "nothing"
            lines.insert(
                0,
                f"SmartRecruiters shows {shows}. Watching for revisions of the result until "
                f"{ends:%Y-%m-%d %H:%M} UTC; the workflow runs until then.",
            )
        workflow.set_current_details("\n\n".join(lines))

    # --- messages ----------------------------------------------------------------------------

    @workflow.update
    def vendor_hint(self, event: VendorEvent) -> None:
        """A vendor webhook arrived: the main loop reads the vendor's status (hints coalesce)."""
        self._state.events_received.append(event.event_id)
        self._unhandled_hints += 1

    @vendor_hint.validator
    def _validate_vendor_hint(self, event: VendorEvent) -> None:
        # An update, not a signal, so that a hint refused here leaves nothing in the history:
        # whoever holds a vendor's signing secret could otherwise send events until Temporal
        # terminates the order for its history's size. Polling reads the vendor anyway, adding
        # to the history only when it finds news, so an order past its share of webhooks loses
        # at most a poll interval; the ids it remembers stay few.
        if self._ended:
            raise ApplicationError("The order has ended", type=HINTS_CLOSED, non_retryable=True)
        if event.event_id in self._state.events_received:
            raise ApplicationError(
                "The order has this event already", type=HINT_REFUSED, non_retryable=True
            )
        if len(self._state.events_received) >= WEBHOOK_EVENTS_PER_ORDER:
            raise ApplicationError(
                f"The order has taken {WEBHOOK_EVENTS_PER_ORDER} webhook events; it "
                "follows the vendor by polling",
                type=HINTS_CLOSED,
                non_retryable=True,
            )

    @workflow.signal
    def vendor_event(self, event: VendorEvent) -> None:
        """How webhooks reached orders before `vendor_hint`: kept so their histories replay.
        Duplicates (same vendor event id) are counted and ignored."""
        if event.event_id in self._state.events_received:
            self._state.duplicate_events += 1
            return
        # A signal cannot be refused: past its share, the order forgets the oldest ids (a
        # vendor's re-deliveries come soon after the first).
        kept = self._state.events_received[-(WEBHOOK_EVENTS_PER_ORDER - 1) :]
        self._state.events_received = [*kept, event.event_id]
        self._unhandled_hints += 1

    @workflow.update
    async def invitation_link(self) -> InvitationLink:
        """For inline orders: the candidate's test link, as soon as the vendor has issued it."""
        await workflow.wait_condition(
            lambda: self._state.invitation is not None or self._state.finished or self._ended
        )
        if self._state.invitation is None:
            raise ApplicationError(
                "The vendor could not invite the candidate", type="InvitationFailed"
            )
        return InvitationLink(url=self._state.invitation.test_url)

    @workflow.query
    def state(self) -> OrderState:
        return self._state

    # --- operators' repairs (admin/repairs.py) ------------------------------------------------
    # Each is an update: its validator refuses a repair that makes no sense in the order's state
    # (nothing enters the history then); an accepted one is recorded in the history with who
    # asked and why, and its timeline note reads "Repair by <operator>: <what> (<reason>)".
    # Repairs that call SR or the vendor are handed to the main loop, which makes them between
    # its own calls (`_make_repairs`); the update returns once it is done.

    @workflow.update
    async def extend_deadline(self, request: DeadlineExtension) -> RepairOutcome:
        assert self._state.deadline is not None
        self._set_deadline(self._state.deadline + timedelta(days=request.days))
        # A running wait sees the later deadline and starts again, until it.
        what = (
            f"deadline extended by {_days(request.days)} to "
            f"{self._state.deadline:%Y-%m-%d %H:%M} UTC"
        )
        return self._repaired(RepairKind.EXTEND_DEADLINE, request, what)

    @extend_deadline.validator
    def _validate_extend_deadline(self, request: DeadlineExtension) -> None:
        self._refuse_if(self._refusal(RepairKind.EXTEND_DEADLINE, request))

    @workflow.update
    async def resend_invitation(self, request: Repair) -> RepairOutcome:
        return await self._hand_to_main_loop(RepairKind.RESEND_INVITATION, request)

    @resend_invitation.validator
    def _validate_resend_invitation(self, request: Repair) -> None:
        self._refuse_if(self._refusal(RepairKind.RESEND_INVITATION, request))

    @workflow.update
    async def cancel_order(self, request: Repair) -> RepairOutcome:
        return await self._hand_to_main_loop(RepairKind.CANCEL, request)

    @cancel_order.validator
    def _validate_cancel_order(self, request: Repair) -> None:
        self._refuse_if(self._refusal(RepairKind.CANCEL, request))

    @workflow.update
    async def repost_result(self, request: Repair) -> RepairOutcome:
        return await self._hand_to_main_loop(RepairKind.REPOST_RESULT, request)

    @repost_result.validator
    def _validate_repost_result(self, request: Repair) -> None:
        self._refuse_if(self._refusal(RepairKind.REPOST_RESULT, request))

    @workflow.query
    def repair_refusal(self, question: RepairQuestion) -> str | None:
        """Why this repair would be refused now, or None: the validators' own answer, asked by bulk
        repairs' dry runs (a query, so nothing enters the history)."""
        return self._refusal(question.kind, question.repair)

    def _refusal(self, kind: RepairKind, request: Repair) -> str | None:
        """Why this repair makes no sense now, or None. Checked when it is asked for and again
        when the main loop comes to make it (the order may have moved on meanwhile)."""
        state = self._state
        if self._ended:
            return "The order has ended"
        if state.sr_refusing_until is not None:
            return (
                "SmartRecruiters refuses us for this company; the order tries its update "
                "again until "
                f"{state.sr_refusing_until:%Y-%m-%d %H:%M} UTC, then gives up (repair it then)"
            )
        if kind == RepairKind.REPOST_RESULT:
            if state.result is None:
                return "The order has no result to re-post"
            if state.under_review:
                return (
                    "The vendor is reviewing the result; its revision will be posted when it comes"
                )
            return None
        if state.finished:
            return (
                "The order has finished (SmartRecruiters shows "
                f"{state.sr_status.value if state.sr_status else 'nothing'})"
            )
        if state.invitation is None or state.deadline is None:
            return "The candidate is not invited yet; try again in a minute"
        if kind == RepairKind.EXTEND_DEADLINE:
            if not isinstance(request, DeadlineExtension):
                return "An extension of the deadline needs the days to add"
            if self._time_left() <= 0:
                return "The deadline has passed; the order is expiring"
            if state.deadline + timedelta(days=request.days) <= state.deadline:
                return "The new deadline must be later than the current one"
        if kind == RepairKind.RESEND_INVITATION and state.vendor_status != VendorStatus.INVITED:
            status = state.vendor_status.value if state.vendor_status else "unknown"
            return (
                f"The candidate is past the invitation (vendor status {status}); there is "
                "nothing to resend"
            )
        return None

    @staticmethod
    def _refuse_if(refusal: str | None) -> None:
        if refusal is not None:
            raise _repair_refused(refusal)

    async def _hand_to_main_loop(self, kind: RepairKind, request: Repair) -> RepairOutcome:
        self._repair_tickets += 1
        ticket = self._repair_tickets
        self._repairs.append((ticket, kind, request))
        await workflow.wait_condition(lambda: ticket in self._repair_outcomes or self._ended)
        outcome = self._repair_outcomes.pop(ticket, None)
        if outcome is None:
            raise _repair_refused("The order ended before the repair could be made")
        if isinstance(outcome, ApplicationError):
            raise outcome
        return outcome

    async def _make_repairs(self, vendor_ref: VendorRef) -> None:
        """The main loop makes the repairs operators asked for, one at a time."""
        while self._repairs:
            ticket, kind, request = self._repairs.pop(0)
            refusal = self._refusal(kind, request)
            outcome: RepairOutcome | ApplicationError
            if refusal is not None:
                outcome = _repair_refused(refusal)
            elif kind == RepairKind.CANCEL:
                outcome = await self._cancel_by_operator(vendor_ref, request)
            elif kind == RepairKind.RESEND_INVITATION:
                outcome = await self._resend(vendor_ref, request)
            else:
                outcome = await self._repost(vendor_ref, request)
            self._repair_outcomes[ticket] = outcome

    async def _cancel_by_operator(self, vendor_ref: VendorRef, request: Repair) -> RepairOutcome:
        await self._withdraw(vendor_ref)
        outcome = self._repaired(
            RepairKind.CANCEL, request, "order cancelled, SmartRecruiters told REJECTED"
        )
        await self._finish(
            results.cancelled_by_operator(request.reason), "Order cancelled by an operator"
        )
        return outcome.model_copy(update={"sr_status": self._state.sr_status})

    async def _resend(
        self, vendor_ref: VendorRef, request: Repair
    ) -> RepairOutcome | ApplicationError:
        try:
            await self._call(OrderActivities.resend_invitation, vendor_ref, **VENDOR_CALL)
        except ActivityError as err:
            failure = self._failed(err, notes.RESEND)
            self._note(f"Repair by {request.operator} failed. {failure}")
            return _repair_failed(failure)
        return self._repaired(
            RepairKind.RESEND_INVITATION, request, "invitation sent again by the vendor"
        )

    async def _repost(
        self, vendor_ref: VendorRef, request: Repair
    ) -> RepairOutcome | ApplicationError:
        try:
            result = await self._call(OrderActivities.get_vendor_result, vendor_ref, **VENDOR_CALL)
        except ActivityError as err:
            failure = self._failed(err, notes.RESULT_READ)
            self._note(f"Repair by {request.operator} failed. {failure}")
            return _repair_failed(failure)
        changed = result != self._state.result
        self._state.result = result
        if changed and not self._state.order.inline:
            await self._move_report(vendor_ref, self._state.order)
        if not await self._tell_smartrecruiters(self._completed(result), progress=True):
            return _repair_failed("SmartRecruiters refused the result; see the order's timeline")
        return self._repaired(
            RepairKind.REPOST_RESULT,
            request,
            "result read again and re-posted" + ("" if changed else " (unchanged at the vendor)"),
        )

    def _repaired(self, kind: RepairKind, request: Repair, what: str) -> RepairOutcome:
        note = f"Repair by {request.operator}: {what} ({request.reason})"
        self._note(note)
        return RepairOutcome(
            repair=kind,
            done_at=workflow.now(),
            note=note,
            deadline=self._state.deadline,
            sr_status=self._state.sr_status,
        )


def _meter():
    return workflow.metric_meter()


async def _stop(*waits: asyncio.Future) -> None:
    """Cancel what lost a race, and collect it so its cancellation is not reported as an error."""
    for wait in waits:
        wait.cancel()
        with contextlib.suppress(ActivityError, asyncio.CancelledError):
            await wait


def _repair_refused(why: str) -> ApplicationError:
    """The repair makes no sense in the order's state (nothing was tried)."""
    return ApplicationError(why, type=REPAIR_REFUSED, non_retryable=True)


def _repair_failed(why: str) -> ApplicationError:
    """The repair was tried, and the vendor or SR refused it."""
    return ApplicationError(why, type=REPAIR_FAILED, non_retryable=True)


def _deadline_from_receipt(order: Order) -> datetime:
    return _utc(order.received_at) + timedelta(days=order.deadline_days)


def _utc(moment: datetime) -> datetime:
    """A time without an offset is UTC, as the order's receipt is recorded."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _days(days: float) -> str:
    return f"{days:g} day" + ("" if days == 1 else "s")


def _failure_type(err: ActivityError) -> str | None:
    return err.cause.type if isinstance(err.cause, ApplicationError) else None


def _refusal(err: ActivityError) -> str:
    """Why an invitation failed, as SR's recruiter reads it: a peer failure in our own words (the
    vendor's refusal names what it refused), found through a timeout to the last attempt's; any
    other message could quote the order's data, so it stays in the timeline."""
    cause = err.cause
    while isinstance(cause, FailureError):
        if isinstance(cause, ApplicationError) and cause.type in (
            PEER_REJECTED,
            PEER_UNAVAILABLE,
            CREDENTIALS_REFUSED,
        ):
            return cause.message
        cause = cause.cause
    return "the reason is in the order's history, for support"
