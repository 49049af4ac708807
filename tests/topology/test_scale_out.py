"""The service scaled out on one machine: three workers and two API replicas (behind a
balancer) share Temporal's dev server and a PostgreSQL store, and one company's orders pour in
far past what SR allows its credential. SR (its simulator keeping SR's published limits, and
answering each request after 1.5 s, so the in-flight limit binds) must never see more than 10
requests in a second or 8 at once from that credential, and never answer 429; each order ends
COMPLETED once with one report, though a worker is killed and PostgreSQL restarted mid-run and
the vendor sends every webhook twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from embedded import Stack, free_port, settings_on_free_ports
from settings import Settings
from temporal_client import connect
from tests.faults.ledger import (
    all_show,
    complete_at_vendor,
    now,
    place_order_retrying,
    sr_orders,
    statuses,
    tally,
    unexplained_redeliveries,
)
from tests.support.balancer import balancing
from tests.support.http import client as http_client
from tests.support.order_workflows import worker_polls
from tests.support.postgres import OwnPostgres, server_programs
from tests.support.waiting import eventually
from tests.support.world import World

pytestmark = pytest.mark.long

WORKERS = 3
SR_LATENCY_MS = 1500
# A request already sent when its worker dies is still handled by SR a moment later.
FAULT_SLACK_SECONDS = SR_LATENCY_MS / 1000 + 2


@dataclass
class Topology:
    settings: Settings
    postgres: OwnPostgres
    stacks: list[Stack]

    @property
    def stack(self) -> Stack:
        return self.stacks[0]

    def start_worker(self, n: int) -> None:
        self.stack.start_component(f"worker-{n}", "worker")

    def kill_worker(self, n: int) -> None:
        self.stack.kill(f"worker-{n}")

    def replace_workers(self, **changes: object) -> None:
        """Stop every worker and start WORKERS new ones with changed settings."""
        for name in [name for name in self.stack.processes if name.startswith("worker-")]:
            self.stack.stop_component(name)
        self.stack.settings = self.settings.model_copy(update=changes)
        for n in range(1, WORKERS + 1):
            self.start_worker(n)


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    programs = server_programs()
    if programs is None:
        pytest.fail("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    data_dir = tmp_path_factory.mktemp("topology")
    postgres = OwnPostgres(programs, free_port())
    postgres.start()
    replicas = [free_port(), free_port()]
    balancer = free_port()
    settings = settings_on_free_ports(
        data_dir,
        database_url=postgres.url,
        api_port=replicas[0],
        public_url=f"http://127.0.0.1:{balancer}",
    )
    stacks = [
        Stack(settings, headless_ui=True, log_dir=data_dir / "logs"),
        Stack(
            settings.model_copy(update={"api_port": replicas[1]}),
            headless_ui=True,
            log_dir=data_dir / "logs",
        ),
    ]
    try:
        with balancing(balancer, replicas):
            stacks[0].start_temporal()
            stacks[0].start_components("sandbox-vendor", "smartrecruiters-sim")
            for n in range(1, WORKERS + 1):
                stacks[0].start_component(f"worker-{n}", "worker")
            for n, (stack, port) in enumerate(zip(stacks, replicas, strict=True), start=1):
                stack.start_component(f"api-{n}", "api", port)
            yield Topology(settings, postgres, stacks)
    finally:
        for stack in reversed(stacks):
            stack.stop()
        postgres.remove()


def _busiest_second(requests: list[dict]) -> int:
    arrivals = sorted(datetime.fromisoformat(r["received_at"]).timestamp() for r in requests)
    return max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)


def _most_in_flight(requests: list[dict]) -> int:
    """The most requests SR held at once: each from its arrival until SR answered it."""
    edges = sorted(
        [(datetime.fromisoformat(r["received_at"]).timestamp(), 1) for r in requests]
        + [(datetime.fromisoformat(r["at"]).timestamp(), -1) for r in requests]
    )  # an answer at the same instant as an arrival is counted first
    peak = current = 0
    for _, change in edges:
        current += change
        peak = max(peak, current)
    return peak


async def _slow_sr_keeping_its_limits(world: World, latency_ms: int = SR_LATENCY_MS) -> str:
    """SR keeps its published limits and answers every request after `latency_ms`, from now on
    (returned: SR's request log after this moment is the test's)."""
    (
        await world.http.put(f"{world.sr}/__sim/variants", json={"rate_limits": "enforced"})
    ).raise_for_status()
    (await world.http.delete(f"{world.sr}/__sim/faults")).raise_for_status()
    slow = {"status": 200, "count": 1_000_000, "latency_ms": latency_ms}
    (await world.http.post(f"{world.sr}/__sim/faults", json=slow)).raise_for_status()
    return datetime.now(UTC).isoformat()


async def _credential_requests(world: World, since: str) -> list[dict]:
    """Every request SR received with the default company's credential (token requests too)
    since the moment given."""
    everything = (await world.http.get(f"{world.sr}/__sim/requests")).raise_for_status().json()
    return [
        r
        for r in everything
        if r["client_id"] == world.settings.sr_client_id and r["received_at"] >= since
    ]


async def _at_least(world: World, order_ids: list[str], status: str, share: float) -> None:
    async def probe():
        orders = await sr_orders(world, order_ids)
        return sum(status in statuses(order) for order in orders.values()) >= share * len(order_ids)

    await eventually(probe, timeout=120, interval=0.5, what=f"{share:.0%} of orders at {status}")


ORDERS = 16


async def test_one_credential_keeps_srs_limits_across_workers_and_replicas_through_faults(
    topology: Topology,
):
    settings = topology.settings
    temporal = await connect(settings)
    for n in range(1, WORKERS + 1):
        await worker_polls(temporal, topology.stack, f"worker-{n}")
    async with http_client(max_connections=200, timeout=60) as http:
        world = World(settings, http)
        since = await _slow_sr_keeping_its_limits(world)
        # The vendor sends every webhook twice (at least once, as vendors do): the copies may
        # reach either replica.
        await world.webhook_mode("duplicate")
        candidates = await asyncio.gather(*(world.new_candidate() for _ in range(ORDERS)))
        started = now()
        placed = await asyncio.gather(*(place_order_retrying(world, c) for c in candidates))
        assert [p["partner_status"] for p in placed] == [202] * ORDERS
        order_ids = [p["order_id"] for p in placed]

        # A worker dies mid-run, requests of its own in flight at SR.
        await _at_least(world, order_ids, "PENDING", 1 / 3)
        topology.kill_worker(1)
        killed_at = now()
        await all_show(world, order_ids, "PENDING", timeout=180)

        # The candidates finish; PostgreSQL restarts while the results are being posted.
        await complete_at_vendor(world, order_ids, score=70)
        await _at_least(world, order_ids, "COMPLETED", 1 / 3)
        topology.postgres.restart()
        restarted_at = now()
        topology.start_worker(1)
        await all_show(world, order_ids, "COMPLETED", timeout=240)

        async def reports_uploaded():
            orders = await sr_orders(world, order_ids)
            return all(order["attachments"] for order in orders.values())

        await eventually(reports_uploaded, timeout=120, what="every order's report at SR")
        result = await tally(world, temporal, order_ids)
        requests = await _credential_requests(world, since)
        # An update SR took just before the kill or the restart may come again, identical.
        unexplained = await unexplained_redeliveries(
            world, result, restarted_at + FAULT_SLACK_SECONDS
        )

    print(
        f"{ORDERS} orders, {len(requests)} requests to SR with the credential, "
        f"busiest second {_busiest_second(requests)}, most in flight {_most_in_flight(requests)}, "
        f"redelivered {len(result.redelivered)}, worker killed {killed_at - started:.0f} s and "
        f"PostgreSQL restarted {restarted_at - started:.0f} s in, done in {now() - started:.0f} s"
    )
    assert result.problems == [] and result.lost == []
    assert unexplained == []
    refused = [r for r in requests if r["status"] == 429]
    assert refused == [], f"{len(refused)} of {len(requests)} requests refused with 429"
    assert _busiest_second(requests) <= 10
    assert _most_in_flight(requests) <= 8


async def test_each_process_keeping_the_limits_alone_overruns_the_credential(topology: Topology):
    """The same topology with the shared limits off: three workers, each within SR's limits on
    its own, together send the credential more than SR takes. (The test above can fail.)"""
    topology.replace_workers(sr_shared_limits=False)
    temporal = await connect(topology.settings)
    # All three take orders: the first to poll would otherwise take every order queued meanwhile
    # (an order's workflow tasks stay with one worker, and its activities go with them).
    for n in range(1, WORKERS + 1):
        await worker_polls(temporal, topology.stack, f"worker-{n}")
    async with http_client(max_connections=200, timeout=60) as http:
        world = World(topology.settings, http)
        # Slower still, so that the orders' first updates overlap at SR.
        since = await _slow_sr_keeping_its_limits(world, latency_ms=4 * SR_LATENCY_MS)
        candidates = await asyncio.gather(*(world.new_candidate() for _ in range(ORDERS)))
        placed = await asyncio.gather(*(place_order_retrying(world, c) for c in candidates))
        assert [p["partner_status"] for p in placed] == [202] * ORDERS

        async def refused_by_sr():
            return [r for r in await _credential_requests(world, since) if r["status"] == 429]

        # The orders' first updates to SR: some must be refused (the rest is as above).
        await eventually(refused_by_sr, timeout=120, what="SR to refuse a request with 429")
