"""Operators' repairs of an order (workflow updates with validators),
on the time-skipping server."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from orders.models import DeadlineExtension, Repair, VendorStatus
from tests.workflows.test_order_workflow import Peers, ScriptedVendor, an_order, run_order
from vendors.base import Capabilities, OrderCallback
from workflows.order import AssessmentOrderWorkflow

WHO = dict(operator="ops.ann", reason="Candidate asked support for more time (ticket 4711)")


def extension(days: float) -> DeadlineExtension:
    return DeadlineExtension(days=days, **WHO)


def repair(reason: str = WHO["reason"]) -> Repair:
    return Repair(operator=WHO["operator"], reason=reason)


async def completes_hours_later(env, peers: Peers) -> None:
    """Three hours in, the candidate completes; three hours on, the order has its result."""
    await env.sleep(timedelta(hours=3))
    peers.vendor.status = VendorStatus.COMPLETED
    await env.sleep(timedelta(hours=3))


async def refusal(call) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await call
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


async def test_extending_the_deadline_delays_the_expiry(env):
    peers = Peers()
    outcomes = []

    async def extend_after_a_day(handle: WorkflowHandle):
        await env.sleep(timedelta(days=1))
        outcomes.append(
            await handle.execute_update(AssessmentOrderWorkflow.extend_deadline, extension(2))
        )

    state = await run_order(env, peers, an_order(deadline_days=3), extend_after_a_day)

    assert peers.sr.statuses == ["PENDING", "EXPIRED"]
    started = state.order.received_at
    assert timedelta(days=5) <= state.timeline[-1].at - started < timedelta(days=5, minutes=1)
    [outcome] = outcomes
    assert outcome.repair == "extend-deadline" and outcome.deadline == state.deadline
    assert outcome.note.startswith("Repair by ops.ann: deadline extended by 2 days to ")
    assert outcome.note.endswith("(Candidate asked support for more time (ticket 4711))")
    assert outcome.note in [entry.what for entry in state.timeline]


async def test_extending_the_deadline_is_refused_once_the_order_has_a_result(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True))
    refusals = []

    async def completes_then_extend(handle: WorkflowHandle):
        await completes_hours_later(env, peers)
        refusals.append(
            await refusal(
                handle.execute_update(AssessmentOrderWorkflow.extend_deadline, extension(1))
            )
        )
        refusals.append(
            await refusal(handle.execute_update(AssessmentOrderWorkflow.cancel_order, repair()))
        )
        refusals.append(
            await refusal(
                handle.execute_update(AssessmentOrderWorkflow.resend_invitation, repair())
            )
        )

    state = await run_order(env, peers, an_order(), completes_then_extend)

    assert refusals == ["The order has finished (SmartRecruiters shows COMPLETED)"] * 3
    assert not any(entry.what.startswith("Repair by") for entry in state.timeline)


async def test_cancelling_withdraws_the_invitation_and_rejects_with_the_operators_reason(env):
    peers = Peers()
    outcomes = []

    async def cancel_after_two_hours(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=2))
        outcomes.append(
            await handle.execute_update(
                AssessmentOrderWorkflow.cancel_order,
                repair("The candidate withdrew their application"),
            )
        )

    state = await run_order(env, peers, an_order(deadline_days=7), cancel_after_two_hours)

    assert peers.sr.statuses == ["PENDING", "REJECTED"]
    assert peers.sr.patches[-1]["summary"] == "The candidate withdrew their application"
    assert peers.vendor.cancellations == 1
    assert state.finished and state.vendor_status == VendorStatus.CANCELLED
    [outcome] = outcomes
    assert outcome.sr_status == "REJECTED"
    assert outcome.note == (
        "Repair by ops.ann: order cancelled, SmartRecruiters told REJECTED (The candidate "
        "withdrew their application)"
    )
    assert state.timeline[-1].at - state.order.received_at < timedelta(hours=3)


async def test_reposting_reads_the_result_again_and_posts_completed_again(env):
    peers = Peers(vendor=ScriptedVendor(revisable=True))
    outcomes = []

    async def completes_then_repost(handle: WorkflowHandle):
        await completes_hours_later(env, peers)
        peers.vendor.outcome = (
            "failed"  # the mapping fixed: the vendor's result now reads otherwise
        )
        outcomes.append(
            await handle.execute_update(
                AssessmentOrderWorkflow.repost_result, repair("Score label mapping fixed")
            )
        )

    state = await run_order(env, peers, an_order(), completes_then_repost)

    assert peers.sr.statuses == ["PENDING", "COMPLETED", "COMPLETED"]
    assert (
        peers.sr.patches[1]["scoreLabel"] == "Passed"
        and peers.sr.patches[2]["scoreLabel"] == "Failed"
    )
    assert peers.sr.uploads == 2  # the changed result's report is attached again
    assert state.result is not None and state.result.outcome == "failed"
    [outcome] = outcomes
    assert (
        outcome.note
        == "Repair by ops.ann: result read again and re-posted (Score label mapping fixed)"
    )


async def test_repairs_that_make_no_sense_while_pending_are_refused(env):
    peers = Peers()
    refusals = []

    async def ask(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=1))
        refusals.append(
            await refusal(handle.execute_update(AssessmentOrderWorkflow.repost_result, repair()))
        )
        # This vendor offers no resend: accepted, then failed with the vendor's answer.
        refusals.append(
            await refusal(
                handle.execute_update(AssessmentOrderWorkflow.resend_invitation, repair())
            )
        )
        peers.vendor.status = VendorStatus.STARTED
        await env.sleep(timedelta(hours=2))
        refusals.append(
            await refusal(
                handle.execute_update(AssessmentOrderWorkflow.resend_invitation, repair())
            )
        )
        peers.vendor.status = VendorStatus.DECLINED

    state = await run_order(env, peers, an_order(), ask)

    assert refusals[0] == "The order has no result to re-post"
    assert (
        refusals[1] == "The sandbox vendor refused our request to send the invitation again "
        "(it offers no resend through this integration)"
    )
    assert refusals[2] == (
        "The candidate is past the invitation (vendor status STARTED); there is nothing to resend"
    )
    assert peers.sr.statuses == ["PENDING", "IN_PROGRESS", "REJECTED"]
    assert [e.what for e in state.timeline if e.what.startswith("Repair by")] == [
        "Repair by ops.ann failed. The sandbox vendor refused our request to send the invitation "
        "again (it offers no resend through this integration)"
    ]


@dataclass
class ResendingVendor(ScriptedVendor):
    capabilities: Capabilities = replace(ScriptedVendor.capabilities, resend=True)
    resends: list[OrderCallback] = field(default_factory=list)

    async def resend_invitation(self, ref: str, callback: OrderCallback) -> None:
        self.resends.append(callback)


async def test_resending_asks_a_vendor_that_can_to_send_the_invitation_again(env):
    vendor = ResendingVendor()
    peers = Peers(vendor=vendor)
    outcomes = []

    async def resend_then_complete(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=1))
        outcomes.append(
            await handle.execute_update(
                AssessmentOrderWorkflow.resend_invitation, repair("Candidate found no email")
            )
        )
        peers.vendor.status = VendorStatus.COMPLETED

    order = an_order()
    await run_order(env, peers, order, resend_then_complete)

    [callback] = vendor.resends  # the order's own, for a vendor that takes its settings again
    assert callback == peers.callback_for("sandbox", order.order_id)
    assert peers.sr.statuses == ["PENDING", "COMPLETED"]
    assert (
        outcomes[0].note
        == "Repair by ops.ann: invitation sent again by the vendor (Candidate found no email)"
    )


@pytest.mark.parametrize(
    ("operator", "reason"),
    [
        ("ops ann", "fine reason"),
        ("ops", "x"),
        ("ops", "line\nbreak"),
        ("ops", "<b>bold</b>"),
        ("o" * 65, "fine reason"),
    ],
)
def test_operator_and_reason_are_short_plain_text(operator, reason):
    with pytest.raises(ValidationError):
        Repair(operator=operator, reason=reason)


def test_an_extension_adds_some_days():
    with pytest.raises(ValidationError):
        DeadlineExtension(days=0, **WHO)
