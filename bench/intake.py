"""Benchmark 1, intake burst: orders POSTed by concurrent SR clients, against a bare SDK baseline.

`python -m bench.intake [--orders 1000] [--clients 50] [--rate R] [--client aiohttp|httpx]` starts
Temporal, the sandbox vendor (the catalog) and the API with no worker (so only intake is measured:
started orders wait in their task queue), then, in alternating halves so machine noise hits both
alike:
- ours: `POST /packages/orders` over HTTP with a bearer token, `clients` at a time;
- bare: `client.start_workflow` of the same workflow with the same input and options, as many at
  a time, from this process (no HTTP, no validation, no catalog).
It checks every order answered 202 and exists exactly once in Temporal, and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from bench.profile import profiled
from bench.stack import Processes, running
from orders.models import Candidate, Order
from orders.visibility import initial_search_attributes, workflow_id
from temporal_client import connect
from workflows.order import AssessmentOrderWorkflow

OURS, BARE = "bench-ours", "bench-bare"


def order_body(order_id: str) -> dict:
    return {
        "resultCallbackURL": f"https://api.smartrecruiters.com/assessment-api/v202010/orders/{order_id}/results",
        "assessmentPackageId": "skills-fullstack",
        "companyId": OURS,
        "jobId": "job-1",
        "candidate": {
            "id": "c-1",
            "email": "ada@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
        },
        "job": {"id": "job-1", "title": "Engineer"},
    }


def bare_order(order_id: str) -> Order:
    return Order(
        order_id=order_id,
        company_id=BARE,
        package_id="skills-fullstack",
        package_name="Full-stack developer skills",
        vendor="sandbox",
        result_callback_url=f"https://api.smartrecruiters.com/assessment-api/v202010/orders/{order_id}/results",
        candidate=Candidate(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        job_id="job-1",
        job_title="Engineer",
        deadline_days=7,
        poll_interval_seconds=300,
        received_at=datetime.now(UTC),
    )


async def burst(
    count: int, clients: int, send, rate: float | None = None
) -> tuple[float, list[float], list[int]]:
    """Send `count` orders, `clients` at a time; wall seconds, per-order latencies, statuses.

    With `rate`, the orders are due at that many a second (a steady load below capacity) and each
    latency counts from when its order was due, so a client busy past that time counts too."""
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait((index, str(uuid.uuid4())))
    latencies: list[float] = []
    statuses: list[int] = []

    async def client() -> None:
        while not queue.empty():
            index, order_id = queue.get_nowait()
            if rate:
                due = began_all + index / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))  # the pace of arrivals
            else:
                due = time.perf_counter()
            statuses.append(await send(order_id))
            latencies.append(time.perf_counter() - due)

    began_all = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - began_all, latencies, statuses


@dataclass
class Tally:
    """One path's orders over both halves: their seconds, each one's latency and answer."""

    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


async def count_orders(temporal, company: str, expected: int, timeout: float = 60.0) -> int:
    """Orders of a company in Temporal's visibility, once it has caught up (or after `timeout`)."""
    give_up = time.monotonic() + timeout
    while True:
        counted = (await temporal.count_workflows(f'SmartRecruitersCompany = "{company}"')).count
        if counted >= expected or time.monotonic() > give_up:
            return counted
        await asyncio.sleep(0.5)  # visibility lags behind starts


@contextlib.asynccontextmanager
async def sr_clients(
    library: str, base_url: str, clients: int, headers: dict[str, str]
) -> AsyncIterator[Callable[[str], Awaitable[int]]]:
    """`clients` keep-alive connections posting orders as SR does;
    yields `post(order_id) -> status`.

    The clients share the machine's 2 cores with the API and Temporal, so their own CPU counts
    against ours (and not against the bare loop, which has none): aiohttp's client costs about a
    third of httpx's per request. `--client httpx` measures with httpx's."""
    if library == "aiohttp":
        import aiohttp  # the bench extra: pip install -e '.[bench]'

        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(
            base_url, headers=headers, connector=connector, timeout=aiohttp.ClientTimeout(total=30)
        ) as session:

            async def post(order_id: str) -> int:
                async with session.post("/packages/orders", json=order_body(order_id)) as response:
                    await response.read()
                    return response.status

            yield post
        return
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=30, limits=httpx.Limits(max_connections=clients)
    ) as http:

        async def post(order_id: str) -> int:
            return (await http.post("/packages/orders", json=order_body(order_id))).status_code

        yield post


async def main(
    orders: int, clients: int, profile: Path | None, library: str, rate: float | None
) -> None:
    with running(
        ("sandbox-vendor", "api"),
        task_queue=f"bench-{uuid.uuid4().hex[:6]}",
        partner_company_id=OURS,
    ) as stack:
        settings = stack.settings
        temporal = await connect(settings)
        secret = settings.partner_client_secret.get_secret_value()
        async with httpx.AsyncClient(base_url=settings.public_url, timeout=30) as http:
            token = (
                await http.post(
                    "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": settings.partner_client_id,
                        "client_secret": secret,
                    },
                )
            ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        async with sr_clients(library, settings.public_url, clients, headers) as ours:

            async def bare(order_id: str) -> int:
                order = bare_order(order_id)
                await temporal.start_workflow(
                    AssessmentOrderWorkflow.run,
                    order,
                    id=workflow_id(order_id),
                    task_queue=settings.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    search_attributes=initial_search_attributes(order),
                )
                return 202

            await burst(20, 5, ours)  # warm-up: token, catalog, connections (not counted)
            await burst(20, 5, bare)
            results = {OURS: Tally(), BARE: Tally()}
            processes = Processes(stack, ("temporal", "api"), including_this_one="load generator")
            cpu: dict[str, collections.Counter[str]] = {
                OURS: collections.Counter(),
                BARE: collections.Counter(),
            }
            with profiled({"api": stack.processes["api"].pid}, profile):
                for _ in range(2):  # alternating halves
                    for name, send in ((BARE, bare), (OURS, ours)):
                        before = processes.cpu_seconds()
                        wall, latencies, statuses = await burst(orders // 2, clients, send, rate)
                        cpu[name].update(
                            {
                                process: seconds - before[process]
                                for process, seconds in processes.cpu_seconds().items()
                            }
                        )
                        results[name].wall += wall
                        results[name].latencies += latencies
                        results[name].statuses += statuses
        # Each path also started 20 warm-up orders.
        found = {
            name: await count_orders(temporal, name, orders + 20) - 20 for name in (OURS, BARE)
        }

    load = f"{rate:g} orders due a second" if rate else "a burst"
    table = Table(
        title=f"Intake, {load}: {orders} orders, {clients} concurrent clients (no worker running)"
    )
    for column in (
        "path",
        "accepted (202)",
        "in Temporal",
        "lost",
        "duplicated",
        "orders/s",
        "p50 ms",
        "p99 ms",
    ):
        table.add_column(column, justify="right")
    throughput = {}
    for name, tally in results.items():
        accepted = tally.statuses.count(202)
        throughput[name] = len(tally.statuses) / tally.wall
        table.add_row(
            "POST /packages/orders" if name == OURS else "bare start_workflow",
            str(accepted),
            str(found[name]),
            str(max(0, accepted - found[name])),
            str(max(0, found[name] - accepted)),
            f"{throughput[name]:.0f}",
            f"{1000 * percentile(tally.latencies, 0.50):.1f}",
            f"{1000 * percentile(tally.latencies, 0.99):.1f}",
        )
    console = Console(width=140)
    console.print(table)
    if rate:
        p99 = {name: 1000 * percentile(results[name].latencies, 0.99) for name in (OURS, BARE)}
        console.print(
            f"steady load of {rate:g} orders a second: p99 ours [bold]{p99[OURS]:.0f} "
            f"ms[/bold], bare {p99[BARE]:.0f} ms (goal ≤ 100 ms)"
        )
    else:
        console.print(
            "throughput ratio ours / bare: "
            f"[bold]{throughput[OURS] / throughput[BARE]:.2f}[/bold] (goal ≥ 0.8); p99 "
            "goal ≤ 100 ms"
        )
    for name in (OURS, BARE):
        console.print(
            f"CPU per order, {name}: "
            + ", ".join(
                f"{process} {1000 * seconds / orders:.1f} ms"
                for process, seconds in cpu[name].items()
            )
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--profile",
        type=Path,
        help="sample the API with py-spy during the bursts; stacks are written to this folder",
    )
    parser.add_argument(
        "--client",
        choices=("aiohttp", "httpx"),
        default="aiohttp",
        help="the SR clients' HTTP library (see sr_clients)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        help="orders due per second (a steady load) instead of a burst: latency below saturation",
    )
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.orders, arguments.clients, arguments.profile, arguments.client, arguments.rate
        )
    )
