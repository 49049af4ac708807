"""SmartRecruiters answering 500, 429 with Retry-After, and slowly, for a sustained period: every
status and every result reaches SR exactly once after it recovers.

Twice: for hours of workflow time on the time-skipping server (real activities and the real SR
client over HTTP to the SR simulator, vendor scripted), and for a real window on the embedded stack.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

import pytest

from orders.models import VendorStatus
from smartrecruiters.client import SmartRecruitersClient
from tests.faults.ledger import (
    accepted_patch_times,
    all_show,
    complete_at_vendor,
    counted,
    now,
    place_order,
    since,
    sr_orders,
    tally,
)
from tests.faults.scripted import AttemptLog, FlakyVendor, Peers, an_order, start
from tests.support.http import client as http_client
from tests.support.servers import smartrecruiters_alone
from tests.support.waiting import eventually

OUTAGE = timedelta(hours=2)
RETRY_AFTER = timedelta(minutes=10)
# During an outage, SR answers in turn: a 500, a 429 asking us to come back later, and a slow 503.
OUTAGE_ANSWERS = (
    {"status": 500},
    {"status": 429, "retry_after": int(RETRY_AFTER.total_seconds())},
    {"status": 503, "latency_ms": 100},
)


@pytest.fixture(scope="module")
def sr_sim(tmp_path_factory):
    """The SR simulator on its own; its partner (our API) is not needed and unreachable."""
    with smartrecruiters_alone(tmp_path_factory.mktemp("sr-outage")) as (url, config):
        yield url, config


class OneSmartRecruiters:
    """The real SR client, for the simulator's default company."""

    def __init__(self, client: SmartRecruitersClient) -> None:
        self.client = client

    async def for_company(self, company_id: str) -> SmartRecruitersClient:
        return self.client

    async def order_accepted(self, order_id: str, company_id: str) -> None:
        pass  # who owns an order id is the store's business, which these tests leave out


async def test_smartrecruiters_failing_for_hours_gets_every_result_exactly_once(
    time_skipping, sr_sim, figures
):
    env = time_skipping
    url, config = sr_sim
    began = time.monotonic()
    vendor = FlakyVendor(env.get_current_time)
    client = SmartRecruitersClient(
        base_url=url,
        token_url=f"{url}/identity/oauth/token",
        client_id=config.client_id,
        client_secret=config.client_secret,
    )
    log = AttemptLog(env.get_current_time)
    peers = Peers(vendor=vendor, sr=OneSmartRecruiters(client), log=log)
    task_queue = str(uuid.uuid4())

    async with http_client(base_url=url, timeout=30) as sr:

        async def sr_order() -> str:
            candidate = (
                await sr.post(
                    "/__sim/candidates",
                    json={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
                )
            ).json()
            return (
                await sr.post(
                    "/__sim/orders",
                    json={"candidate_id": candidate["id"], "package_id": "skills-fullstack"},
                )
            ).json()["order_id"]

        async def patched(order_id: str) -> list[str]:
            return [
                p["status"] for p in (await sr.get(f"/__sim/orders/{order_id}")).json()["patches"]
            ]

        # A: ordered during the outage; B: its candidate starts before; C, D: finish before.
        a, b, c, d = [
            an_order(
                await sr_order(), company_id=config.company_id, sr=f"{url}/assessment-api/v202010"
            )
            for _ in range(4)
        ]
        async with peers.worker(env, task_queue):
            handles = {o.order_id: await start(env, o, task_queue) for o in (b, c, d)}

            async def all_pending():
                return all([await patched(o.order_id) == ["PENDING"] for o in (b, c, d)])

            await eventually(all_pending, what="PENDING at SR for B, C and D")
            vendor.candidate(b.order_id, VendorStatus.STARTED)
            vendor.candidate(c.order_id, VendorStatus.COMPLETED)
            vendor.candidate(d.order_id, VendorStatus.COMPLETED)

            outage_began = await env.get_current_time()
            for answer in itertools.islice(itertools.cycle(OUTAGE_ANSWERS), 300):
                (await sr.post("/__sim/faults", json=answer)).raise_for_status()
            handles[a.order_id] = await start(env, a, task_queue)
            await env.sleep(
                OUTAGE
            )  # SR failing: PENDING, IN_PROGRESS, both reports and their COMPLETED wait
            (await sr.delete("/__sim/faults")).raise_for_status()
            outage_ended = await env.get_current_time()
            # SR is back, if slow.
            for _ in range(10):
                (
                    await sr.post("/__sim/faults", json={"status": 200, "latency_ms": 100})
                ).raise_for_status()
            vendor.candidate(a.order_id, VendorStatus.COMPLETED)
            vendor.candidate(b.order_id, VendorStatus.COMPLETED)
            states = [
                await handles[o.order_id].result() for o in (a, b, c, d)
            ]  # one at a time: each unlocks time skipping

        orders = {
            o.order_id: (await sr.get(f"/__sim/orders/{o.order_id}")).json() for o in (a, b, c, d)
        }
        answered = Counter(r["status"] for r in (await sr.get("/__sim/requests")).json())
    await client.aclose()

    # Every attempt SR refused, and when it was made (workflow time).
    updates = log.of("update_smartrecruiters") + log.of("transfer_report")
    refused = [u for u in updates if u.error]
    during = [u for u in refused if outage_began <= u.at <= outage_ended]
    last_result = max(
        u.at
        for u in log.of("update_smartrecruiters")
        if not u.error and u.argument.update.status == "COMPLETED"
    )
    recovery = last_result - outage_ended
    statuses = {
        order_id: [p["status"] for p in order["patches"]] for order_id, order in orders.items()
    }
    duplicated = sum(len(s) - len(set(s)) for s in statuses.values()) + sum(
        max(0, len(o["attachments"]) - 1) for o in orders.values()
    )
    figures.record(
        "sr_failing_hours",
        order=3,
        fault=(
            "SR answering 500, 429 (Retry-After 10 min) and slow 503s, in turn, for 2 h of "
            "workflow time"
        ),
        environment=(
            "time-skipping test server, real activities, real SR client over HTTP to the SR "
            "simulator"
        ),
        orders=4,
        lost=sum(1 for o in orders.values() if o["result"].get("status") != "COMPLETED"),
        duplicated=duplicated,
        redelivered=sum(
            1
            for o in orders.values()
            for i, p in enumerate(o["patches"])
            if i and p == o["patches"][i - 1]
        ),
        recovery_seconds=round(recovery.total_seconds(), 1),
        notes=(
            f"{len(during)} SR calls refused during the outage (SR answered "
            f"{answered[500]}×500, {answered[429]}×429, {answered[503]}×503); "
            f"recovery in workflow time; {time.monotonic() - began:.1f} s of real time"
        ),
    )

    assert all(state.finished for state in states)
    assert statuses == {
        a.order_id: ["PENDING", "COMPLETED"],
        b.order_id: ["PENDING", "IN_PROGRESS", "COMPLETED"],
        c.order_id: ["PENDING", "COMPLETED"],
        d.order_id: ["PENDING", "COMPLETED"],
    }
    assert all(len(order["attachments"]) == 1 for order in orders.values())
    assert all(
        order["result"]["score"] == {"raw": 3, "min": 0, "max": 4} for order in orders.values()
    )
    # The outage was in the way of every kind of update:
    # A's PENDING, B's IN_PROGRESS, C's and D's reports.
    refused_kinds = {(u.workflow_id, u.activity) for u in during}
    assert (f"assessment-order:{a.order_id}", "update_smartrecruiters") in refused_kinds
    assert (f"assessment-order:{b.order_id}", "update_smartrecruiters") in refused_kinds
    assert (f"assessment-order:{c.order_id}", "transfer_report") in refused_kinds
    assert answered[500] and answered[429] and answered[503]
    # Each 429's Retry-After was honoured: the next attempt came no sooner.
    _assert_retry_after_honoured(log, RETRY_AFTER)
    # Back-off is capped at five minutes,
    # Retry-After asked for ten: all through soon after SR is back.
    assert timedelta(0) <= recovery <= RETRY_AFTER + timedelta(minutes=1)


def _assert_retry_after_honoured(log: AttemptLog, retry_after: timedelta) -> None:
    by_activity: dict[tuple[str, str], list] = {}
    for attempt in log.attempts:
        by_activity.setdefault((attempt.workflow_id, attempt.activity_id), []).append(attempt)
    checked = 0
    for attempts in by_activity.values():
        for this, following in itertools.pairwise(attempts):
            if this.error and "HTTP 429" in this.error:
                checked += 1
                assert following.at - this.at >= retry_after - timedelta(seconds=1), (
                    this,
                    following,
                )
    assert checked > 0


E2E_ORDERS = 6
E2E_RETRY_AFTER_SECONDS = 2
E2E_ANSWERS = (
    {"status": 500, "count": 3},
    {"status": 429, "count": 2, "retry_after": E2E_RETRY_AFTER_SECONDS},
    {"status": 200, "count": 2, "latency_ms": 1500},  # slow, but it gets through
)


async def test_smartrecruiters_failing_for_a_while_end_to_end_gets_every_result_exactly_once(
    faults_world, faults_temporal, figures
):
    world = faults_world
    candidates = await asyncio.gather(*(world.new_candidate() for _ in range(E2E_ORDERS)))
    placed = await asyncio.gather(*(place_order(world, c) for c in candidates))
    order_ids = [p["order_id"] for p in placed]
    await all_show(world, order_ids, "PENDING", timeout=60)

    # SR fails every call (token and results alike) in turn, while the candidates start and finish.
    for answer in itertools.islice(itertools.cycle(E2E_ANSWERS), 90):
        (await world.http.post(f"{world.sr}/__sim/faults", json=answer)).raise_for_status()
    began = now()
    await asyncio.gather(
        *(world.at_vendor("start", order_id) for order_id in order_ids[: E2E_ORDERS // 2])
    )
    await complete_at_vendor(world, order_ids, score=88)

    def slow_answers(rules: list[dict]) -> int:
        return sum(rule["count"] for rule in rules if rule.get("latency_ms"))

    queued_slow = slow_answers(list(itertools.islice(itertools.cycle(E2E_ANSWERS), 90)))

    async def every_order_refused_thrice_and_every_answer_given():
        answered = await _answers(world, order_ids, since_=began)
        refused = Counter(r["order_id"] for r in answered if r["status"] in (429, 500))
        through = {
            o
            for o, order in (await sr_orders(world, order_ids)).items()
            if order["result"].get("status") == "COMPLETED"
        }
        slow = queued_slow - slow_answers((await world.http.get(f"{world.sr}/__sim/faults")).json())
        sustained = all(refused[o] >= 3 or o in through for o in order_ids)
        return sustained and {429, 500} <= {r["status"] for r in answered} and slow > 0

    # A sustained outage: it ends once every order still open has been refused three times.
    await eventually(
        every_order_refused_thrice_and_every_answer_given,
        timeout=60,
        what="SR's failures to reach every order",
    )
    slow = queued_slow - slow_answers((await world.http.get(f"{world.sr}/__sim/faults")).json())
    (await world.http.delete(f"{world.sr}/__sim/faults")).raise_for_status()
    ended = now()

    done = await all_show(world, order_ids, "COMPLETED", timeout=90)
    recovery = since(ended, (await accepted_patch_times(world, order_ids, "COMPLETED")).values())
    answered = await _answers(world, order_ids, since_=began)
    result = await tally(world, faults_temporal, order_ids)
    statuses = Counter(r["status"] for r in answered)
    figures.record(
        "sr_failing_e2e",
        order=3.5,
        fault=(
            "SR answering 500, 429 (Retry-After 2 s) and slow (1.5 s) answers, in turn, to "
            "every call until each open order was refused 3 times"
        ),
        environment="embedded stack, real processes",
        orders=E2E_ORDERS,
        **counted(result),
        recovery_seconds=round(recovery, 1),
        notes=(
            f"outage {ended - began:.1f} s; SR answered {statuses[500]}×500, "
            f"{statuses[429]}×429 to our orders' calls, {slow} calls slowly"
        ),
    )
    assert result.problems == [] and result.redelivered == []
    assert all(done[o]["result"]["score"]["raw"] == 88 for o in order_ids)
    assert slow > 0
    # Each 429's Retry-After was honoured: the same call came back no sooner.
    retries = 0
    for this, following in _consecutive_calls(answered):
        if this["status"] == 429:
            retries += 1
            assert following["at"] - this["at"] >= E2E_RETRY_AFTER_SECONDS - 0.1, (this, following)
    assert retries > 0


async def _answers(world, order_ids: list[str], since_: float) -> list[dict]:
    """SR's record of our calls for these orders since `since_`: order, call, answer, when."""
    records = (await world.http.get(f"{world.sr}/__sim/requests")).raise_for_status().json()
    answers = []
    for record in records:
        at = datetime.fromisoformat(record["at"]).timestamp()
        order_id = next((o for o in order_ids if f"/orders/{o}/" in record["path"]), None)
        if order_id and at >= since_:
            answers.append(
                {
                    "order_id": order_id,
                    "call": (record["method"], record["path"]),
                    "status": record["status"],
                    "at": at,
                }
            )
    return answers


def _consecutive_calls(answers: list[dict]):
    by_call: dict[tuple, list[dict]] = {}
    for answer in sorted(answers, key=lambda a: a["at"]):
        by_call.setdefault(answer["call"], []).append(answer)
    for calls in by_call.values():
        yield from itertools.pairwise(calls)
