"""Orders end to end over real HTTP: SR simulator → our API → Temporal → sandbox vendor → SR."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowExecutionStatus

from tests.support.order_workflows import order_reference_of, order_workflow_id, worker_polls
from tests.support.session_stack import EXPIRING_PACKAGE
from tests.support.waiting import eventually
from workflows.order import AssessmentOrderWorkflow

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long


async def test_manual_order_happy_path(world, temporal):
    placed = await world.order("skills-fullstack")
    assert placed["partner_status"] == 202
    order_id = placed["order_id"]

    email = await world.invitation_email(order_id)
    assert email["link"].startswith(f"{world.vendor}/take/")
    pending = await world.sr_status_becomes(order_id, "PENDING")
    assert pending["result"]["assessmentPackageDate"]

    await world.at_vendor("start", order_id)
    await world.sr_status_becomes(order_id, "IN_PROGRESS")
    await world.at_vendor("complete", order_id, score=50)
    done = await world.sr_status_becomes(order_id, "COMPLETED")

    result = done["result"]
    assert result["score"] == {"raw": 50, "min": 0, "max": 100}
    assert result["scoreLabel"] == "Failed"
    assert result["summary"] and result["submissionDate"]
    assert [r["assessmentId"] for r in result["assessmentResults"]] == [
        "python-basics",
        "sql-basics",
    ]
    assert [p["status"] for p in done["patches"]] == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    assert len(done["attachments"]) == 1
    report = await world.http.get(done["attachments"][0]["url"])
    assert report.content.startswith(b"%PDF")

    handle = temporal.get_workflow_handle(order_workflow_id(order_id))
    state = await handle.query(AssessmentOrderWorkflow.state)
    assert state.finished and state.report_url == done["attachments"][0]["url"]
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    # Operators find the order by its search attributes (no PII in them).
    query = (
        'AssessmentOrderStatus = "COMPLETED" AND AssessmentPackage = "skills-fullstack" AND '
        f'WorkflowId = "{order_workflow_id(order_id)}"'
    )

    async def listed():
        return [w async for w in temporal.list_workflows(query)]

    [execution] = await eventually(listed, what="the order in Temporal visibility")
    attributes = {
        key.name: value
        for key, value in ((p.key, p.value) for p in execution.typed_search_attributes)
    }
    assert (
        attributes["AssessmentVendor"] == "sandbox"
        and attributes["SmartRecruitersCompany"] == "sim-company-1"
    )


async def test_auto_triggered_order_when_candidate_moves_to_the_assessment_step(world):
    candidate = await world.new_candidate()
    moved = (
        await world.http.post(
            f"{world.sr}/__sim/candidates/{candidate['id']}/move", json={"step": "Skills Test"}
        )
    ).json()
    order = moved["order"]
    assert order["trigger"] == "auto" and order["partner_status"] == 202

    email = await world.invitation_email(order["order_id"])
    assert email["to"] == candidate["email"]
    await world.sr_status_becomes(order["order_id"], "PENDING")


@pytest.mark.parametrize("inline_key", ["url", "assessmentPackageURL"])
async def test_inline_order_answers_with_the_candidates_link(world, inline_key):
    """SR's spec describes `url` but requires `assessmentPackageURL`:
    SR finds the link under either."""
    await world.sr_variants(inline_key=inline_key)
    placed = await world.order("skills-fullstack", kind="inline")
    assert placed["partner_status"] == 200
    order_id = placed["order_id"]
    email = await world.invitation_email(order_id)
    assert placed["partner_body"] == {"url": email["link"], "assessmentPackageURL": email["link"]}
    assert placed["candidate_url"] == email["link"]

    await world.at_vendor("complete", order_id, score=100)
    done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert done["result"]["score"] == {"raw": 100, "min": 0, "max": 100}
    assert done["attachments"] == []  # SR refuses attachments on inline orders
    # After the test, the candidate is sent back to their application in SR.
    finished_page = (await world.http.get(email["link"])).text
    assert f'href="{world.sr}/candidates/{done["candidate_id"]}"' in finished_page


async def test_repeated_order_posts_make_one_workflow_and_one_invitation(world, temporal):
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    # SR retries and a recruiter's double click, some of them at the same moment.
    resends = await asyncio.gather(
        *(world.http.post(f"{world.sr}/__sim/orders/{order_id}/resend") for _ in range(5))
    )
    assert [r.json()["partner_status"] for r in resends] == [202] * 5

    await world.sr_status_becomes(order_id, "PENDING")
    handle = temporal.get_workflow_handle(order_workflow_id(order_id))
    first_run = (await handle.describe()).run_id
    executions = [
        w async for w in temporal.list_workflows(f'WorkflowId = "{order_workflow_id(order_id)}"')
    ]
    assert len(executions) == 1
    assert len(await world.outbox(order_id)) == 1
    assert (await handle.query(AssessmentOrderWorkflow.state)).invitation is not None

    # Even after the order has finished, a late repeat starts nothing new and posts nothing.
    await world.at_vendor("complete", order_id, score=90)
    done = await world.sr_status_becomes(order_id, "COMPLETED")
    late = await world.http.post(f"{world.sr}/__sim/orders/{order_id}/resend")
    assert late.json()["partner_status"] == 202
    assert (
        await temporal.get_workflow_handle(order_workflow_id(order_id)).describe()
    ).run_id == first_run
    assert len(await world.outbox(order_id)) == 1
    assert len((await world.sr_order(order_id))["patches"]) == len(done["patches"])


async def test_inline_order_while_no_worker_runs_answers_503_then_the_retry_gets_the_link(
    world, stack, temporal
):
    stack.kill("worker")
    try:
        placed = await world.order("skills-fullstack", kind="inline")
    finally:
        stack.start_component("worker", "worker")
    assert placed["partner_status"] == 503
    await worker_polls(temporal, stack)
    order_id = placed["order_id"]

    retried = (await world.http.post(f"{world.sr}/__sim/orders/{order_id}/resend")).json()
    assert retried["partner_status"] == 200
    email = await world.invitation_email(order_id)
    assert retried["candidate_url"] == email["link"]
    assert len(await world.outbox(order_id)) == 1


async def test_duplicated_webhooks_change_nothing(world, temporal):
    await world.webhook_mode("duplicate")
    try:
        placed = await world.order("skills-fullstack")
        order_id = placed["order_id"]
        await world.sr_status_becomes(order_id, "PENDING")
        await world.at_vendor("start", order_id)
        await world.sr_status_becomes(order_id, "IN_PROGRESS")
        await world.at_vendor("complete", order_id, score=65)
        done = await world.sr_status_becomes(order_id, "COMPLETED")
    finally:
        await world.webhook_mode("deliver")
    assert [p["status"] for p in done["patches"]] == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    assert len(done["attachments"]) == 1
    state = await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )
    assert len(state.events_received) == len(set(state.events_received))


async def test_slow_report_delays_the_result_but_it_arrives_with_the_report(world):
    (
        await world.http.post(f"{world.vendor}/control/report", json={"delay_seconds": 3})
    ).raise_for_status()
    try:
        placed = await world.order("skills-fullstack")
        order_id = placed["order_id"]
        await world.sr_status_becomes(order_id, "PENDING")
        await world.at_vendor("complete", order_id, score=80)
        done = await world.sr_status_becomes(order_id, "COMPLETED", timeout=45)
    finally:
        (
            await world.http.post(f"{world.vendor}/control/report", json={"delay_seconds": 0})
        ).raise_for_status()
    assert len(done["attachments"]) == 1
    report = await world.http.get(done["attachments"][0]["url"])
    assert report.content.startswith(b"%PDF")


async def test_lost_webhooks_only_delay_the_order(world):
    await world.webhook_mode("drop")
    try:
        placed = await world.order("skills-fullstack")
        order_id = placed["order_id"]
        await world.sr_status_becomes(order_id, "PENDING")
        await world.at_vendor("complete", order_id, score=70)
        done = await world.sr_status_becomes(order_id, "COMPLETED")
    finally:
        await world.webhook_mode("deliver")
    assert done["result"]["score"]["raw"] == 70
    deliveries = (
        await world.http.get(
            f"{world.vendor}/control/webhooks/deliveries",
            params={"reference": order_reference_of(order_id)},
        )
    ).json()
    assert deliveries and {d["outcome"] for d in deliveries} == {"dropped"}


async def test_no_completion_by_the_deadline_expires_the_order(world):
    placed = await world.order(EXPIRING_PACKAGE)
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    await world.at_vendor("start", order_id)

    done = await world.sr_status_becomes(order_id, "EXPIRED", timeout=40)
    assert "did not complete" in done["result"]["summary"]
    # The invitation was withdrawn at the vendor: the candidate can no longer take the test.
    page = await world.http.get((await world.invitation_email(order_id))["link"])
    assert "withdrawn" in page.text.lower() or "cancelled" in page.text.lower()


async def test_candidate_declining_rejects_the_order(world):
    placed = await world.order("background-standard")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    await world.at_vendor("decline", order_id)
    done = await world.sr_status_becomes(order_id, "REJECTED")
    assert done["result"]["summary"] == "The candidate declined the assessment."


async def test_background_check_completes_without_a_score(world):
    placed = await world.order("background-standard")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    await world.at_vendor("complete", order_id)
    done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert "score" not in done["result"]
    assert done["result"]["scoreLabel"] == "Clear"
    assert len(done["attachments"]) == 1


async def test_smartrecruiters_failing_for_a_while_still_gets_exactly_one_result(world):
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    for fault in (
        {"status": 500, "count": 3, "path_contains": order_id},
        {"status": 429, "count": 2, "retry_after": 1, "path_contains": order_id},
        {"status": 200, "count": 1, "latency_ms": 1500, "path_contains": order_id},
    ):
        (await world.http.post(f"{world.sr}/__sim/faults", json=fault)).raise_for_status()

    await world.at_vendor("complete", order_id, score=60)
    done = await world.sr_status_becomes(order_id, "COMPLETED", timeout=60)

    assert len(done["attachments"]) == 1
    assert [p["status"] for p in done["patches"]].count("COMPLETED") == 1
    answered = [r["status"] for r in await world.sr_requests(order_id)]
    assert answered.count(500) == 3 and answered.count(429) == 2


async def test_worker_killed_mid_order_and_restarted_finishes_the_order(world, stack):
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")

    stack.kill("worker")
    try:
        # While no worker runs, the candidate finishes: a webhook is an update of the order's
        # workflow, which only a worker takes, so its delivery fails and the vendor retries it.
        await world.at_vendor("complete", order_id, score=40)

        async def webhook_tried():
            deliveries = (
                await world.http.get(
                    f"{world.vendor}/control/webhooks/deliveries",
                    params={"reference": order_reference_of(order_id)},
                )
            ).json()
            return [d for d in deliveries if d["type"] == "invitation.completed" and d["attempt"]]

        tried = await eventually(webhook_tried, what="the vendor to try its completion webhook")
        assert all(d["status_code"] != 202 for d in tried)
        assert (await world.sr_order(order_id))["result"]["status"] == "PENDING"
    finally:
        stack.start_component("worker", "worker")

    done = await world.sr_status_becomes(order_id, "COMPLETED", timeout=60)
    assert done["result"]["score"]["raw"] == 40
    assert len(done["attachments"]) == 1
    assert len(await world.outbox(order_id)) == 1
