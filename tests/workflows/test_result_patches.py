"""What the order workflow tells SR about a result, as merge patches (RFC 7396): a revision with
less removes what the earlier result had, and the report's link stands in wherever its file
did not reach SR."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from orders.models import VendorResult, VendorStatus
from orders.results import REPORT_LINK_NAME
from peers import PeerError
from tests.support.temporal_test_server import result_of
from tests.workflows.test_order_workflow import (
    Peers,
    RecordingSmartRecruiters,
    ScriptedVendor,
    an_order,
    run_order,
)
from workflows.order import AssessmentOrderWorkflow

REPORT_PAGE = "https://vendor.example/reports/inv-1"


@dataclass
@dataclass
class VendorWithReportPage(ScriptedVendor):
    """Links a lasting report page; its first result is scored, a revision (r2) is not."""

    report_page: str = REPORT_PAGE

    async def get_result(self, ref: str) -> VendorResult:
        result = await super().get_result(ref)
        if self.revision == "r2":  # Checkr's revised report: an outcome, no score, no date
            result = result.model_copy(
                update={"score": None, "max_score": None, "outcome": None, "submitted_at": None}
            )
        return result.model_copy(update={"report_url": self.report_page})


@dataclass
class SrRefusingUploads(RecordingSmartRecruiters):
    async def upload_attachment(self, *args, **kwargs) -> str:
        raise PeerError(
            "SmartRecruiters", "attachment upload answered HTTP 413", status=413, retryable=False
        )


async def test_a_revision_without_a_score_removes_the_earlier_score_at_sr(env):
    peers = Peers(vendor=VendorWithReportPage(revisable=True))

    async def completed_then_revised_without_a_score(handle):
        await env.sleep(timedelta(days=1))
        peers.vendor.status, peers.vendor.revision = VendorStatus.COMPLETED, "r1"
        await env.sleep(timedelta(days=2))
        peers.vendor.revision = "r2"

    await run_order(
        env,
        peers,
        an_order(deadline_days=7, result_revision_days=10),
        completed_then_revised_without_a_score,
    )

    pending, first, revised = peers.sr.patches
    assert (
        first["score"] == {"raw": 83, "min": 0, "max": 100}
        and first["submissionDate"] == "2026-11-02T00:00:00+00:00"
    )
    assert (revised["score"], revised["scoreLabel"], revised["submissionDate"]) == (
        None,
        None,
        None,
    )
    # A progress update sets none of them, so it removes none of them.
    assert not {"score", "scoreLabel", "submissionDate"} & pending.keys()
    assert pending["assessmentPackageDate"].endswith("+00:00")


async def test_an_inline_orders_report_is_linked_as_sr_takes_no_file_for_it(env):
    peers = Peers(vendor=VendorWithReportPage())
    order = an_order(inline=True)
    task_queue = str(uuid.uuid4())
    async with peers.worker(env, task_queue):
        start = WithStartWorkflowOperation(
            AssessmentOrderWorkflow.run,
            order,
            id=f"assessment-order:{order.order_id}",
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await env.client.execute_update_with_start_workflow(
            AssessmentOrderWorkflow.invitation_link, start_workflow_operation=start
        )
        peers.vendor.status = VendorStatus.COMPLETED
        await result_of(env, await start.workflow_handle())

    assert peers.sr.uploads == 0
    assert peers.sr.patches[-1]["attachments"] == [
        {"name": REPORT_LINK_NAME, "type": "OTHER_URL", "url": REPORT_PAGE}
    ]


async def test_a_report_sr_refused_is_linked_instead(env):
    peers = Peers(
        vendor=VendorWithReportPage(status=VendorStatus.COMPLETED), sr=SrRefusingUploads()
    )
    state = await run_order(env, peers, an_order())
    assert state.report_url is None
    assert peers.sr.patches[-1]["attachments"] == [
        {"name": REPORT_LINK_NAME, "type": "OTHER_URL", "url": REPORT_PAGE}
    ]


async def test_a_report_that_reached_sr_is_not_linked_again(env):
    peers = Peers(vendor=VendorWithReportPage(status=VendorStatus.COMPLETED))
    state = await run_order(env, peers, an_order())
    assert peers.sr.uploads == 1 and state.report_url
    assert "attachments" not in peers.sr.patches[-1]


@dataclass
class SrRefusingReportLinks(RecordingSmartRecruiters):
    """SR as the simulator's `result_attachments=refused` plays it: a result carrying a report
    link is a 400 (its spec leaves open whether it takes one)."""

    refused_links: int = 0

    async def upload_attachment(self, *args, **kwargs) -> str:
        raise PeerError(
            "SmartRecruiters", "attachment upload answered HTTP 400", status=400, retryable=False
        )

    async def patch_result(
        self, order_id: str, patch: dict, callback_url: str | None = None
    ) -> None:
        if "attachments" in patch:
            self.refused_links += 1
            raise PeerError(
                "SmartRecruiters", "result update answered HTTP 400", status=400, retryable=False
            )
        await super().patch_result(order_id, patch, callback_url)


async def test_a_result_sr_refuses_with_a_report_link_is_posted_without_it(env):
    sr = SrRefusingReportLinks()
    peers = Peers(vendor=VendorWithReportPage(status=VendorStatus.COMPLETED), sr=sr)
    await run_order(env, peers, an_order())
    assert sr.refused_links == 1
    assert peers.sr.statuses[-1] == "COMPLETED" and "attachments" not in peers.sr.patches[-1]
    assert peers.sr.patches[-1]["score"]  # the result itself reached SR


async def test_only_a_web_link_goes_onto_srs_profile(env):
    peers = Peers(
        vendor=VendorWithReportPage(
            status=VendorStatus.COMPLETED, report_page="javascript:alert(1)"
        ),
        sr=SrRefusingUploads(),
    )
    await run_order(env, peers, an_order())
    assert peers.sr.statuses[-1] == "COMPLETED" and "attachments" not in peers.sr.patches[-1]
