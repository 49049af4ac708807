"""Record the histories the replay test replays: real orders on an embedded stack, one per path
through `AssessmentOrderWorkflow`, each written to tests/replay/histories/<path>.json.

    python -m tests.replay.record                        # every path that has no history yet
    python -m tests.replay.record inline-order           # only these paths (if they have none yet)
    python -m tests.replay.record --change remind-later  # every path, as <path>@remind-later.json
    python -m tests.replay.record --list                 # the paths, and which are recorded

A committed history stands for the orders a released version of the workflow has in flight: it is
never recorded again to make a failing replay pass. A path new to the recorder gets its history;
a change behind `workflow.patched("remind-later")` adds a second set, `--change remind-later`,
beside the first (docs/workflow-changes.md). The stack runs with short settings (polls every few
seconds, deadlines and revision windows of seconds): every path takes about a minute.

Payloads in the histories are encrypted with the embedded payload key (public, for development
only); the replay test checks that none is in plain text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateStage
from temporalio.worker import Replayer

from admin.models import RepairRequest
from admin.repairs import RepairKind, repair_order
from embedded import Stack
from orders.activity_names import POST_TO_SMARTRECRUITERS
from orders.models import DeadlineExtension, Repair, RepairOutcome
from settings import Settings
from simulators.checkr import CheckrSimConfig, create_app as checkr_app
from store import Store
from temporal_client import connect
from tests.support.connect import company_of_new_vendor_account, register_partner_configuration
from tests.support.http import client as http_client
from tests.support.order_workflows import (
    companies_of_orders,
    order_reference_of,
    order_workflow_id,
    resets,
    workflow_becomes,
)
from tests.support.servers import order_path, serve
from tests.support.waiting import eventually
from tests.support.world import World
from workflows.order import AssessmentOrderWorkflow

HISTORIES = Path(__file__).parent / "histories"

# Short enough that an order runs into them within seconds (in days, as the settings are).
SECOND = 1 / 86400
EXPIRING_PACKAGE = "logic-quiz"
SETTINGS: dict[str, Any] = dict(
    poll_interval_seconds=3,
    inline_order_timeout_seconds=15,
    package_deadline_days={EXPIRING_PACKAGE: 8 * SECOND},
    # Checkr: the revision watch ends 12 s after the result, or 20 s after a dispute.
    result_revision_days=12 * SECOND,
    report_wait_days=20 * SECOND,
    revision_poll_interval_seconds=4,
    # An order SR refuses us for gives up 10 s after the refusal of its final update.
    sr_refusal_give_up_days=10 * SECOND,
)
CHECKR_KEY = "replay-checkr-key"
CHECKR_PACKAGE = "tasker_standard"
# The sandbox vendor accepts names of at most 100 characters; SR has no such limit.
REFUSED_FIRST_NAME = "Replay" * 20


class Orders(World):
    """Real orders through the SR simulator, driven at the vendors (the e2e tests' World,
    with Temporal and Checkr)."""

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient,
        temporal: Client,
        checkr_url: str,
        checkr_company: str,
    ) -> None:
        super().__init__(settings, http)
        self.temporal = temporal
        self.checkr_url, self.checkr_company = checkr_url, checkr_company

    async def place(
        self,
        package_id: str = "skills-fullstack",
        *,
        kind: str = "manual",
        company_id: str | None = None,
        first_name: str = "Replay",
        order_id: str | None = None,
    ) -> dict:
        """Order `package_id` for a new candidate;
        returns SR's order (order_id, partner_status, …)."""
        suffix = uuid.uuid4().hex[:8]
        candidate = {
            "first_name": first_name,
            "last_name": f"Candidate {suffix}",
            "email": f"replay-{suffix}@example.com",
        }
        if company_id:
            candidate["company_id"] = company_id
        created = (
            (await self.http.post(f"{self.sr}/__sim/candidates", json=candidate))
            .raise_for_status()
            .json()
        )
        order = {"candidate_id": created["id"], "package_id": package_id, "kind": kind} | (
            {"order_id": order_id} if order_id else {}
        )
        placed = (
            (await self.http.post(f"{self.sr}/__sim/orders", json=order)).raise_for_status().json()
        )
        if company_id:
            companies_of_orders[placed["order_id"]] = company_id
        return placed

    async def sr_shows(
        self, order_id: str, status: str, *, summary_contains: str = "", timeout: float = 30
    ) -> dict:
        async def probe():
            order = await self.sr_order(order_id)
            result = order["result"]
            return (
                order
                if result.get("status") == status
                and summary_contains in (result.get("summary") or "")
                else None
            )

        return await eventually(
            probe,
            timeout=timeout,
            what=f"SR to show {status} {summary_contains!r} for order {order_id}",
        )

    async def at_checkr(self, path: str, **body) -> dict:
        return (
            (await self.http.post(f"{self.checkr_url}/_sim/{path}", json=body or None))
            .raise_for_status()
            .json()
        )

    async def checkr_invitation(self, order_id: str) -> str:
        state = await self.temporal.get_workflow_handle(order_workflow_id(order_id)).query(
            AssessmentOrderWorkflow.state
        )
        return state.invitation.vendor_ref.split(":")[1]


# --- the paths -------------------------------------------------------------------------------
# Each drives one order down its path and returns its order id once the workflow has taken it.


async def completed_via_webhook(o: Orders) -> str:
    order_id = (await o.place())["order_id"]
    await o.sr_shows(order_id, "PENDING")
    await o.at_vendor("complete", order_id, score=80)
    await o.sr_shows(order_id, "COMPLETED")
    return order_id


async def completed_via_polling(o: Orders) -> str:
    await o.webhook_mode("drop")
    try:
        order_id = (await o.place())["order_id"]
        await o.sr_shows(order_id, "PENDING")
        await o.at_vendor("complete", order_id, score=70)
        await o.sr_shows(order_id, "COMPLETED")
    finally:
        await o.webhook_mode("deliver")
    return order_id


async def in_progress_then_completed(o: Orders) -> str:
    order_id = (await o.place())["order_id"]
    await o.sr_shows(order_id, "PENDING")
    await o.at_vendor("start", order_id)
    await o.sr_shows(order_id, "IN_PROGRESS")
    await o.at_vendor("complete", order_id, score=90)
    await o.sr_shows(order_id, "COMPLETED")
    return order_id


async def candidate_declined(o: Orders) -> str:
    order_id = (await o.place())["order_id"]
    await o.sr_shows(order_id, "PENDING")
    await o.at_vendor("decline", order_id)
    await o.sr_shows(order_id, "REJECTED")
    return order_id


async def expired_at_deadline(o: Orders) -> str:
    order_id = (await o.place(EXPIRING_PACKAGE))["order_id"]
    await o.sr_shows(order_id, "EXPIRED", timeout=60)
    return order_id


async def cancelled_by_operator(o: Orders) -> str:
    order_id = (await o.place())["order_id"]
    await o.sr_shows(order_id, "PENDING")
    await o.temporal.get_workflow_handle(order_workflow_id(order_id)).cancel()
    await o.sr_shows(order_id, "REJECTED")
    return order_id


async def cancelled_while_telling_smartrecruiters(o: Orders) -> str:
    """SR answers 503 to the order's first updates; the workflow is cancelled while PENDING is
    tried again: the call is abandoned, the invitation withdrawn, and SR told REJECTED once it
    answers."""
    order_id = str(uuid.uuid4())
    await o.sr_refuses(order_id, 503, count=5)
    await o.place(order_id=order_id)
    await _deadline_set(o, order_id)  # set before SR is told PENDING
    await o.temporal.get_workflow_handle(order_workflow_id(order_id)).cancel()
    await o.sr_shows(order_id, "REJECTED", timeout=60)
    return order_id


async def repaired_extended_then_cancelled(o: Orders) -> str:
    order_id = (await o.place())["order_id"]
    await o.sr_shows(order_id, "PENDING")
    handle = o.temporal.get_workflow_handle(order_workflow_id(order_id))
    await _deadline_set(o, order_id)
    await handle.execute_update(
        AssessmentOrderWorkflow.extend_deadline,
        DeadlineExtension(operator="ops.ann", reason="Recorded repair", days=1),
    )
    await handle.execute_update(
        AssessmentOrderWorkflow.cancel_order,
        Repair(operator="ops.ann", reason="Recorded cancellation"),
    )
    await o.sr_shows(order_id, "REJECTED")
    return order_id


async def cancelled_with_repair_waiting(o: Orders) -> str:
    """An operator's cancel_order waits for the main loop while the cancelled workflow tells SR
    REJECTED (SR answering 503 meanwhile); the order ends with the repair still waiting."""
    order_id = (await o.place())["order_id"]
    await o.sr_shows(order_id, "PENDING")
    await _deadline_set(o, order_id)
    await o.sr_refuses(order_id, 503, count=3)  # REJECTED, tried again for some seconds
    handle = o.temporal.get_workflow_handle(order_workflow_id(order_id))
    await handle.cancel()
    await handle.start_update(
        AssessmentOrderWorkflow.cancel_order,
        Repair(operator="ops.ann", reason="Recorded cancellation"),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    await o.sr_shows(order_id, "REJECTED", timeout=60)
    return order_id


async def failed_with_repair_waiting(o: Orders) -> str:
    """An operator's repost-result waits for the main loop while the report's upload is tried
    again (SR answering 503); SR then refuses COMPLETED, and the order fails with the repair
    still waiting."""
    order_id = (await o.place())["order_id"]
    await o.sr_shows(order_id, "PENDING")
    await o.sr_refuses(order_id, 503, count=3, method="POST", path=order_id)  # the report
    await o.sr_refuses(order_id, 400, method="PATCH", path=order_id)  # the final result
    await o.at_vendor("complete", order_id, score=75)
    handle = o.temporal.get_workflow_handle(order_workflow_id(order_id))

    async def result_read() -> bool:
        return (await handle.query(AssessmentOrderWorkflow.state)).result is not None

    await eventually(result_read, timeout=30, what="the order's result")
    await handle.start_update(
        AssessmentOrderWorkflow.repost_result,
        Repair(operator="ops.ann", reason="Recorded repost"),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    return order_id


async def vendor_refused_invitation(o: Orders) -> str:
    order_id = (await o.place(first_name=REFUSED_FIRST_NAME))["order_id"]
    await o.sr_shows(order_id, "REJECTED")
    return order_id


async def inline_order(o: Orders) -> str:
    placed = await o.place(kind="inline")
    assert placed["partner_status"] == 200, placed
    await o.at_vendor("complete", placed["order_id"], score=100)
    await o.sr_shows(placed["order_id"], "COMPLETED")
    return placed["order_id"]


async def inline_order_vendor_refused(o: Orders) -> str:
    placed = await o.place(kind="inline", first_name=REFUSED_FIRST_NAME)
    assert placed["partner_status"] == 422, placed
    await o.sr_shows(placed["order_id"], "REJECTED")
    return placed["order_id"]


async def report_refused_by_smartrecruiters(o: Orders) -> str:
    order_id = (await o.place())["order_id"]
    await o.sr_shows(order_id, "PENDING")
    await o.sr_refuses(order_id, 400, method="POST", path=order_id)  # the report's upload
    await o.at_vendor("complete", order_id, score=60)
    await o.sr_shows(order_id, "COMPLETED")
    return order_id


async def result_refused_by_smartrecruiters(o: Orders) -> str:
    order_id = (await o.place())["order_id"]
    await o.sr_shows(order_id, "PENDING")
    await o.at_vendor("start", order_id)
    await o.sr_shows(order_id, "IN_PROGRESS")
    await o.sr_refuses(order_id, 400, method="PATCH", path=order_id)  # the final result
    await o.at_vendor("complete", order_id, score=75)
    return order_id


async def reset_after_result_refused(o: Orders) -> str:
    """SR refuses the final COMPLETED once (the workflow fails); an operator resets the order, and
    its new run (the history recorded) posts COMPLETED again."""
    order_id = await result_refused_by_smartrecruiters(o)
    await workflow_becomes(o.temporal, order_id, WorkflowExecutionStatus.FAILED, timeout=60)
    outcome = await _repair(o, order_id, RepairKind.RESET, "Result refused once, reset")
    assert outcome.run_id and outcome.note.startswith(
        "Reset by ops.ann: order reset to just before posting COMPLETED"
    ), outcome
    await o.sr_shows(order_id, "COMPLETED")
    await _current_run_is(o, order_id, outcome.run_id)
    return order_id


async def refused_until_smartrecruiters_listens(o: Orders) -> str:
    """SR refuses us for the company (403) from the start: PENDING, the report's upload, COMPLETED
    and two of its tries again; the third try is taken."""
    order_id = str(uuid.uuid4())
    await o.sr_refuses(order_id, 403, count=5, method=None)
    await o.place(order_id=order_id)
    await _deadline_set(o, order_id)  # past the refused PENDING
    await o.at_vendor("complete", order_id, score=65)
    await o.sr_shows(order_id, "COMPLETED")
    return order_id


async def undelivered_after_sr_refusals(o: Orders) -> str:
    """SR refuses us for the company from the start until the order gives up: UNDELIVERED."""
    order_id = str(uuid.uuid4())
    await o.sr_refuses(order_id, 403, count=100_000, method=None)
    await o.place(order_id=order_id)
    await _deadline_set(o, order_id)
    await o.at_vendor("complete", order_id, score=55)
    await workflow_becomes(o.temporal, order_id, WorkflowExecutionStatus.COMPLETED, timeout=60)
    state = await o.temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )
    assert state.undelivered is not None and state.result is not None, state
    return order_id


async def reposted_after_undelivered(o: Orders) -> str:
    """An UNDELIVERED order's result re-posted once SR listens again: the new run (the history
    recorded) reads the result again and posts COMPLETED."""
    order_id = await undelivered_after_sr_refusals(o)
    (
        await o.http.delete(
            f"{o.sr}/__sim/faults", params={"path_contains": f"/orders/{order_id}/results"}
        )
    ).raise_for_status()
    outcome = await _repair(o, order_id, RepairKind.REPOST_RESULT, "SR listens again, reposted")
    assert (
        outcome.run_id
        and "order reset to just before reading the result at the vendor" in outcome.note
    ), outcome
    await _current_run_is(o, order_id, outcome.run_id)
    await o.sr_shows(order_id, "COMPLETED")
    return order_id


async def invitation_resent(o: Orders) -> str:
    order_id = (await o.place())["order_id"]
    await o.sr_shows(order_id, "PENDING")
    await _deadline_set(o, order_id)
    outcome = await _repair(o, order_id, RepairKind.RESEND_INVITATION, "Candidate lost the email")
    assert "invitation sent again by the vendor" in outcome.note, outcome
    await o.at_vendor("complete", order_id, score=85)
    await o.sr_shows(order_id, "COMPLETED")
    return order_id


async def reposted_after_completion(o: Orders) -> str:
    """A completed order's result re-posted (`repost-result` on the ended workflow): a reset to
    before the result was read; the new run (the history recorded) reads it and posts it again."""
    order_id = await completed_via_webhook(o)
    await workflow_becomes(o.temporal, order_id, WorkflowExecutionStatus.COMPLETED, timeout=60)
    outcome = await _repair(o, order_id, RepairKind.REPOST_RESULT, "Result reading fixed, reposted")
    assert (
        outcome.run_id
        and "order reset to just before reading the result at the vendor" in outcome.note
    ), outcome
    await _current_run_is(o, order_id, outcome.run_id)
    await workflow_becomes(o.temporal, order_id, WorkflowExecutionStatus.COMPLETED, timeout=60)
    # SR showed COMPLETED already: the new run's own post is in its history, after the reset.
    recorded = await resets(o.temporal, order_id, outcome.run_id)
    assert recorded, f"order {order_id}: run {outcome.run_id} has no reset in its history"
    events = (
        await o.temporal.get_workflow_handle(
            order_workflow_id(order_id), run_id=outcome.run_id
        ).fetch_history()
    ).events
    posts = [
        e
        for e in events
        if e.event_id > recorded[0].event_id
        and e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == POST_TO_SMARTRECRUITERS
    ]
    assert posts, f"order {order_id}: the new run posted nothing to SR"
    return order_id


async def checkr_result_revised(o: Orders) -> str:
    """Consider → disputed (under review at SR) → revised to Clear; the watch then runs out."""
    order_id, report = await _checkr_result(o, "consider")
    await o.at_checkr(f"reports/{report}/dispute")
    await o.sr_shows(order_id, "COMPLETED", summary_contains="disputed")
    await o.at_checkr(f"reports/{report}/complete", result="clear")
    await eventually(lambda: _label_is(o, order_id, "Clear"), what="the revised result at SR")
    return order_id


async def checkr_cancelled_while_watching(o: Orders) -> str:
    order_id, _ = await _checkr_result(o, "clear")
    await o.temporal.get_workflow_handle(order_workflow_id(order_id)).cancel()
    return order_id


async def checkr_expired_at_vendor(o: Orders) -> str:
    order_id = (await o.place(CHECKR_PACKAGE, company_id=o.checkr_company))["order_id"]
    await o.sr_shows(order_id, "PENDING")
    await o.at_checkr(f"invitations/{await o.checkr_invitation(order_id)}/expire")
    await o.sr_shows(order_id, "EXPIRED")
    return order_id


async def _checkr_result(o: Orders, result: str) -> tuple[str, str]:
    """A Checkr order whose candidate completed the invitation, with its report's `result` posted
    to SR (COMPLETED); the order's id and the report's."""
    order_id = (await o.place(CHECKR_PACKAGE, company_id=o.checkr_company))["order_id"]
    await o.sr_shows(order_id, "PENDING")
    invitation = await o.checkr_invitation(order_id)
    report = (await o.at_checkr(f"invitations/{invitation}/complete"))["report_id"]
    await o.at_checkr(f"reports/{report}/complete", result=result)
    await o.sr_shows(order_id, "COMPLETED")
    return order_id, report


async def _label_is(o: Orders, order_id: str, label: str) -> bool:
    return (await o.sr_order(order_id))["result"].get("scoreLabel") == label


async def _deadline_set(o: Orders, order_id: str) -> None:
    """Until the order is invited and has its deadline: operators' repairs are refused before."""
    handle = o.temporal.get_workflow_handle(order_workflow_id(order_id))

    async def deadline_set() -> bool:
        return (await handle.query(AssessmentOrderWorkflow.state)).deadline is not None

    await eventually(deadline_set, timeout=30, what="the order's deadline")


async def _repair(o: Orders, order_id: str, kind: RepairKind, reason: str) -> RepairOutcome:
    """An operator's repair, as the admin API and the CLI make it (`admin/repairs.py`)."""
    return await repair_order(
        o.temporal,
        o.settings,
        order_reference_of(order_id),
        kind,
        RepairRequest(operator="ops.ann", reason=reason),
    )


async def _current_run_is(o: Orders, order_id: str, run_id: str) -> None:
    current = (await o.temporal.get_workflow_handle(order_workflow_id(order_id)).describe()).run_id
    assert current == run_id, (
        f"order {order_id}: the current run is {current}, not the reset's {run_id}"
    )


@dataclass(frozen=True)
class OrderPath:
    drive: Callable[[Orders], Awaitable[str]]
    ends: WorkflowExecutionStatus
    what: str
    signalled: bool | None = None  # whether a vendor webhook must (True) or must not (False) appear
    alone: bool = False  # changes the sandbox vendor for every order: run before the others


PATHS: dict[str, OrderPath] = {
    "completed-via-webhook": OrderPath(
        completed_via_webhook,
        WorkflowExecutionStatus.COMPLETED,
        "the vendor's webhook brings the completion",
        signalled=True,
    ),
    "completed-via-polling": OrderPath(
        completed_via_polling,
        WorkflowExecutionStatus.COMPLETED,
        "webhooks lost: polling alone finds the completion",
        signalled=False,
        alone=True,
    ),
    "in-progress-then-completed": OrderPath(
        in_progress_then_completed, WorkflowExecutionStatus.COMPLETED, "IN_PROGRESS, then COMPLETED"
    ),
    "candidate-declined": OrderPath(
        candidate_declined, WorkflowExecutionStatus.COMPLETED, "the candidate declines: REJECTED"
    ),
    "expired-at-deadline": OrderPath(
        expired_at_deadline,
        WorkflowExecutionStatus.COMPLETED,
        "nothing by the deadline: last look, withdrawal, EXPIRED",
    ),
    "cancelled-by-operator": OrderPath(
        cancelled_by_operator,
        WorkflowExecutionStatus.CANCELED,
        "workflow cancelled while pending: withdrawal, REJECTED",
    ),
    "cancelled-while-telling-smartrecruiters": OrderPath(
        cancelled_while_telling_smartrecruiters,
        WorkflowExecutionStatus.CANCELED,
        "workflow cancelled while SR's PENDING is tried again: withdrawal, REJECTED",
    ),
    "repaired-extended-then-cancelled": OrderPath(
        repaired_extended_then_cancelled,
        WorkflowExecutionStatus.COMPLETED,
        "operator repairs: deadline extended, then cancelled (REJECTED with the reason)",
    ),
    "cancelled-with-repair-waiting": OrderPath(
        cancelled_with_repair_waiting,
        WorkflowExecutionStatus.CANCELED,
        "workflow cancelled while an operator's cancel_order waits: withdrawal, REJECTED, "
        "the repair refused as the order ends",
    ),
    "failed-with-repair-waiting": OrderPath(
        failed_with_repair_waiting,
        WorkflowExecutionStatus.FAILED,
        "SR refuses the final result while an operator's repost-result waits: the workflow "
        "fails, the repair refused as the order ends",
    ),
    "vendor-refused-invitation": OrderPath(
        vendor_refused_invitation,
        WorkflowExecutionStatus.COMPLETED,
        "the vendor refuses to invite: REJECTED",
    ),
    "inline-order": OrderPath(
        inline_order,
        WorkflowExecutionStatus.COMPLETED,
        "update-with-start answers with the link, then COMPLETED",
    ),
    "inline-order-vendor-refused": OrderPath(
        inline_order_vendor_refused,
        WorkflowExecutionStatus.COMPLETED,
        "update-with-start, the vendor refuses: the update fails, REJECTED",
    ),
    "report-refused-by-smartrecruiters": OrderPath(
        report_refused_by_smartrecruiters,
        WorkflowExecutionStatus.COMPLETED,
        "SR refuses the report's upload: COMPLETED without it",
    ),
    "result-refused-by-smartrecruiters": OrderPath(
        result_refused_by_smartrecruiters,
        WorkflowExecutionStatus.FAILED,
        "SR refuses the final result: the workflow fails",
    ),
    "reset-after-result-refused": OrderPath(
        reset_after_result_refused,
        WorkflowExecutionStatus.COMPLETED,
        "SR refuses the final result, an operator resets the failed order: the new run "
        "posts COMPLETED",
    ),
    "refused-until-smartrecruiters-listens": OrderPath(
        refused_until_smartrecruiters_listens,
        WorkflowExecutionStatus.COMPLETED,
        "SR refuses us for the company (403), then listens: COMPLETED taken on a later try",
    ),
    "undelivered-after-sr-refusals": OrderPath(
        undelivered_after_sr_refusals,
        WorkflowExecutionStatus.COMPLETED,
        "SR refuses us for the company until the order gives up: UNDELIVERED, result kept",
    ),
    "reposted-after-undelivered": OrderPath(
        reposted_after_undelivered,
        WorkflowExecutionStatus.COMPLETED,
        "repost-result on an UNDELIVERED order once SR listens: the new run posts COMPLETED",
    ),
    "invitation-resent": OrderPath(
        invitation_resent,
        WorkflowExecutionStatus.COMPLETED,
        "operator repair: the invitation resent while PENDING, then COMPLETED",
    ),
    "reposted-after-completion": OrderPath(
        reposted_after_completion,
        WorkflowExecutionStatus.COMPLETED,
        "repost-result on a completed order: the new run reads the result again and posts "
        "COMPLETED",
    ),
    "checkr-result-revised": OrderPath(
        checkr_result_revised,
        WorkflowExecutionStatus.COMPLETED,
        "Checkr: result, dispute, revised result, the watch runs out",
    ),
    "checkr-cancelled-while-watching": OrderPath(
        checkr_cancelled_while_watching,
        WorkflowExecutionStatus.CANCELED,
        "Checkr: result posted, cancelled while watching for revisions",
    ),
    "checkr-expired-at-vendor": OrderPath(
        checkr_expired_at_vendor,
        WorkflowExecutionStatus.COMPLETED,
        "Checkr expires the invitation: EXPIRED",
    ),
}


# --- recording -------------------------------------------------------------------------------


async def record(names: list[str], change: str | None, data_dir: Path) -> None:
    started = time.monotonic()
    with (
        serve(
            checkr_app(
                CheckrSimConfig(
                    api_key=CHECKR_KEY, max_webhooks=10, webhook_retry_delays=(0.5, 1.0, 2.0)
                )
            )
        ) as checkr_url,
        order_path(data_dir, **SETTINGS) as stack,
    ):
        print(
            f"stack up after {time.monotonic() - started:.0f} s; logs in {data_dir / 'logs'}",
            flush=True,
        )
        temporal = await connect(stack.settings)
        async with http_client(timeout=30) as http:
            company = (
                await _checkr_company(stack, http, checkr_url)
                if any(n.startswith("checkr-") for n in names)
                else ""
            )
            orders = Orders(stack.settings, http, temporal, checkr_url, company)
            # One at a time those that change the vendor for every order, then the rest at once.
            results = [
                await _outcome(_record_one(n, change, orders)) for n in names if PATHS[n].alone
            ]
            results += await asyncio.gather(
                *(_record_one(n, change, orders) for n in names if not PATHS[n].alone),
                return_exceptions=True,
            )
    failures = [r for r in results if r is not None]
    print(
        f"recorded {len(names) - len(failures)} of {len(names)} in "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    if failures:
        raise SystemExit(f"{len(failures)} path(s) failed: " + "; ".join(map(repr, failures)))


async def _outcome(recording: Awaitable[None]) -> BaseException | None:
    try:
        await recording
    except Exception as err:  # noqa: BLE001 - the outcome is reported, whatever it is
        return err
    return None


async def _checkr_company(stack: Stack, http: httpx.AsyncClient, checkr_url: str) -> str:
    """An SR company connected to a Checkr account at our Checkr simulator, with its webhook."""
    settings = stack.settings
    await register_partner_configuration(settings)
    store = Store(settings.store_url, settings.encryption_keys.get_secret_value())
    try:
        credentials = {
            "api_key": CHECKR_KEY,
            "base_url": checkr_url,
            "work_location": {"country": "US", "state": "CA"},
        }
        account_id, company_id = await company_of_new_vendor_account(
            store, settings.sr_base_url, "checkr", credentials
        )
    finally:
        await store.dispose()
    webhook = {"webhook_url": f"{settings.public_url}/webhooks/checkr/accounts/{account_id}"}
    (
        await http.post(f"{checkr_url}/v1/webhooks", json=webhook, auth=(CHECKR_KEY, ""))
    ).raise_for_status()
    return company_id


async def _record_one(name: str, change: str | None, orders: Orders) -> None:
    path = PATHS[name]
    try:
        order_id = await path.drive(orders)
        handle = orders.temporal.get_workflow_handle(order_workflow_id(order_id))

        async def ended():
            return (await handle.describe()).status != WorkflowExecutionStatus.RUNNING

        await eventually(ended, timeout=90, what=f"the workflow of {name} to end")
        status = (await handle.describe()).status
        assert status == path.ends, (
            f"{name}: the workflow ended {status.name}, not {path.ends.name}"
        )
        history = await handle.fetch_history()
        signalled = any(_webhook_reached(e) for e in history.events)
        assert path.signalled in (None, signalled), (
            f"{name}: a vendor webhook {'never' if path.signalled else 'did'} reach the "
            "workflow; record again"
        )
        # What the replay test will do with it:
        # a history the current code cannot replay is no baseline.
        await Replayer(
            workflows=[AssessmentOrderWorkflow], data_converter=orders.temporal.data_converter
        ).replay_workflow(history)
    except BaseException as err:
        print(f"FAILED {name}: {err!r}", flush=True)
        raise
    target = history_file(name, change)
    target.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
    print(
        f"{name}: {len(history.events)} events, ended {status.name} → "
        f"{target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}",
        flush=True,
    )


def _webhook_reached(event) -> bool:
    """A vendor webhook in the history: a `vendor_hint` update (a `vendor_event` signal before)."""
    if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        return True
    accepted = event.workflow_execution_update_accepted_event_attributes
    return (
        event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        and accepted.accepted_request.input.name == "vendor_hint"
    )


def history_file(path: str, change: str | None = None) -> Path:
    return HISTORIES / (f"{path}@{change}.json" if change else f"{path}.json")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.replay.record", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="paths to record (default: every path); those with a history are left alone",
    )
    parser.add_argument(
        "--change",
        metavar="PATCH_ID",
        help="record as <path>@PATCH_ID.json: the histories of a patched workflow",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the paths and their histories, and exit"
    )
    args = parser.parse_args(argv)
    if args.list:
        for name, path in PATHS.items():
            recorded = sorted(
                f.name for f in HISTORIES.glob(f"{name}*.json") if f.stem.split("@")[0] == name
            )
            print(f"{name:36} {path.what}\n{'':36} {', '.join(recorded) or 'no history yet'}")
        return
    unknown = [n for n in args.paths if n not in PATHS]
    if unknown:
        parser.error(f"unknown path(s) {', '.join(unknown)}; --list shows them")
    if args.change is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", args.change):
        parser.error("--change takes the patch id, in lower case with dashes: remind-later")
    names = [n for n in (args.paths or PATHS) if not history_file(n, args.change).exists()]
    if not names:
        print(
            "every path named has its history; a history is never recorded again "
            "(docs/workflow-changes.md)"
        )
        return
    HISTORIES.mkdir(exist_ok=True)
    print(f"recording {', '.join(names)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="replay-record-") as data_dir:
        asyncio.run(record(names, args.change, Path(data_dir)))


if __name__ == "__main__":
    main(sys.argv[1:])
