"""How many orders are open in each status, as gauges on the worker's Prometheus endpoint.

The workflows' own metrics are counters of what happened (replay-safe); how many orders stand
in each status now is read from Temporal's visibility instead, by the search attribute the
workflow keeps up to date. Every worker reports the same figures: aggregate with max, not sum.
"""

from __future__ import annotations

import asyncio
import logging

from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.service import RPCError

from orders.models import SrStatus
from orders.visibility import ORDER_STATUS

log = logging.getLogger("assessments.census")

# Before SR has seen anything the order is RECEIVED; a COMPLETED order stays open while its
# result may still be revised (Checkr disputes). REJECTED and EXPIRED orders are closed.
OPEN_STATUSES = ("RECEIVED", SrStatus.PENDING.value, SrStatus.IN_PROGRESS.value, SrStatus.COMPLETED.value)
ORDERS = 'WorkflowType = "AssessmentOrderWorkflow"'


async def count_orders(client: Client, meter: MetricMeter, interval_seconds: float) -> None:
    """Every `interval_seconds`, until cancelled: open orders by status, and failed orders (each
    needs an operator)."""
    open_orders = meter.create_gauge("assessment_orders_open", "Open orders, by the status SmartRecruiters shows")
    failed_orders = meter.create_gauge("assessment_orders_failed", "Orders whose workflow failed: each needs an operator")
    while True:
        try:
            for status in OPEN_STATUSES:
                query = f'{ORDERS} AND ExecutionStatus = "Running" AND {ORDER_STATUS.name} = "{status}"'
                open_orders.set((await client.count_workflows(query)).count, {"status": status})
            failed_orders.set((await client.count_workflows(f'{ORDERS} AND ExecutionStatus = "Failed"')).count)
        except RPCError as err:
            log.warning("orders could not be counted: %s", err.message)  # the next round tries again
        await asyncio.sleep(interval_seconds)
