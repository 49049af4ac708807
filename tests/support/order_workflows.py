"""An order's workflow as tests see it in Temporal: its status, its resets, and its end."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType, TaskQueueType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from embedded import Stack
from orders.models import Candidate, Order
from orders.visibility import initial_search_attributes, order_reference, workflow_id
from simulators.smartrecruiters.config import SmartRecruitersSimConfig
from tests.support.waiting import eventually
from workflows.order import AssessmentOrderWorkflow

# The company the SR simulator orders for unless told otherwise (the embedded default company).
SIM_COMPANY = SmartRecruitersSimConfig.company_id
# The company of each order tests placed for another company (World.order), so that tests name
# an order by SR's order id alone, as operators and SR do.
companies_of_orders: dict[str, str] = {}


def an_order(**changes) -> Order:
    """An order as intake makes one, received now: for Ada Lovelace, of a sandbox package, a
    fresh order id at company acme, unless `changes` say otherwise."""
    order_id = changes.pop("order_id", str(uuid.uuid4()))
    company_id = changes.pop("company_id", "acme")
    fields: dict[str, Any] = {
        "package_id": "skills-fullstack",
        "package_name": "Full-stack skills",
        "vendor": "sandbox",
        "result_callback_url": f"https://sr.example/orders/{order_id}/results",
        "candidate": Candidate(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        "deadline_days": 1,
        "poll_interval_seconds": 300,
        "received_at": datetime.now(UTC),
        "reference": order_reference(order_id, company_id),
    }
    return Order(order_id=order_id, company_id=company_id, **(fields | changes))


def company_of_order(order_id: str) -> str:
    return companies_of_orders.get(order_id, SIM_COMPANY)


def order_reference_of(order_id: str) -> str:
    """Our reference of an order the tests placed (orders/visibility.py)."""
    return order_reference(order_id, company_of_order(order_id))


def order_workflow_id(order_id: str) -> str:
    """The workflow id of an order the tests placed."""
    return workflow_id(order_reference_of(order_id))


async def workflow_becomes(
    temporal: Client,
    order_id: str,
    status: WorkflowExecutionStatus,
    run_id: str | None = None,
    timeout: float = 30,
) -> str:
    """The order's current run (or `run_id`) comes to have `status`; its run id."""

    async def probe() -> str | None:
        described = await temporal.get_workflow_handle(
            order_workflow_id(order_id), run_id=run_id
        ).describe()
        return described.run_id if described.status == status else None

    return await eventually(
        probe, timeout=timeout, what=f"order {order_id}'s workflow to be {status.name}"
    )


async def resets(temporal: Client, order_id: str, run_id: str) -> list[HistoryEvent]:
    """The resets in a run's history: the workflow task
    failures a reset records, with its reason."""
    history = await temporal.get_workflow_handle(
        order_workflow_id(order_id), run_id=run_id
    ).fetch_history()
    return [
        event
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        and event.workflow_task_failed_event_attributes.cause
        == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
    ]


async def terminate_quietly(temporal: Client, order_id: str) -> None:
    """A test's teardown: the order's workflow would poll on;
    one that has ended already is left as it is."""
    with contextlib.suppress(RPCError):  # ended already
        await temporal.get_workflow_handle(order_workflow_id(order_id)).terminate("test finished")


async def unworked_order(
    temporal: Client, company_id: str, timeout: timedelta | None = None
) -> str:
    """An order of `company_id` whose workflow no worker runs (a task queue nobody serves), as
    Temporal lists it; it times out after `timeout`, if given. Its order id."""
    order_id = str(uuid.uuid4())
    companies_of_orders[order_id] = company_id
    order = an_order(order_id=order_id, company_id=company_id, deadline_days=7)
    await temporal.start_workflow(
        AssessmentOrderWorkflow.run,
        order,
        id=order_workflow_id(order_id),
        task_queue=f"no-worker-{uuid.uuid4()}",
        execution_timeout=timeout,
        search_attributes=initial_search_attributes(order),
    )
    return order_id


async def worker_polls(temporal: Client, stack: Stack, name: str = "worker") -> None:
    """Wait until the stack's worker `name`, as last started, polls the orders' task queue: a
    worker process takes seconds to start on a busy machine, longer than an inline order waits."""
    identity = f"{stack.processes[name].pid}@"
    request = DescribeTaskQueueRequest(
        namespace=stack.settings.temporal_namespace,
        task_queue=TaskQueue(name=stack.settings.task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )

    async def polling() -> bool:
        described = await temporal.workflow_service.describe_task_queue(request)
        return any(poller.identity.startswith(identity) for poller in described.pollers)

    await eventually(polling, timeout=60, what="the worker polling its task queue")
