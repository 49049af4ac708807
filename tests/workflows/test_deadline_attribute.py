"""The order's deadline as its `AssessmentDeadline` search attribute: set with the deadline, moved
with it (an operator's extension, a vendor preparing its report), removed once the order stops
waiting for its candidate; never on an order started without our search attributes.

On Temporal's dev server with our search attributes registered (the time-skipping server cannot
register any), in real time: the order's own waits are days long, the test moves it by hints.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from orders import visibility
from orders.models import DeadlineExtension, Order, VendorStatus
from tests.support.waiting import eventually
from tests.workflows.test_order_workflow import Peers, an_order, hint
from workflows.order import DEADLINE_ATTRIBUTE_PATCH, AssessmentOrderWorkflow

WHO = {"operator": "ops.ann", "reason": "Candidate asked support for more time (ticket 4711)"}


@contextlib.asynccontextmanager
async def server_with_our_attributes() -> AsyncIterator[WorkflowEnvironment]:
    from embedded import temporal_cli

    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        data_converter=pydantic_data_converter,
        search_attributes=visibility.ALL,
        dev_server_extra_args=["--log-level", "warn"],
    )
    try:
        yield environment
    finally:
        await environment.shutdown()


async def start(
    env: WorkflowEnvironment, order: Order, task_queue: str, *, attributes: bool = True
) -> WorkflowHandle:
    return await env.client.start_workflow(
        AssessmentOrderWorkflow.run,
        order,
        id=f"assessment-order:{order.order_id}",
        task_queue=task_queue,
        search_attributes=visibility.initial_search_attributes(order) if attributes else None,
    )


async def deadline_attribute(handle: WorkflowHandle) -> datetime | None:
    """The attribute as the workflow's mutable state has it (no visibility lag)."""
    return (await handle.describe()).typed_search_attributes.get(visibility.DEADLINE)


def same_moment(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and abs(a - b) < timedelta(milliseconds=1)


async def test_the_attribute_follows_the_deadline_and_leaves_as_the_order_ends():
    # The report may take 30 days once the candidate is done: longer than their 3 days.
    order = an_order(deadline_days=3, poll_hours=24, report_wait_days=30)
    peers = Peers()
    task_queue = str(uuid.uuid4())
    async with server_with_our_attributes() as env, peers.worker(env, task_queue):
        handle = await start(env, order, task_queue)

        async def shown() -> datetime | None:
            return await deadline_attribute(handle)

        first = await eventually(shown, what="the deadline as a search attribute")
        state = await handle.query(AssessmentOrderWorkflow.state)
        assert same_moment(first, state.deadline)
        assert same_moment(first, order.received_at + timedelta(days=3))

        # An operator's extension moves it.
        await handle.execute_update(
            AssessmentOrderWorkflow.extend_deadline, DeadlineExtension(days=2, **WHO)
        )
        assert same_moment(await deadline_attribute(handle), first + timedelta(days=2))

        # The candidate is done, the vendor prepares its report: the wait, and the attribute, run
        # on to the report's time.
        peers.vendor.status = VendorStatus.PROCESSING
        await hint(handle, "evt-processing")

        async def report_wait() -> datetime | None:
            shown = await deadline_attribute(handle)
            return shown if shown is not None and shown > first + timedelta(days=20) else None

        later = await eventually(report_wait, what="the deadline moved to the report's wait")
        assert same_moment(later, (await handle.query(AssessmentOrderWorkflow.state)).deadline)

        # The result is posted: the order no longer waits, and no longer shows a deadline.
        peers.vendor.status = VendorStatus.COMPLETED
        await hint(handle, "evt-completed")
        ended = await handle.result()
        assert await deadline_attribute(handle) is None
        assert same_moment(ended.deadline, later)  # the state keeps it
        history = await handle.fetch_history()

    assert peers.sr.statuses == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    assert DEADLINE_ATTRIBUTE_PATCH in _patches(history)


async def test_a_cancelled_order_no_longer_shows_a_deadline():
    peers = Peers()
    task_queue = str(uuid.uuid4())
    async with server_with_our_attributes() as env, peers.worker(env, task_queue):
        handle = await start(env, an_order(poll_hours=24), task_queue)

        async def shown() -> datetime | None:
            return await deadline_attribute(handle)

        await eventually(shown, what="the deadline as a search attribute")
        await handle.cancel()

        async def gone() -> bool:
            return await deadline_attribute(handle) is None and peers.sr.statuses[-1:] == [
                "REJECTED"
            ]

        await eventually(gone, what="the deadline gone from the cancelled order")


async def test_an_order_started_without_our_attributes_gets_no_deadline_attribute():
    # As on the time-skipping server, which cannot register them: an upsert would be refused.
    peers = Peers()
    task_queue = str(uuid.uuid4())
    async with server_with_our_attributes() as env, peers.worker(env, task_queue):
        handle = await start(env, an_order(poll_hours=24), task_queue, attributes=False)

        async def invited() -> bool:
            return (await handle.query(AssessmentOrderWorkflow.state)).deadline is not None

        await eventually(invited, what="the order's deadline")
        await handle.execute_update(
            AssessmentOrderWorkflow.extend_deadline, DeadlineExtension(days=1, **WHO)
        )
        peers.vendor.status = VendorStatus.DECLINED
        await hint(handle, "evt-declined")
        await handle.result()
        assert await deadline_attribute(handle) is None
        history = await handle.fetch_history()

    upserted = [
        name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        for name in _upserted(event)
    ]
    assert visibility.DEADLINE.name not in upserted
    assert DEADLINE_ATTRIBUTE_PATCH not in _patches(history)


def _patches(history) -> list[str]:
    """The `workflow.patched` ids the history's markers record."""
    return [
        json.loads(payload.data)["id"]
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and "patch-data" in event.marker_recorded_event_attributes.details
        for payload in event.marker_recorded_event_attributes.details["patch-data"].payloads
    ]


def _upserted(event) -> list[str]:
    return list(
        event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    )
