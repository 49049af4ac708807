"""Orders SR refuses us for (the company is not connected at SR, or was disconnected there), on
Temporal's time-skipping test server: days of refusals run in seconds.

SR refusing us for the company (a 403, or our company's credentials refused at SR's token
endpoint; smartrecruiters/client.py AccessRefused) says nothing about the update: a progress
update is noted and the order goes on; a final one is tried again by one retrying activity until
the order's give-up time, then the order ends UNDELIVERED with its result kept for a repost.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from orders.models import REPAIR_REFUSED, OrderState, Repair, SrStatus, VendorStatus
from peers import PeerError
from smartrecruiters.client import PEER, AccessRefused
from tests.support.temporal_test_server import result_of, time_skipping
from tests.workflows.test_order_workflow import Peers, RecordingSmartRecruiters, an_order, start
from workflows.order import AssessmentOrderWorkflow

REFUSALS = {
    # SR answers 403 to the update: the company is not connected at SR.
    "403": lambda: AccessRefused(
        PEER, "result update answered HTTP 403", status=403, retryable=False
    ),
    # SR's token endpoint refuses the company's credentials (disconnected at SR alone).
    "credentials": lambda: AccessRefused(
        PEER, "SmartRecruiters refused our client credentials", status=401
    ),
}


@pytest.fixture
async def env():
    async with time_skipping() as environment:
        yield environment


@dataclass
class RefusingSmartRecruiters(RecordingSmartRecruiters):
    """SR that refuses us for the company (`refusing`, one of REFUSALS) until told otherwise."""

    refusing: str | None = None
    refused: int = 0

    async def patch_result(
        self, order_id: str, patch: dict, callback_url: str | None = None
    ) -> None:
        if self.refusing is not None:
            self.refused += 1
            raise REFUSALS[self.refusing]()
        await super().patch_result(order_id, patch)

    async def upload_attachment(
        self,
        order_id: str,
        filename: str,
        content: bytes,
        content_type: str,
        callback_url: str | None = None,
    ) -> str:
        if self.refusing is not None:
            raise REFUSALS[self.refusing]()
        return await super().upload_attachment(
            order_id, filename, content, content_type, callback_url
        )


async def _run(env, peers: Peers, order, script) -> tuple[OrderState, Sequence[HistoryEvent]]:
    task_queue = str(uuid.uuid4())
    async with peers.worker(env, task_queue):
        handle = await start(env, order, task_queue)
        await script(handle)
        state = await result_of(env, handle)
        return state, (await handle.fetch_history()).events


def _activities(events: Sequence[HistoryEvent], name: str) -> int:
    return sum(
        1
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == name
    )


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
async def test_sr_refusing_us_for_days_delays_the_result_until_sr_listens_again(env, refusal):
    sr = RefusingSmartRecruiters(refusing=refusal)
    peers = Peers(sr=sr)

    async def sr_listens_after_three_days(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=2))
        peers.vendor.status = VendorStatus.COMPLETED
        await env.sleep(timedelta(days=3))
        # Meanwhile an operator's repair is refused with the reason, not queued behind the wait.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                AssessmentOrderWorkflow.cancel_order,
                Repair(operator="ops.ann", reason="Trying a cancel"),
            )
        assert (
            isinstance(refused.value.cause, ApplicationError)
            and refused.value.cause.type == REPAIR_REFUSED
        )
        assert refused.value.cause.message.startswith(
            "SmartRecruiters refuses us for this company; the order tries its update again until"
        )
        sr.refusing = None

    state, events = await _run(
        env, peers, an_order(sr_refusal_give_up_days=7), sr_listens_after_three_days
    )

    assert peers.sr.statuses == ["COMPLETED"]  # PENDING was refused and not tried again
    assert (
        state.sr_status == SrStatus.COMPLETED
        and state.undelivered is None
        and state.sr_refusing_until is None
    )
    assert peers.sr.patches[-1]["score"] == {"raw": 83, "min": 0, "max": 100}
    notes = [entry.what for entry in state.timeline]
    assert any(
        note.startswith("SmartRecruiters refused our status update PENDING for this company (")
        for note in notes
    )
    assert any(
        note.startswith(
            "SmartRecruiters refuses us for this company: COMPLETED is tried again until"
        )
        for note in notes
    )
    assert any(
        "refused the report's move to the candidate's profile for this company" in note
        for note in notes
    )  # refused too; the result goes on
    # Three days of tries (about hourly), yet one retrying activity in the history: it stays small.
    assert sr.refused > 60
    assert _activities(events, "update_smartrecruiters_once_it_listens") == 1
    assert len(events) < 100, len(events)


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
async def test_sr_refusing_us_past_the_give_up_time_ends_the_order_undelivered_with_its_result_kept(
    env, refusal
):
    peers = Peers(sr=RefusingSmartRecruiters(refusing=refusal))

    async def candidate_completes(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=2))
        peers.vendor.status = VendorStatus.COMPLETED

    state, events = await _run(env, peers, an_order(sr_refusal_give_up_days=2), candidate_completes)

    # The workflow completed (no failure that looks like a bug), telling how it ended.
    assert events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    assert peers.sr.statuses == [] and state.sr_status is None
    assert state.finished and state.undelivered == SrStatus.COMPLETED
    assert state.result is not None and state.result.score == 83.3333  # kept for a repost
    assert state.timeline[-1].what == (
        "Gave up telling SmartRecruiters COMPLETED: it refused us for this company for 2 days. "
        "Once it listens again, the repair repost-result posts the result kept here"
    )
    # Given up two days after the refusal: Temporal ends the retries once the next one would
    # come later than that, so up to one retry interval (an hour at most) before.
    refused_at = next(
        e.at
        for e in state.timeline
        if e.what.startswith("SmartRecruiters refuses us for this company")
    )
    assert timedelta(days=2, hours=-1) <= state.timeline[-1].at - refused_at <= timedelta(days=2)
    assert _activities(events, "update_smartrecruiters_once_it_listens") == 1 and len(events) < 100


async def test_an_undelivered_order_without_a_result_says_reset_repairs_it(env):
    peers = Peers(sr=RefusingSmartRecruiters(refusing="403"))

    async def declines(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=2))
        peers.vendor.status = VendorStatus.DECLINED

    state, _ = await _run(env, peers, an_order(sr_refusal_give_up_days=1), declines)
    assert state.undelivered == SrStatus.REJECTED and state.result is None
    assert state.timeline[-1].what.endswith(
        "Once it listens again, the repair reset posts it again"
    )


async def test_sr_listening_again_but_refusing_the_update_itself_still_fails_the_order(env):
    """After SR refused us for the company, a 400 on the update is a verdict on it: the order
    fails as before (an operator's `reset` posts it after a fix)."""

    @dataclass
    class RefusesTheContentNext(RefusingSmartRecruiters):
        async def patch_result(
            self, order_id: str, patch: dict, callback_url: str | None = None
        ) -> None:
            if self.refusing is None and patch["status"] == "COMPLETED":
                raise PeerError(
                    "SmartRecruiters",
                    "result update answered HTTP 400",
                    status=400,
                    retryable=False,
                )
            await super().patch_result(order_id, patch, callback_url)

    sr = RefusesTheContentNext()
    peers = Peers(sr=sr)

    async def refused_then_bad(handle: WorkflowHandle):
        await env.sleep(timedelta(hours=2))
        sr.refusing = "403"
        peers.vendor.status = VendorStatus.COMPLETED
        await env.sleep(timedelta(hours=5))
        sr.refusing = None

    with pytest.raises(WorkflowFailureError):
        await _run(env, peers, an_order(sr_refusal_give_up_days=7), refused_then_bad)
    assert peers.sr.statuses == ["PENDING"]
