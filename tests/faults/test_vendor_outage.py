"""A vendor down for an hour of workflow time, during the invitation and again during the result
fetch (time-skipping server, real activities): every order completes, one invitation each."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from orders.models import VendorStatus
from tests.faults.scripted import (
    AttemptLog,
    FlakyVendor,
    InMemorySmartRecruiters,
    Outage,
    Peers,
    an_order,
    hours,
    start,
)

ORDERS = 6
OUTAGE = timedelta(hours=1)


async def test_vendor_down_for_an_hour_twice_completes_every_order_once(time_skipping, figures):
    env = time_skipping
    began = time.monotonic()
    t0 = await env.get_current_time()
    # Down from the moment the orders arrive (the first invitation is even made, but its answer
    # lost), and down again for an hour from the moment it first reports a completed candidate.
    vendor = FlakyVendor(
        env.get_current_time,
        outages=[Outage(t0, t0 + OUTAGE)],
        outage_after_first_completion=OUTAGE,
        lose_first_invitation_answer=True,
    )
    sr = InMemorySmartRecruiters(env.get_current_time)
    peers = Peers(vendor=vendor, sr=sr, log=AttemptLog(env.get_current_time))
    orders = [an_order(poll_hours=1) for _ in range(ORDERS)]
    task_queue = str(uuid.uuid4())

    async with peers.worker(env, task_queue):
        handles = [await start(env, order, task_queue) for order in orders]
        await env.sleep(timedelta(hours=3))  # invitations go out after the first outage; PENDING
        for order in orders[: ORDERS // 2]:
            vendor.candidate(order.order_id, VendorStatus.STARTED)
        await env.sleep(timedelta(hours=2))
        for order in orders:
            vendor.candidate(order.order_id, VendorStatus.COMPLETED)
        states = [
            await handle.result() for handle in handles
        ]  # one at a time: each unlocks time skipping

    second = vendor.outages[1]
    invited_at = [sr.accepted_at[(o.order_id, "PENDING")] for o in orders]
    completed_at = [sr.accepted_at[(o.order_id, "COMPLETED")] for o in orders]
    recovery = max(completed_at) - second.end
    duplicated = sum(max(0, n - 1) for n in vendor.emails.values()) + sum(
        max(0, n - 1) for n in sr.uploads.values()
    )
    duplicated += sum(
        len(sr.statuses(o.order_id)) - len(set(sr.statuses(o.order_id))) for o in orders
    )
    lost = sum(1 for o in orders if sr.statuses(o.order_id)[-1:] != ["COMPLETED"])
    figures.record(
        "vendor_down_an_hour",
        order=4,
        fault=(
            "vendor down (503s, timeouts) for 1 h of workflow time during the invitations, and "
            "1 h again from its first completed status read (result and report fetch)"
        ),
        environment="time-skipping test server, real activities, scripted vendor",
        orders=ORDERS,
        lost=lost,
        duplicated=duplicated,
        redelivered=sum(
            1
            for o in orders
            for i, p in enumerate(sr.patches[o.order_id])
            if i and p == sr.patches[o.order_id][i - 1]
        ),
        recovery_seconds=round(recovery.total_seconds(), 1),
        notes=(
            f"calls refused by the vendor: {dict(sorted(vendor.refused.items()))}; one "
            "invitation answer lost and retried; "
            f"recovery in workflow time; {time.monotonic() - began:.1f} s of real time"
        ),
    )

    # Nothing lost: every order completed, none failed or expired while the vendor was down.
    for order, state in zip(orders, states, strict=False):
        assert state.finished and state.result is not None, state.timeline
        expected = (
            ["PENDING", "IN_PROGRESS", "COMPLETED"]
            if order in orders[: ORDERS // 2]
            else ["PENDING", "COMPLETED"]
        )
        assert sr.statuses(order.order_id) == expected
        assert sr.patches[order.order_id][-1]["score"] == {"raw": 3, "min": 0, "max": 4}
    # Nothing twice: one invitation email per order
    # (the lost answer's retry found the invitation), one report.
    assert vendor.emails == {o.order_id: 1 for o in orders}
    assert sr.uploads == {o.order_id: 1 for o in orders}
    # The outages really were in the way of the invitation, the status reads and the result fetch.
    assert vendor.refused["invitation"] > 0 and vendor.refused["status read"] > 0
    assert vendor.refused["result fetch"] > 0
    assert all(at >= t0 + OUTAGE for at in invited_at)
    assert all(at >= second.end for at in completed_at)
    # Calls back off to at most five minutes, polls wait their interval: every order is through
    # within a poll interval (and a back-off) of the vendor's return.
    assert recovery <= timedelta(hours=1, minutes=6), f"{hours(recovery):.2f} h"
