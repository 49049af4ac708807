"""How many orders are open in each status, as gauges on the worker's Prometheus endpoint.

The workflows' own metrics are counters of what happened (replay-safe); how many orders stand
in each status now is read from Temporal's visibility instead, by the search attribute the
workflow keeps up to date. One worker takes the census for all, once per interval (a turn leased
in the store), and keeps it in the store; every worker shows the latest figures, so they report
the same: aggregate with max, not sum.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.service import RPCError

from orders.models import SrStatus
from orders.visibility import FAILED_ORDERS, ORDER_STATUS, ORDER_WORKFLOWS, SR_REFUSING, UNDELIVERED
from store import Store

log = logging.getLogger("assessments.census")

# Before SR has seen anything the order is RECEIVED; a COMPLETED order stays open while its
# result may still be revised (Checkr disputes). REJECTED and EXPIRED orders are closed. An order
# SR refuses us for (its company not connected, or disconnected at SR) is SR_REFUSING meanwhile.
OPEN_STATUSES = (
    "RECEIVED",
    SrStatus.PENDING.value,
    SrStatus.IN_PROGRESS.value,
    SrStatus.COMPLETED.value,
    SR_REFUSING,
)
# Failed and undelivered orders are counted over this past window, so an alert on them clears once
# operators have dealt with them (an ended run stays
# in Temporal for the namespace's whole retention).
FAILED_WINDOW = timedelta(hours=24)


# The store's name of the census turn; figures are named "open:<status>", "failed", "undelivered".
CENSUS_TURN = "order-census"
OPEN = "open:"


async def count_orders(
    client: Client, meter: MetricMeter, interval_seconds: float, store: Store
) -> None:
    """Every `interval_seconds`, until cancelled: open orders by status, and orders failed or
    given up as undelivered in the past day (each needs an operator)."""
    open_orders = meter.create_gauge(
        "assessment_orders_open", "Open orders, by the status SmartRecruiters shows"
    )
    failed_orders = meter.create_gauge(
        "assessment_orders_failed",
        "Orders whose workflow failed, was terminated or timed out in the past 24 hours: "
        "each needs an operator",
    )
    undelivered_orders = meter.create_gauge(
        "assessment_orders_undelivered",
        "Orders that gave up telling SR how they ended (SR refused us for the company) in "
        "the past 24 hours: each needs an operator",
    )
    while True:
        try:
            # The turn lasts a little less than the interval, so the next one is free in time.
            if await store.limits.claim(CENSUS_TURN, 0.9 * interval_seconds):
                await store.record_census(await _taken(client))
            for figure, orders in (await store.census()).items():
                if figure.startswith(OPEN):
                    open_orders.set(orders, {"status": figure.removeprefix(OPEN)})
                elif figure == "failed":
                    failed_orders.set(orders)
                elif figure == "undelivered":
                    undelivered_orders.set(orders)
        except RPCError as err:
            log.warning(
                "orders could not be counted: %s", err.message
            )  # the next round tries again
        except Exception as err:  # noqa: BLE001 - a gauge must not stop the process
            log.warning("orders could not be counted (%s)", type(err).__name__)
        await asyncio.sleep(interval_seconds)


async def _taken(client: Client) -> dict[str, int]:
    """The census from Temporal's visibility: seven counts."""
    figures = {}
    for status in OPEN_STATUSES:
        query = (
            f'{ORDER_WORKFLOWS} AND ExecutionStatus = "Running" AND '
            f'{ORDER_STATUS.name} = "{status}"'
        )
        figures[OPEN + status] = (await client.count_workflows(query)).count
    since = (datetime.now(UTC) - FAILED_WINDOW).isoformat()
    figures["failed"] = (
        await client.count_workflows(
            f'{ORDER_WORKFLOWS} AND {FAILED_ORDERS} AND CloseTime > "{since}"'
        )
    ).count
    undelivered = (
        f'{ORDER_WORKFLOWS} AND {ORDER_STATUS.name} = "{UNDELIVERED}" AND '
        f'ExecutionStatus != "Running" AND CloseTime > "{since}"'
    )
    figures["undelivered"] = (await client.count_workflows(undelivered)).count
    return figures
