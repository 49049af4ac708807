"""Counting what happened to a set of orders, from the records of the parties themselves:
SR (the simulator's orders and request log), the vendor (its outbox) and Temporal (executions).

Nothing here trusts our own service's account of what it did.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from temporalio.client import Client

from tests.support.order_workflows import order_workflow_id
from tests.support.waiting import eventually
from tests.support.world import World

# The order SR may see statuses in; any status may be skipped, none repeated or reversed.
STATUS_ORDER = ("PENDING", "IN_PROGRESS", "COMPLETED")


async def place_order(
    world: World, candidate: dict, package_id: str = "skills-fullstack", kind: str = "manual"
) -> dict:
    """SR places an order for `candidate`; the answer says what SR got back from us."""
    response = await world.http.post(
        f"{world.sr}/__sim/orders",
        json={"candidate_id": candidate["id"], "package_id": package_id, "kind": kind},
    )
    # 502: SR got no answer from us (the simulator keeps the order and says why).
    assert response.status_code in (200, 502), response.text
    return response.json() | {"candidate": candidate}


async def place_order_retrying(world: World, candidate: dict, kind: str = "manual") -> dict:
    """SR places an order and, as SR does, sends it again while we answer 503 (e.g. Temporal
    slower than our RPC timeout under a burst); `refusals` counts those 503s."""
    placed = await place_order(world, candidate, kind=kind)
    refusals = 0
    while placed.get("partner_status") == 503 and refusals < 10:
        refusals += 1
        placed = await resend(world, placed["order_id"]) | {"candidate": candidate}
    return placed | {"refusals": refusals}


async def resend(world: World, order_id: str) -> dict:
    """SR sends the same order again (its retry, or a recruiter's second click)."""
    response = await world.http.post(f"{world.sr}/__sim/orders/{order_id}/resend")
    assert response.status_code in (200, 502), response.text
    return response.json()


async def sr_orders(world: World, order_ids: Iterable[str]) -> dict[str, dict]:
    wanted = set(order_ids)
    everything = (await world.http.get(f"{world.sr}/__sim/orders")).raise_for_status().json()
    return {order["order_id"]: order for order in everything if order["order_id"] in wanted}


def statuses(order: dict) -> list[str]:
    """The statuses SR was sent, in the order it accepted them."""
    return [patch["status"] for patch in order["patches"]]


async def emails(world: World) -> Counter:
    """Invitation emails the vendor sent, per SR order id
    (the vendor's reference is our order's reference)."""
    outbox = (await world.http.get(f"{world.vendor}/control/outbox")).raise_for_status().json()
    return Counter(email["reference"].partition(":")[0] for email in outbox)


async def invited(world: World, order_ids: Iterable[str]) -> set[str]:
    sent = await emails(world)
    return {order_id for order_id in order_ids if sent[order_id]}


async def workflow_runs(temporal: Client, order_ids: Iterable[str]) -> Counter:
    """Executions per order in Temporal (every run of every workflow id, open or closed)."""
    wanted = {order_workflow_id(order_id): order_id for order_id in order_ids}
    runs: Counter = Counter()
    async for execution in temporal.list_workflows():
        if execution.id in wanted:
            runs[wanted[execution.id]] += 1
    return runs


async def accepted_patches(
    world: World, order_ids: Iterable[str], status: str
) -> dict[str, list[float]]:
    """When SR accepted each copy of each order's `status` update
    (unix seconds, SR's request log)."""
    wanted = set(order_ids)
    requests = (
        (await world.http.get(f"{world.sr}/__sim/requests", params={"method": "PATCH"}))
        .raise_for_status()
        .json()
    )
    times: dict[str, list[float]] = {}
    for request in requests:
        order_id = request["path"].split("/orders/")[1].split("/")[0]
        if (
            order_id in wanted
            and 200 <= request["status"] < 300
            and (request["json"] or {}).get("status") == status
        ):
            times.setdefault(order_id, []).append(datetime.fromisoformat(request["at"]).timestamp())
    return {order_id: sorted(copies) for order_id, copies in times.items()}


async def accepted_patch_times(
    world: World, order_ids: Iterable[str], status: str
) -> dict[str, float]:
    """When SR accepted each order's `status` update (the last copy, if it got several)."""
    return {
        order_id: copies[-1]
        for order_id, copies in (await accepted_patches(world, order_ids, status)).items()
    }


async def all_show(
    world: World, order_ids: list[str], status: str, *, timeout: float, what: str | None = None
) -> dict[str, dict]:
    """Wait until SR has been sent `status` for every order (it may have moved on since)."""

    async def probe():
        orders = await sr_orders(world, order_ids)
        missing = [
            order_id
            for order_id in order_ids
            if status not in statuses(orders.get(order_id, {"patches": []}))
        ]
        return orders if not missing else None

    return await eventually(
        probe,
        timeout=timeout,
        interval=0.5,
        what=what or f"SR to be sent {status} for {len(order_ids)} orders",
    )


async def complete_at_vendor(world: World, order_ids: Iterable[str], score: int = 70) -> None:
    """The candidates finish their tests."""
    await asyncio.gather(
        *(world.at_vendor("complete", order_id, score=score) for order_id in order_ids)
    )


@dataclass
class Tally:
    """Lost and duplicated, per party, for a set of orders that should all have completed.

    `redelivered`: (order id, status) of an SR update that reached SR twice, identical and back
    to back: what an at-least-once sender does when it crashes after SR took the update but
    before it learned so. The merge patch leaves SR's state as it was, so it is not counted as
    a duplicate but reported on its own, and a case decides whether its fault explains it.
    """

    orders: int
    lost: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duplicated: Counter = field(default_factory=Counter)
    redelivered: list[tuple[str, str]] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(self.duplicated.values())


def counted(*tallies: Tally) -> dict[str, int]:
    """What a case's figures say of its tallies: orders lost,
    duplicated and SR updates redelivered."""
    return {
        "lost": sum(len(t.lost) for t in tallies),
        "duplicated": sum(t.duplicates for t in tallies),
        "redelivered": sum(len(t.redelivered) for t in tallies),
    }


async def tally(
    world: World, temporal: Client, order_ids: list[str], *, attachments: bool = True
) -> Tally:
    """Check each order against SR, the vendor and Temporal: one workflow, one invitation email,
    each status sent to SR at most once and in order, COMPLETED exactly once, one report."""
    orders = await sr_orders(world, order_ids)
    sent = await emails(world)
    runs = await workflow_runs(temporal, order_ids)
    result = Tally(orders=len(order_ids))
    for order_id in order_ids:
        order = orders[order_id]
        patches = [
            patch
            for i, patch in enumerate(order["patches"])
            if i == 0 or patch != order["patches"][i - 1]
        ]
        result.redelivered += [
            (order_id, patch["status"])
            for i, patch in enumerate(order["patches"])
            if i and patch == order["patches"][i - 1]
        ]
        seen = [patch["status"] for patch in patches]
        if order["result"].get("status") != "COMPLETED":
            result.lost.append(order_id)
            result.problems.append(
                f"{order_id}: SR shows {order['result'].get('status')} after {seen}"
            )
        for status, count in Counter(seen).items():
            if count > 1:
                result.duplicated[f"{status} sent to SR again"] += count - 1
                result.problems.append(f"{order_id}: SR was sent {status} {count} times: {seen}")
        ranks = [STATUS_ORDER.index(status) for status in seen if status in STATUS_ORDER]
        if ranks != sorted(ranks) or len(ranks) != len(seen):
            result.problems.append(f"{order_id}: statuses out of order: {seen}")
        if attachments and len(order["attachments"]) > 1:
            result.duplicated["report uploaded again"] += len(order["attachments"]) - 1
            result.problems.append(f"{order_id}: {len(order['attachments'])} reports at SR")
        if attachments and not order["attachments"] and order_id not in result.lost:
            result.problems.append(f"{order_id}: no report at SR")
        if sent[order_id] != 1:
            result.duplicated["invitation email again"] += max(0, sent[order_id] - 1)
            result.problems.append(f"{order_id}: {sent[order_id]} invitation emails")
        if runs[order_id] != 1:
            result.duplicated["workflow started again"] += max(0, runs[order_id] - 1)
            result.problems.append(f"{order_id}: {runs[order_id]} workflow executions")
    return result


async def unexplained_redeliveries(world: World, result: Tally, fault_until: float) -> list[str]:
    """Redelivered SR updates whose first copy SR took after `fault_until`: a crash or outage
    that ended by then cannot explain them."""
    unexplained = []
    for order_id, status in result.redelivered:
        first = (await accepted_patches(world, [order_id], status))[order_id][0]
        if first > fault_until:
            unexplained.append(
                f"{order_id}: {status} again, first taken {first - fault_until:.1f} s "
                "after the fault"
            )
    return unexplained


def since(moment: float, times: Iterable[float]) -> float:
    """Seconds from `moment` to the last of `times` (0 if all were before it)."""
    return max([0.0, *(t - moment for t in times)])


def now() -> float:
    return time.time()
