"""The worker's Prometheus endpoint: Temporal SDK metrics and the orders' own,
without candidate data."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from orders.visibility import ORDER_STATUS, ORDER_WORKFLOWS
from tests.support.order_workflows import order_workflow_id, unworked_order
from tests.support.waiting import eventually


def metric(text: str, pattern: str) -> float | None:
    """The sum of the samples whose line matches `pattern`; None if there is none."""
    found = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if re.match(pattern, line)]
    return sum(found) if found else None


async def gauge_counts(
    world, stack, temporal, gauge: str, query: str, ours: str, of_ours: int
) -> bool:
    """Temporal counts our `of_ours` orders in `query`,
    and the worker's gauge counts what Temporal does."""
    if (await temporal.count_workflows(ours)).count != of_ours:
        return False
    text = (await world.http.get(f"http://{stack.settings.worker_metrics_address}/metrics")).text
    counted = (await temporal.count_workflows(query)).count
    return metric(text, gauge) == counted


async def test_a_completed_order_shows_in_the_workers_metrics(world, stack):
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    await world.at_vendor("complete", order_id, score=80)
    await world.sr_status_becomes(order_id, "COMPLETED")

    expected = (
        r'assessment_orders_ended\w*\{.*ending="COMPLETED".*vendor="sandbox"',
        r'assessment_vendor_news\w*\{.*source="(webhook|poll)"',  # whichever came first
        r"assessment_time_to_result\w*_count\{",
        r"assessment_time_to_invite\w*_count\{",
        r"temporal_workflow_completed\w*\{",  # the SDK's own
    )

    async def scraped_with_the_order() -> str | None:
        text = (
            await world.http.get(f"http://{stack.settings.worker_metrics_address}/metrics")
        ).text
        return text if all(metric(text, pattern) for pattern in expected) else None

    # The workflow records its ending, and the SDK its completion, a moment after SR has the result.
    text = await eventually(
        scraped_with_the_order, what="the order's news, ending and completion in the metrics"
    )
    assert all(metric(text, pattern) >= 1 for pattern in expected)
    for pii in (placed["candidate"]["email"], placed["candidate"]["last_name"], order_id):
        assert pii not in text  # labels are vendors, statuses and peers: never people or orders


async def test_open_orders_by_status_follow_temporals_own_count(world, stack, temporal):
    gauge = r'assessment_orders_open\w*\{.*status="PENDING"'
    pending = (
        f'{ORDER_WORKFLOWS} AND ExecutionStatus = "Running" AND {ORDER_STATUS.name} = "PENDING"'
    )
    placed = await world.order("skills-fullstack")
    ours = f'{pending} AND WorkflowId = "{order_workflow_id(placed["order_id"])}"'
    await world.sr_status_becomes(placed["order_id"], "PENDING")
    await eventually(
        lambda: gauge_counts(world, stack, temporal, gauge, pending, ours, 1),
        what="the PENDING gauge to count our open order",
        timeout=60,
    )
    text = (await world.http.get(f"http://{stack.settings.worker_metrics_address}/metrics")).text
    assert metric(text, r"assessment_orders_failed\w*\{?") is not None


async def test_terminated_and_timed_out_orders_count_as_failed(world, stack, temporal):
    company = f"ended-{uuid.uuid4().hex[:8]}"
    terminated, timed_out = (
        await unworked_order(temporal, company),
        await unworked_order(temporal, company, timeout=timedelta(seconds=1)),
    )
    await temporal.get_workflow_handle(order_workflow_id(terminated)).terminate(
        "history size exceeded"
    )
    since = (datetime.now(UTC) - timedelta(hours=24)).isoformat()
    ended_badly = (
        f'{ORDER_WORKFLOWS} AND ExecutionStatus IN ("Failed", "Terminated", "TimedOut") AND '
        f'CloseTime > "{since}"'
    )
    ours = (
        f'{ended_badly} AND WorkflowId IN ("{order_workflow_id(terminated)}", '
        f'"{order_workflow_id(timed_out)}")'
    )
    gauge = r"assessment_orders_failed\w*\{?"
    await eventually(
        lambda: gauge_counts(world, stack, temporal, gauge, ended_badly, ours, 2),
        what="the failed gauge to count the terminated and the timed-out order",
        timeout=60,
    )
