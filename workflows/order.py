"""The story of one assessment order, from SmartRecruiters' request to the result on the profile.

invite the candidate at the vendor → tell SR "PENDING" → wait for the candidate (webhooks race a
polling fallback) → "IN_PROGRESS" when they start → on completion move the report and post
"COMPLETED" with the score → done. A decline or vendor failure ends as "REJECTED"; nothing by
the package deadline ends, after a last look and a cancellation at the vendor, as "EXPIRED".
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

with workflow.unsafe.imports_passed_through():
    from activities.orders import PEER_REJECTED, OrderActivities
    from orders import results, visibility
    from orders.models import (
        Invitation,
        InvitationLink,
        Order,
        OrderState,
        PollRequest,
        ReportTransfer,
        ResultUpdate,
        SrStatus,
        SrUpdateRequest,
        StatusReading,
        TimelineEntry,
        VendorEvent,
        VendorRef,
        VendorStatus,
    )

# A vendor call answers within seconds; transient failures are retried at a gentle pace.
VENDOR_CALL = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5), non_retryable_error_types=[PEER_REJECTED]
    ),
)
# SR must eventually hear about every order, so SR updates retry until SR answers (a 4xx stops them).
SMARTRECRUITERS_CALL = dict(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5), non_retryable_error_types=[PEER_REJECTED]
    ),
)
# Before giving up on the vendor entirely (an hour of outage is survived; a week is not).
VENDOR_GIVE_UP_AFTER = timedelta(days=2)


@workflow.defn
class AssessmentOrderWorkflow:
    @workflow.init
    def __init__(self, order: Order) -> None:
        self._state = OrderState(order=order)
        self._unhandled_hints = 0

    @workflow.run
    async def run(self, order: Order) -> OrderState:
        self._note(f"Order received for package {order.package_name}")
        vendor_ref = await self._invite(order)
        if vendor_ref is None:
            return await self._finish(results.invitation_failed(), "The vendor could not invite the candidate")
        await self._tell_smartrecruiters(results.pending(workflow.now()))

        self._state.deadline = workflow.now() + timedelta(days=order.deadline_days)
        while True:
            status = await self._next_vendor_status(vendor_ref)
            if status is None:
                return await self._expire(vendor_ref, order)
            if status == VendorStatus.COMPLETED:
                return await self._complete(vendor_ref, order)
            if status.is_final:
                return await self._finish(results.rejected(status), f"Vendor reported {status.value.lower()}")
            if status in (VendorStatus.STARTED, VendorStatus.PROCESSING) and self._state.sr_status == SrStatus.PENDING:
                self._note("Candidate started the assessment")
                await self._tell_smartrecruiters(results.in_progress())

    # --- steps -------------------------------------------------------------------------------

    async def _invite(self, order: Order) -> VendorRef | None:
        try:
            invitation: Invitation = await workflow.execute_activity_method(
                OrderActivities.create_invitation, order, schedule_to_close_timeout=VENDOR_GIVE_UP_AFTER, **VENDOR_CALL
            )
        except ActivityError:
            return None
        self._state.invitation = invitation
        self._state.vendor_status = VendorStatus.INVITED
        self._note(f"Candidate invited at {order.vendor}")
        return VendorRef(vendor=order.vendor, ref=invitation.vendor_ref)

    async def _next_vendor_status(self, vendor_ref: VendorRef) -> VendorStatus | None:
        """Wait for the vendor's status to change; None once the deadline has passed."""
        while self._time_left() > 0:
            reading = await self._wait_for_news(vendor_ref)
            if reading is None:
                return None
            if reading.status not in (VendorStatus.UNKNOWN, self._state.vendor_status):
                self._state.vendor_status = reading.status
                return reading.status
        return None

    async def _wait_for_news(self, vendor_ref: VendorRef) -> StatusReading | None:
        """A webhook and a polling activity race; None if neither has news by the deadline.

        The webhook is quick; the poll catches what a lost webhook would have told us. Either
        way the status is read from the vendor itself, since a webhook is only a hint.
        """
        assert self._state.vendor_status is not None
        poll = workflow.start_activity_method(
            OrderActivities.await_vendor_change,
            PollRequest(vendor=vendor_ref, known_status=self._state.vendor_status),
            start_to_close_timeout=timedelta(seconds=30),
            # Polling stops at the deadline; attempts are not recorded in history.
            schedule_to_close_timeout=timedelta(seconds=self._time_left()),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=self._state.order.poll_interval_seconds),
                backoff_coefficient=1.0,
                non_retryable_error_types=[PEER_REJECTED],
            ),
        )
        hint = asyncio.ensure_future(workflow.wait_condition(lambda: self._unhandled_hints > 0))
        try:
            done, _ = await workflow.wait([poll, hint], timeout=self._time_left(), return_when=asyncio.FIRST_COMPLETED)
            if poll in done:
                try:
                    return poll.result()
                except ActivityError as err:
                    if err.retry_state != RetryState.TIMEOUT:
                        return StatusReading(status=VendorStatus.FAILED)  # the vendor refused us
                # The polling budget is spent: until the deadline only a webhook can bring news.
                done, _ = await workflow.wait([hint], timeout=self._time_left())
            if hint in done:
                self._unhandled_hints = 0
                return await self._read_status(vendor_ref)
            return None
        finally:
            poll.cancel()
            hint.cancel()

    def _time_left(self) -> float:
        assert self._state.deadline is not None
        return max(0.0, (self._state.deadline - workflow.now()).total_seconds())

    async def _read_status(self, vendor_ref: VendorRef) -> StatusReading:
        try:
            return await workflow.execute_activity_method(
                OrderActivities.get_vendor_status, vendor_ref, schedule_to_close_timeout=VENDOR_GIVE_UP_AFTER, **VENDOR_CALL
            )
        except ActivityError:
            return StatusReading(status=VendorStatus.FAILED)

    async def _complete(self, vendor_ref: VendorRef, order: Order) -> OrderState:
        self._note("Candidate completed the assessment")
        try:
            result = await workflow.execute_activity_method(
                OrderActivities.get_vendor_result, vendor_ref, schedule_to_close_timeout=VENDOR_GIVE_UP_AFTER, **VENDOR_CALL
            )
        except ActivityError:
            return await self._finish(results.rejected(VendorStatus.FAILED), "The vendor's result could not be read")
        self._state.result = result
        if not order.inline:  # SR refuses attachments on inline orders
            link = await workflow.execute_activity_method(
                OrderActivities.transfer_report,
                ReportTransfer(order_id=order.order_id, vendor=vendor_ref),
                schedule_to_close_timeout=VENDOR_GIVE_UP_AFTER,
                **SMARTRECRUITERS_CALL,
            )
            self._state.report_url = link.url
            if link.url:
                self._note("Report attached to the candidate's profile")
        return await self._finish(results.completed(result), "Result posted")

    async def _expire(self, vendor_ref: VendorRef, order: Order) -> OrderState:
        # A completion may have landed just before the deadline with its webhook lost.
        final = await self._read_status(vendor_ref)
        if final.status == VendorStatus.COMPLETED:
            return await self._complete(vendor_ref, order)
        await workflow.execute_activity_method(
            OrderActivities.cancel_invitation, vendor_ref, schedule_to_close_timeout=VENDOR_GIVE_UP_AFTER, **VENDOR_CALL
        )
        self._state.vendor_status = VendorStatus.CANCELLED
        return await self._finish(results.expired(order.deadline_days), "Deadline passed; invitation cancelled at the vendor")

    async def _finish(self, update: ResultUpdate, note: str) -> OrderState:
        await self._tell_smartrecruiters(update)
        self._state.finished = True
        self._note(note)
        return self._state

    async def _tell_smartrecruiters(self, update: ResultUpdate) -> None:
        await workflow.execute_activity_method(
            OrderActivities.update_smartrecruiters,
            SrUpdateRequest(order_id=self._state.order.order_id, update=update),
            **SMARTRECRUITERS_CALL,
        )
        self._state.sr_status = update.status
        # Only an order started with our attributes keeps them current: a namespace where they
        # are not registered (Temporal's time-skipping test server) refuses the upsert.
        if workflow.info().typed_search_attributes.get(visibility.ORDER_STATUS) is not None:
            workflow.upsert_search_attributes([visibility.ORDER_STATUS.value_set(update.status.value)])
        self._note(f"SmartRecruiters shows {update.status.value}")

    def _note(self, what: str) -> None:
        self._state.timeline.append(TimelineEntry(at=workflow.now(), what=what))
        lines = [f"**{e.at:%Y-%m-%d %H:%M:%S} UTC** {e.what}" for e in self._state.timeline]
        workflow.set_current_details("\n\n".join(lines))

    # --- messages ----------------------------------------------------------------------------

    @workflow.signal
    def vendor_event(self, event: VendorEvent) -> None:
        """A vendor webhook arrived; duplicates (same vendor event id) are counted and ignored."""
        if event.event_id in self._state.events_received:
            self._state.duplicate_events += 1
            return
        self._state.events_received.append(event.event_id)
        self._unhandled_hints += 1

    @workflow.update
    async def invitation_link(self) -> InvitationLink:
        """For inline orders: the candidate's test link, as soon as the vendor has issued it."""
        await workflow.wait_condition(lambda: self._state.invitation is not None or self._state.finished)
        if self._state.invitation is None:
            raise ApplicationError("The vendor could not invite the candidate", type="InvitationFailed")
        return InvitationLink(url=self._state.invitation.test_url)

    @workflow.query
    def state(self) -> OrderState:
        return self._state


def initial_search_attributes(order: Order) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(visibility.ORDER_STATUS, "RECEIVED"),
            SearchAttributePair(visibility.VENDOR, order.vendor),
            SearchAttributePair(visibility.PACKAGE, order.package_id),
            SearchAttributePair(visibility.COMPANY, order.company_id),
        ]
    )
