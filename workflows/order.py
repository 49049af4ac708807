"""The story of one assessment order, from SmartRecruiters' request to the result on the profile.

invite the candidate at the vendor → tell SR "PENDING" → wait for the candidate (webhooks race a
polling fallback) → "IN_PROGRESS" when they start → on completion move the report and post
"COMPLETED" with the score → done. A decline or vendor failure ends as "REJECTED"; nothing by
the package deadline ends, after a last look and a cancellation at the vendor, as "EXPIRED".
"""

from __future__ import annotations

import asyncio
import contextlib
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

# Transient peer failures are retried at a gentle pace; a peer's 4xx is final (DESIGN §5).
PEER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5), non_retryable_error_types=[PEER_REJECTED])
# Vendor calls give up after this long (an hour of outage is survived; two days are not).
VENDOR_CALL = dict(start_to_close_timeout=timedelta(seconds=30), schedule_to_close_timeout=timedelta(days=2), retry_policy=PEER_RETRY)
# SR must eventually hear about every order, so SR calls retry until SR answers.
SMARTRECRUITERS_CALL = dict(start_to_close_timeout=timedelta(seconds=60), retry_policy=PEER_RETRY)
# Withdrawing an invitation is tidying up: worth an hour of tries, not more.
CLEANUP_CALL = dict(start_to_close_timeout=timedelta(seconds=30), schedule_to_close_timeout=timedelta(hours=1), retry_policy=PEER_RETRY)


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
        try:
            return await self._follow(vendor_ref, order)
        except asyncio.CancelledError:
            if self._state.result is not None:
                # The result is posted; cancelling only ends the watch for revisions of it.
                self._note("Stopped watching for revisions of the result (cancelled)")
                raise
            # Cancelled (an operator, or the company disconnected): withdraw the invitation, and
            # tell SR if it still listens to us for this company.
            await self._withdraw(vendor_ref)
            await self._tell_smartrecruiters(results.cancelled(), progress=True)
            self._state.finished = True
            self._set_status("CANCELLED")
            self._note("Order cancelled")
            self._count_ending("CANCELLED")
            raise

    async def _follow(self, vendor_ref: VendorRef, order: Order) -> OrderState:
        await self._tell_smartrecruiters(results.pending(workflow.now()), progress=True)
        self._state.deadline = workflow.now() + timedelta(days=order.deadline_days)
        while True:
            status = await self._next_vendor_status(vendor_ref, order.poll_interval_seconds)
            if status is None:
                status = await self._last_look(vendor_ref)
                if status is None:
                    return await self._finish(results.expired(order.deadline_days), "Deadline passed; invitation withdrawn at the vendor")
            if status == VendorStatus.COMPLETED:
                await self._complete(vendor_ref, order)
                return await self._watch_revisions(vendor_ref, order)
            if status == VendorStatus.EXPIRED:
                return await self._finish(results.expired_at_vendor(), "The invitation expired at the vendor")
            if status.is_final:
                return await self._finish(results.rejected(status), f"Vendor reported {status.value.lower()}")
            if status in (VendorStatus.PROCESSING, VendorStatus.ON_HOLD):
                # The candidate has done their part; the vendor's work (a background check's
                # report) is not bound by the candidate's deadline.
                self._extend_deadline(order.report_wait_days)
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
            if reading.status in (VendorStatus.COMPLETED, VendorStatus.PROCESSING, VendorStatus.ON_HOLD):
                self._record(reading)
                return reading.status
        return None

    async def _watch_revisions(self, vendor_ref: VendorRef, order: Order) -> OrderState:
        """Some vendors revise a completed result (a Checkr dispute, a HackerRank regrade): SR
        gets each revision. Pushes bring them; a slow poll catches a lost one."""
        if self._state.invitation is None or not self._state.invitation.results_revisable or self._state.result is None:
            return self._state
        self._state.deadline = workflow.now() + timedelta(days=order.result_revision_days)
        while (status := await self._next_vendor_status(vendor_ref, order.revision_poll_interval_seconds)) is not None:
            if status == VendorStatus.ON_HOLD:
                self._note("The result is under review at the vendor (disputed)")
                await self._tell_smartrecruiters(results.under_review(), progress=True)
                self._state.under_review = True
                self._extend_deadline(order.report_wait_days)  # a review takes the time it takes
            elif status == VendorStatus.COMPLETED:
                await self._complete(vendor_ref, order, revision=True)
            elif status.is_final:
                self._note(f"Vendor reported {status.value.lower()} after the result; the posted result stands")
                break
        if self._state.under_review:
            # SR still says a revision will follow: put back the result that stands.
            await self._tell_smartrecruiters(results.completed(self._state.result), progress=True)
            self._state.under_review = False
        self._note("No longer watching for revisions of the result")
        return self._state

    # --- steps -------------------------------------------------------------------------------

    async def _invite(self, order: Order) -> VendorRef | None:
        try:
            invitation: Invitation = await workflow.execute_activity_method(OrderActivities.create_invitation, order, **VENDOR_CALL)
        except ActivityError as err:
            self._note(f"Invitation failed: {_reason(err)}")
            return None
        self._state.invitation = invitation
        self._state.vendor_status = VendorStatus.INVITED
        _meter().create_histogram_timedelta("assessment_time_to_invite", "From the order to the vendor's invitation", "ms").record(
            workflow.now() - workflow.info().start_time, self._labels()
        )
        self._note(f"Candidate invited at {order.vendor}")
        return VendorRef(vendor=order.vendor, vendor_account_id=order.vendor_account_id, ref=invitation.vendor_ref)

    async def _next_vendor_status(self, vendor_ref: VendorRef, poll_interval_seconds: float) -> VendorStatus | None:
        """Wait for the vendor's status (or revision) to change; None once the deadline has passed."""
        while self._time_left() > 0:
            reading = await self._wait_for_news(vendor_ref, poll_interval_seconds)
            if reading is None:
                return None
            if reading.status != VendorStatus.UNKNOWN and reading != self._known():
                self._record(reading)
                return reading.status
        return None

    def _known(self) -> StatusReading:
        assert self._state.vendor_status is not None
        return StatusReading(status=self._state.vendor_status, revision=self._state.vendor_revision)

    def _record(self, reading: StatusReading) -> None:
        self._state.vendor_status = reading.status
        self._state.vendor_revision = reading.revision

    def _extend_deadline(self, days: float) -> None:
        later = workflow.now() + timedelta(days=days)
        if self._state.deadline is None or later > self._state.deadline:
            self._state.deadline = later

    async def _wait_for_news(self, vendor_ref: VendorRef, poll_interval_seconds: float) -> StatusReading | None:
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
        try:
            done, _ = await workflow.wait([poll, hint], timeout=self._time_left(), return_when=asyncio.FIRST_COMPLETED)
            if poll in done:
                try:
                    reading = poll.result()
                    self._count_news("poll")
                    return reading
                except ActivityError as err:
                    if err.retry_state != RetryState.TIMEOUT:
                        return StatusReading(status=VendorStatus.FAILED)  # the vendor refused us
                # The polling budget is spent: until the deadline only a webhook can bring news.
                done, _ = await workflow.wait([hint], timeout=self._time_left())
        finally:
            await _stop(poll, hint)
        if hint not in done:
            return None
        self._unhandled_hints = 0
        self._count_news("webhook")
        return await self._read_status(vendor_ref)

    def _time_left(self) -> float:
        assert self._state.deadline is not None
        return max(0.0, (self._state.deadline - workflow.now()).total_seconds())

    async def _read_status(self, vendor_ref: VendorRef) -> StatusReading:
        try:
            return await workflow.execute_activity_method(OrderActivities.get_vendor_status, vendor_ref, **VENDOR_CALL)
        except ActivityError as err:
            self._note(f"Vendor status could not be read: {_reason(err)}")
            return StatusReading(status=VendorStatus.FAILED)

    async def _complete(self, vendor_ref: VendorRef, order: Order, *, revision: bool = False) -> OrderState:
        """Read the result, attach the report and post COMPLETED; a revision is posted again."""
        self._note("The vendor revised the result" if revision else "Candidate completed the assessment")
        try:
            result = await workflow.execute_activity_method(OrderActivities.get_vendor_result, vendor_ref, **VENDOR_CALL)
        except ActivityError as err:
            self._note(f"Result could not be read: {_reason(err)}")
            if revision:  # the result posted before stands
                return self._state
            return await self._finish(results.rejected(VendorStatus.FAILED), "The vendor's result could not be read")
        changed = result != self._state.result
        self._state.result = result
        if changed and not order.inline:  # SR refuses attachments on inline orders
            await self._move_report(vendor_ref, order)
        if not revision:
            return await self._finish(results.completed(result), "Result posted")
        if not changed and not self._state.under_review:
            self._note("The revised result is the same as the one posted")
            return self._state
        # A refused revision is noted; the result posted before stands.
        await self._tell_smartrecruiters(results.completed(result), progress=True)
        self._state.under_review = False
        if changed:
            self._state.revisions_posted += 1
        self._note("Revised result posted" if changed else "The result stands after the review")
        return self._state

    async def _move_report(self, vendor_ref: VendorRef, order: Order) -> None:
        """Attach the vendor's report to the profile; without it the result is still worth posting."""
        try:
            link = await workflow.execute_activity_method(
                OrderActivities.transfer_report,
                ReportTransfer(order_id=order.order_id, company_id=order.company_id, vendor=vendor_ref),
                schedule_to_close_timeout=timedelta(days=2),
                **SMARTRECRUITERS_CALL,
            )
        except ActivityError as err:
            self._note(f"Report could not be attached: {_reason(err)}")
            return
        self._state.report_url = link.url
        if link.url:
            self._note("Report attached to the candidate's profile")

    async def _withdraw(self, vendor_ref: VendorRef) -> None:
        try:
            await workflow.execute_activity_method(OrderActivities.cancel_invitation, vendor_ref, **CLEANUP_CALL)
        except ActivityError as err:
            self._note(f"Invitation could not be withdrawn at the vendor: {_reason(err)}")
            return
        self._state.vendor_status = VendorStatus.CANCELLED
        self._note("Invitation withdrawn at the vendor")

    async def _finish(self, update: ResultUpdate, note: str) -> OrderState:
        await self._tell_smartrecruiters(update)
        self._state.finished = True
        self._note(note)
        self._count_ending(update.status.value)
        if update.status == SrStatus.COMPLETED:
            _meter().create_histogram_timedelta("assessment_time_to_result", "From the order to its result posted at SR", "ms").record(
                workflow.now() - workflow.info().start_time, self._labels()
            )
        return self._state

    # --- metrics (replay-safe: the SDK records them only when the code runs for the first time) ---

    def _labels(self) -> dict[str, str]:
        return {"vendor": self._state.order.vendor}

    def _count_news(self, source: str) -> None:
        """How the order learnt of a vendor change: a webhook, or the polling fallback."""
        _meter().create_counter("assessment_vendor_news", "Vendor status changes noticed, by how").add(1, self._labels() | {"source": source})

    def _count_ending(self, how: str) -> None:
        _meter().create_counter("assessment_orders_ended", "Orders ended, by how SR saw them end").add(1, self._labels() | {"ending": how})

    async def _tell_smartrecruiters(self, update: ResultUpdate, *, progress: bool = False) -> None:
        """Post an update to SR. A refused progress update is noted and the order goes on; a
        refused final update fails the order, so operators see it in the Temporal UI."""
        try:
            await workflow.execute_activity_method(
                OrderActivities.update_smartrecruiters,
                SrUpdateRequest(order_id=self._state.order.order_id, company_id=self._state.order.company_id, update=update),
                **SMARTRECRUITERS_CALL,
            )
        except ActivityError as err:
            self._note(f"SmartRecruiters refused {update.status.value}: {_reason(err)}")
            if progress:
                return
            raise
        self._state.sr_status = update.status
        self._set_status(update.status.value)
        self._note(f"SmartRecruiters shows {update.status.value}")

    def _set_status(self, status: str) -> None:
        # Orders started without our search attributes (Temporal's time-skipping test server
        # cannot register them) are not given them later: the upsert would be refused.
        if workflow.info().typed_search_attributes.get(visibility.ORDER_STATUS) is not None:
            workflow.upsert_search_attributes([visibility.ORDER_STATUS.value_set(status)])

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


def _meter():
    return workflow.metric_meter()


async def _stop(*waits: asyncio.Future) -> None:
    """Cancel what lost a race, and collect it so its cancellation is not reported as an error."""
    for wait in waits:
        wait.cancel()
        with contextlib.suppress(ActivityError, asyncio.CancelledError):
            await wait


def _reason(err: ActivityError) -> str:
    """The peer's failure in a line for the timeline (our peer errors never carry PII)."""
    return str(err.cause) if err.cause else str(err)
