"""A flood of authentic webhooks at one order: whoever holds a vendor's signing secret can send as
many distinct events as they like, and Temporal ends a workflow whose history passes 50 MB or
51,200 events. The order's history must stay small, and the order must still finish once."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter

import pytest
from temporalio.client import WorkflowExecutionStatus

from simulators.sandbox_vendor.webhooks import sign
from tests.support.order_workflows import order_workflow_id
from workflows.order import WEBHOOK_EVENTS_PER_ORDER, AssessmentOrderWorkflow

# Ten times the distinct events an order takes (WEBHOOK_EVENTS_PER_ORDER), each also re-delivered:
# an order that kept every event would pass HISTORY_EVENTS_LIMIT several times over.
WEBHOOKS = 2_000
# Sent this many at a time: a vendor's burst, and quick enough on a small machine.
CONCURRENCY = 20
HISTORY_BYTES_LIMIT = 5 * 1024 * 1024
# A plain order's history holds a few dozen events; the flood may add a bounded number.
HISTORY_EVENTS_LIMIT = 2_000
LATE_WEBHOOKS = 300


async def workflow_tasks_taken(world, stack) -> int:
    """Workflow tasks the session's worker has taken so far, from its metrics."""
    metrics = await world.http.get(f"http://{stack.settings.worker_metrics_address}/metrics")
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in metrics.text.splitlines()
        if line.startswith("temporal_workflow_task_queue_poll_succeed{")
    )


@pytest.mark.long
async def test_thousands_of_signed_webhooks_leave_one_orders_history_small_and_it_completes_once(
    world, stack, temporal
):
    order_id = (await world.order("skills-fullstack"))["order_id"]
    invitation = await world.invitation_email(order_id)
    await world.sr_status_becomes(order_id, "PENDING")
    secret = stack.settings.sandbox_webhook_secret.get_secret_value()

    def event(event_id: str) -> bytes:
        data = {
            "invitation_id": invitation["invitation_id"],
            "reference": invitation["reference"],
            "status": "started",
        }
        return json.dumps({"id": event_id, "type": "invitation.started", "data": data}).encode()

    # Half distinct events (every tenth with an id of 10,000 characters), half re-deliveries of them
    # (the same event signed at another second, as a vendor's retry is: no replay).
    signed_at = int(time.time())
    requests = []
    for n in range(WEBHOOKS // 2):
        body = event(f"evt_flood_{n}_{uuid.uuid4().hex}" + ("x" * 10_000 if n % 10 == 0 else ""))
        requests += [
            (body, sign(secret, body, signed_at)),
            (body, sign(secret, body, signed_at - 1)),
        ]
    random.shuffle(requests)
    answers: Counter = Counter()
    refusals: set[tuple[str, str]] = set()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def send(body: bytes, signature: str) -> None:
        async with gate:
            response = await world.http.post(
                f"{world.api}/webhooks/sandbox",
                content=body,
                headers={"Sandbox-Signature": signature},
            )
        answers[response.status_code] += 1
        if response.status_code == 202:
            assert response.json() == {"accepted": 1}  # it reached the order (which may refuse it)
        else:
            refusals.add((response.json()["message"], response.headers.get("retry-after", "")))

    began = time.monotonic()
    await asyncio.gather(*(send(body, signature) for body, signature in requests))
    took = time.monotonic() - began

    handle = temporal.get_workflow_handle(order_workflow_id(order_id))
    flooded = (await handle.describe()).raw_description.workflow_execution_info
    print(
        f"\n{WEBHOOKS} webhooks in {took:.1f} s; answers {dict(answers)}; history "
        f"{flooded.history_length} events, {flooded.history_size_bytes} bytes"
    )
    # Temporal takes a few updates of one workflow at a time;
    # beyond them the sender is asked to retry.
    assert set(answers) <= {202, 429} and answers[202] > WEBHOOKS // 2, answers
    assert refusals <= {("Too many webhooks for this order at once; please retry", "1")}
    assert flooded.history_size_bytes < HISTORY_BYTES_LIMIT, (
        f"{flooded.history_size_bytes} bytes of history"
    )
    assert flooded.history_length < HISTORY_EVENTS_LIMIT, (
        f"{flooded.history_length} events in the history"
    )

    # Past its share, the order costs Temporal nothing more: the API stops asking it, so further
    # webhooks give the worker no workflow task each (a task per webhook before).
    tasks_before = await workflow_tasks_taken(world, stack)
    more = [event(f"evt_flood_more_{n}_{uuid.uuid4().hex}") for n in range(LATE_WEBHOOKS)]
    signed = [(body, sign(secret, body, int(time.time()))) for body in more]
    await asyncio.gather(*(send(body, signature) for body, signature in signed))
    tasks_taken = await workflow_tasks_taken(world, stack) - tasks_before
    print(f"{LATE_WEBHOOKS} more webhooks: {tasks_taken} workflow tasks")
    assert tasks_taken < LATE_WEBHOOKS // 10, tasks_taken

    # The order still follows the candidate, and finishes once.
    await world.at_vendor("start", order_id)
    await world.sr_status_becomes(order_id, "IN_PROGRESS")
    await world.at_vendor("complete", order_id, score=80)
    done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert [p["status"] for p in done["patches"]] == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    assert done["result"]["score"] == {"raw": 80, "min": 0, "max": 100}
    await handle.result()
    finished = await handle.describe()
    assert finished.status == WorkflowExecutionStatus.COMPLETED
    info = finished.raw_description.workflow_execution_info
    print(f"finished: history {info.history_length} events, {info.history_size_bytes} bytes")
    assert (
        info.history_size_bytes < HISTORY_BYTES_LIMIT and info.history_length < HISTORY_EVENTS_LIMIT
    )
    # A webhook after the end is taken and changes nothing.
    late = event(f"evt_flood_late_{uuid.uuid4().hex}")
    answer = await world.http.post(
        f"{world.api}/webhooks/sandbox",
        content=late,
        headers={"Sandbox-Signature": sign(secret, late, int(time.time()))},
    )
    assert answer.status_code == 202
    assert (await handle.describe()).raw_description.workflow_execution_info == info
    # What the order remembers of the events it was sent is bounded, each id too.
    state = await handle.query(AssessmentOrderWorkflow.state)
    assert len(state.events_received) == WEBHOOK_EVENTS_PER_ORDER
    assert all(len(event_id) <= 200 for event_id in state.events_received)
    # Operators see each webhook the order took in its timeline, and no other.
    shown = await world.http.get(
        f"{world.api}/admin/orders/{order_id}",
        headers={"Authorization": f"Bearer {stack.settings.admin_api_key.get_secret_value()}"},
    )
    assert shown.status_code == 200, shown.text
    assert (
        sum(item["kind"] == "webhook" for item in shown.json()["timeline"])
        == WEBHOOK_EVENTS_PER_ORDER
    )
