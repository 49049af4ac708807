"""Hundreds of signed sandbox webhooks, fired at once for a set of orders: duplicates, replays,
early claims and stale statuses mixed in with the vendor's own. SR sees each status once, in
order; our API never answers 5xx."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter

from simulators.sandbox_vendor.webhooks import sign
from tests.faults.ledger import (
    accepted_patch_times,
    all_show,
    counted,
    now,
    place_order,
    since,
    sr_orders,
    statuses,
    tally,
)
from tests.support.order_workflows import order_workflow_id
from workflows.order import AssessmentOrderWorkflow

ORDERS = 8


class Storm:
    """Signed sandbox events for our orders, sent concurrently; every answer is kept."""

    def __init__(self, world, secret: str, invitations: dict[str, dict]) -> None:
        self.world = world
        self.secret = secret
        self.invitations = (
            invitations  # order id → the vendor's invitation email (its id, our reference)
        )
        self.answers: Counter = Counter()
        self.replays = 0

    def event(self, order_id: str, status: str, event_id: str | None = None) -> bytes:
        return json.dumps(
            {
                "id": event_id or f"evt_storm_{uuid.uuid4().hex}",
                "type": f"invitation.{status}",
                "created_at": "2026-11-01T00:00:00Z",
                "data": {
                    "invitation_id": self.invitations[order_id]["invitation_id"],
                    "reference": self.invitations[order_id]["reference"],
                    "status": status,
                },
            }
        ).encode()

    def gust(self, statuses: list[str]) -> list[tuple[bytes, str]]:
        """For every order: each status as an event delivered twice (one event id, each delivery
        signed at its own time, as a vendor's retry is), and one delivery sent twice with the
        very same signature (a replay)."""
        signed_at = int(time.time())
        requests: list[tuple[bytes, str]] = []
        for order_id in self.invitations:
            for status in statuses:
                event = self.event(order_id, status)
                requests += [
                    (event, sign(self.secret, event, signed_at)),
                    (event, sign(self.secret, event, signed_at - 1)),
                ]
            replayed = self.event(order_id, statuses[0])
            signature = sign(self.secret, replayed, signed_at)
            requests += [(replayed, signature), (replayed, signature)]
            self.replays += 1
        random.shuffle(requests)
        return requests

    async def blow(self, requests: list[tuple[bytes, str]], *alongside) -> None:
        async def send(body: bytes, signature: str) -> None:
            headers = {"Content-Type": "application/json", "Sandbox-Signature": signature}
            response = await self.world.http.post(
                f"{self.world.api}/webhooks/sandbox", content=body, headers=headers
            )
            self.answers[response.status_code] += 1

        await asyncio.gather(*(send(body, signature) for body, signature in requests), *alongside)


async def test_a_webhook_storm_changes_each_order_once_and_in_order(
    faults_stack, faults_world, faults_temporal, figures
):
    world = faults_world
    candidates = await asyncio.gather(*(world.new_candidate() for _ in range(ORDERS)))
    placed = await asyncio.gather(*(place_order(world, c) for c in candidates))
    order_ids = [p["order_id"] for p in placed]
    await all_show(world, order_ids, "PENDING", timeout=60)
    outbox = {
        email["reference"].partition(":")[0]: email
        for email in (await world.http.get(f"{world.vendor}/control/outbox")).json()
    }
    storm = Storm(
        world,
        faults_stack.settings.sandbox_webhook_secret.get_secret_value(),
        {o: outbox[o] for o in order_ids},
    )
    began = now()

    # Early claims while the candidates are only invited: the vendor says otherwise, nothing moves.
    await storm.blow(storm.gust(["completed", "started", "declined", "cancelled"]))
    assert all(
        statuses(order) == ["PENDING"] for order in (await sr_orders(world, order_ids)).values()
    )
    # The candidates start, amid stale and duplicated events; then finish, amid more.
    await storm.blow(
        storm.gust(["invited", "started", "invited"]),
        *(world.at_vendor("start", o) for o in order_ids),
    )
    await all_show(world, order_ids, "IN_PROGRESS", timeout=60)
    await storm.blow(
        storm.gust(["started", "invited", "completed", "started"]),
        *(world.at_vendor("complete", o, score=64) for o in order_ids),
    )
    storm_over = now()
    done = await all_show(world, order_ids, "COMPLETED", timeout=60)
    recovery = since(
        storm_over, (await accepted_patch_times(world, order_ids, "COMPLETED")).values()
    )
    # Late stragglers after the orders finished: accepted, and nothing changes.
    await storm.blow(storm.gust(["started", "completed"]))

    result = await tally(world, faults_temporal, order_ids)
    after = await sr_orders(world, order_ids)
    taken = 0
    for order_id in order_ids:
        state = await faults_temporal.get_workflow_handle(order_workflow_id(order_id)).query(
            AssessmentOrderWorkflow.state
        )
        assert len(state.events_received) == len(set(state.events_received))
        taken += len(state.events_received)
    sent = sum(storm.answers.values())
    figures.record(
        "webhook_storm",
        order=5,
        fault=(
            f"{sent} signed webhooks fired concurrently at {ORDERS} orders: each event twice, "
            "replays, early claims, stale statuses"
        ),
        environment="embedded stack, real processes",
        orders=ORDERS,
        **counted(result),
        recovery_seconds=round(recovery, 1),
        notes=(
            f"answers {dict(sorted(storm.answers.items()))} ({storm.replays} replays refused); "
            f"{taken} distinct events taken by the orders, every copy refused without a "
            "trace in their histories; "
            f"storm lasted {storm_over - began:.1f} s"
        ),
    )

    assert not [status for status in storm.answers if status >= 500]
    # The first two gusts reach their orders whole (each status, and the replayed event, once).
    assert taken >= ORDERS * 9, taken
    # 429: more webhooks for one order at once than Temporal takes; the vendor retries them.
    assert storm.answers[401] == storm.replays and {202, 401} <= set(storm.answers) <= {
        202,
        401,
        429,
    }
    assert result.problems == [] and result.redelivered == []
    assert all(statuses(done[o]) == ["PENDING", "IN_PROGRESS", "COMPLETED"] for o in order_ids)
    assert all(
        after[o]["patches"] == done[o]["patches"] for o in order_ids
    )  # the stragglers changed nothing
