"""Operators reset orders whose workflow has ended (admin/resets.py), through the admin API and
`assessments orders repair … reset`, on the real stack.

The orders: three whose final update SR refused once with a 400, so that their workflow failed
(two refused COMPLETED, one refused REJECTED after the candidate declined); SR accepts again
afterwards, as after a fix to our result mapping. And one completed normally, whose result is
re-posted after its workflow has ended.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from tests.e2e.test_operator_orders import _run
from tests.support.http import client as http_client
from tests.support.order_workflows import order_workflow_id, resets, workflow_becomes
from tests.support.waiting import eventually
from tests.support.world import World

WHO = {"operator": "ops.ann", "reason": "SR result mapping fixed in release 42"}
REASON_IN_HISTORY = "Reset by ops.ann: SR result mapping fixed in release 42"
SCORE = 75


@dataclass
class Orders:
    refused: str  # SR refused its COMPLETED: failed
    refused_for_cli: str  # the same, reset through the CLI
    declined: str  # the candidate declined and SR refused REJECTED: failed, without a result
    done: str  # completed normally
    failed_runs: dict[str, str]  # order id → the failed run's id


@pytest.fixture(scope="module")
async def orders(stack, temporal):
    async with http_client(timeout=30) as http:
        world = World(stack.settings, http)

        async def refused_result() -> str:
            order_id = (await world.order("skills-fullstack"))["order_id"]
            await world.sr_status_becomes(order_id, "PENDING")
            await world.at_vendor("start", order_id)
            await world.sr_status_becomes(
                order_id, "IN_PROGRESS"
            )  # the next update is the final one
            await world.sr_refuses(order_id, 400)
            await world.at_vendor("complete", order_id, score=SCORE)
            return order_id

        async def refused_rejection() -> str:
            order_id = (await world.order("skills-fullstack"))["order_id"]
            await world.sr_status_becomes(order_id, "PENDING")
            await world.sr_refuses(order_id, 400)
            await world.at_vendor("decline", order_id)
            return order_id

        async def completed() -> str:
            order_id = (await world.order("skills-fullstack"))["order_id"]
            await world.sr_status_becomes(order_id, "PENDING")
            await world.at_vendor("complete", order_id, score=SCORE)
            await world.sr_status_becomes(order_id, "COMPLETED")
            await workflow_becomes(temporal, order_id, WorkflowExecutionStatus.COMPLETED)
            return order_id

        refused, refused_for_cli, declined, done = await asyncio.gather(
            refused_result(), refused_result(), refused_rejection(), completed()
        )
        failed = [refused, refused_for_cli, declined]
        runs = await asyncio.gather(
            *(
                workflow_becomes(temporal, order_id, WorkflowExecutionStatus.FAILED)
                for order_id in failed
            )
        )
        yield Orders(
            refused, refused_for_cli, declined, done, dict(zip(failed, runs, strict=False))
        )


async def _sr_updates(world: World, order_id: str) -> list[tuple[str, int]]:
    """Each update SR received for the order: its status and SR's answer."""
    requests = await world.sr_requests(f"/orders/{order_id}/results")
    return [(r["json"]["status"], r["status"]) for r in requests if r["method"] == "PATCH"]


async def _report_uploads(world: World, order_id: str) -> int:
    return sum(
        1
        for r in await world.sr_requests(f"/orders/{order_id}/results/attachment")
        if r["method"] == "POST" and r["status"] == 201
    )


async def _activities_after_last_reset(temporal: Client, order_id: str, run_id: str) -> list[str]:
    history = await temporal.get_workflow_handle(
        order_workflow_id(order_id), run_id=run_id
    ).fetch_history()
    last_reset = max(event.event_id for event in await resets(temporal, order_id, run_id))
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_id > last_reset
        and event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


async def test_a_failed_order_is_reset_to_just_before_its_result_and_sr_gets_it(
    orders, admin, world, temporal
):
    order_id, failed_run = orders.refused, orders.failed_runs[orders.refused]
    assert await _sr_updates(world, order_id) == [
        ("PENDING", 200),
        ("IN_PROGRESS", 200),
        ("COMPLETED", 400),
    ]

    reset = await admin.post(f"/orders/{order_id}/repairs/reset", json=WHO)
    assert reset.status_code == 200, reset.text
    outcome = reset.json()
    new_run = outcome["run_id"]
    assert outcome["repair"] == "reset" and new_run and new_run != failed_run
    assert outcome["note"] == (
        "Reset by ops.ann: order reset to just before posting COMPLETED to "
        f"SmartRecruiters; run {new_run} does it again ({WHO['reason']})"
    )

    sr = await world.sr_status_becomes(order_id, "COMPLETED")
    assert sr["result"]["score"] == {"raw": SCORE, "min": 0, "max": 100}
    assert await workflow_becomes(temporal, order_id, WorkflowExecutionStatus.COMPLETED) == new_run
    # Only the refused update was made again: the report, moved before, was not moved twice.
    assert await _sr_updates(world, order_id) == [
        ("PENDING", 200),
        ("IN_PROGRESS", 200),
        ("COMPLETED", 400),
        ("COMPLETED", 200),
    ]
    assert await _report_uploads(world, order_id) == 1
    assert await _activities_after_last_reset(temporal, order_id, new_run) == [
        "update_smartrecruiters"
    ]
    # Who and why are in the new run's history; the failed run stays as it was.
    [recorded] = await resets(temporal, order_id, new_run)
    attributes = recorded.workflow_task_failed_event_attributes
    assert (attributes.failure.message, attributes.base_run_id, attributes.new_run_id) == (
        REASON_IN_HISTORY,
        failed_run,
        new_run,
    )
    assert (
        await temporal.get_workflow_handle(
            order_workflow_id(order_id), run_id=failed_run
        ).describe()
    ).status == WorkflowExecutionStatus.FAILED

    shown = (await admin.get(f"/orders/{order_id}")).json()
    assert (
        shown["run_id"] == new_run
        and shown["workflow_status"] == "COMPLETED"
        and shown["sr_status"] == "COMPLETED"
    )
    assert REASON_IN_HISTORY in [item["what"] for item in shown["timeline"]]

    # Reset again: the order's current run completed, so there is nothing to go back to.
    again = await admin.post(f"/orders/{order_id}/repairs/reset", json=WHO)
    assert again.status_code == 409, again.text
    assert again.json()["message"] == (
        "The order completed: nothing failed to go back to (to read its result again and "
        "post it, use repost-result)"
    )


async def test_an_ended_orders_result_is_read_again_and_re_posted_through_a_reset(
    orders, admin, world, temporal
):
    order_id = orders.done
    completed_run = await workflow_becomes(temporal, order_id, WorkflowExecutionStatus.COMPLETED)

    reposted = await admin.post(f"/orders/{order_id}/repairs/repost-result", json=WHO)
    assert reposted.status_code == 200, reposted.text
    outcome = reposted.json()
    new_run = outcome["run_id"]
    assert outcome["repair"] == "repost-result" and new_run != completed_run
    assert outcome["note"].startswith(
        "Reset by ops.ann: order reset to just before reading the result at the vendor;"
    )

    async def posted_twice() -> list | None:
        updates = await _sr_updates(world, order_id)
        return updates if updates.count(("COMPLETED", 200)) == 2 else None

    await eventually(posted_twice, what=f"SR to receive order {order_id}'s result again")
    assert await workflow_becomes(temporal, order_id, WorkflowExecutionStatus.COMPLETED) == new_run
    # The result is read, moved and posted again, and nothing else is done (no second invitation).
    # Whether the run first asks the vendor's status depends on how the order learnt of the
    # completion: a webhook's hint is checked with the vendor, a poll's answer is that check.
    again = await _activities_after_last_reset(temporal, order_id, new_run)
    assert again[-3:] == [
        "get_vendor_result",
        "transfer_report",
        "update_smartrecruiters",
    ] and again[:-3] in ([], ["get_vendor_status"]), again
    assert await _report_uploads(world, order_id) == 2
    sr = await world.sr_order(order_id)
    assert sr["result"]["status"] == "COMPLETED" and sr["result"]["score"] == {
        "raw": SCORE,
        "min": 0,
        "max": 100,
    }
    [recorded] = await resets(temporal, order_id, new_run)
    assert recorded.workflow_task_failed_event_attributes.failure.message == REASON_IN_HISTORY


async def test_a_failed_order_without_a_result_is_reset_but_has_no_result_to_re_post(
    orders, admin, world, temporal
):
    order_id = orders.declined
    refused = await admin.post(f"/orders/{order_id}/repairs/repost-result", json=WHO)
    assert (
        refused.status_code == 409
        and refused.json()["message"] == "The order has no result to re-post"
    )

    reset = await admin.post(f"/orders/{order_id}/repairs/reset", json=WHO)
    assert reset.status_code == 200, reset.text
    assert "just before posting REJECTED to SmartRecruiters" in reset.json()["note"]
    await world.sr_status_becomes(order_id, "REJECTED")
    await workflow_becomes(temporal, order_id, WorkflowExecutionStatus.COMPLETED)
    assert await _sr_updates(world, order_id) == [
        ("PENDING", 200),
        ("REJECTED", 400),
        ("REJECTED", 200),
    ]


async def test_resets_are_refused_clearly_for_orders_that_did_not_fail(pending, admin, temporal):
    order_id = pending["order_id"]
    running = await admin.post(f"/orders/{order_id}/repairs/reset", json=WHO)
    assert running.status_code == 409
    assert running.json()["message"] == (
        "The order is running: only a failed order is reset (to post a running order's "
        "result again, use repost-result)"
    )

    await temporal.get_workflow_handle(order_workflow_id(order_id)).terminate(
        "test: an operator terminated it"
    )
    terminated = await admin.post(f"/orders/{order_id}/repairs/reset", json=WHO)
    assert terminated.status_code == 409
    assert (
        terminated.json()["message"]
        == "The order's workflow has ended (TERMINATED), not failed; only a failed order is reset"
    )
    reposted = await admin.post(f"/orders/{order_id}/repairs/repost-result", json=WHO)
    assert (
        reposted.status_code == 409
        and "only a completed or failed order's result can be re-posted"
        in reposted.json()["message"]
    )

    unknown = await admin.post("/orders/no-such-order/repairs/reset", json=WHO)
    assert unknown.status_code == 404 and "no order no-such-order" in unknown.json()["message"]
    days = await admin.post(f"/orders/{order_id}/repairs/reset", json=WHO | {"days": 1})
    assert days.status_code == 400 and days.json()["message"] == "reset takes no days"


def test_the_cli_resets_a_failed_order(orders, stack_cli):
    order_id = orders.refused_for_cli
    args = (
        "orders",
        "repair",
        order_id,
        "reset",
        "--operator",
        "ops.bob",
        "--reason",
        "Mapping fixed",
    )
    outcome = json.loads(_run(*args, "--json").stdout)
    assert outcome["repair"] == "reset" and outcome["run_id"] != orders.failed_runs[order_id]
    assert outcome["note"].startswith(
        "Reset by ops.bob: order reset to just before posting COMPLETED to SmartRecruiters"
    )
    # Asked again: the new run is running or has completed; either way it is not reset again.
    assert "use repost-result" in _run(*args, ok=False).stderr
    shown = json.loads(_run("orders", "show", order_id, "--json").stdout)
    assert shown["run_id"] == outcome["run_id"] and "Reset by ops.bob: Mapping fixed" in [
        item["what"] for item in shown["timeline"]
    ]
