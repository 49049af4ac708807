"""Benchmark 3, waiting orders: what 10,000 open orders cost while their candidates take their time.

`python -m bench.waiting [--orders 10000] [--companies 20] [--window 600]` starts Temporal, the
sandbox vendor, the SR simulator, the worker and the API; connects `companies` companies through
Connect (each posts to SR with its own credentials, as in production, so SR's limit of 10
requests a second per credential does not stretch the intake over half an hour); measures the
idle processes (the baseline, same run); places the orders (`POST /packages/orders`) and waits
until every one shows PENDING; then, for `window` seconds with nobody taking a test, measures
each process's resident memory and CPU, and the vendor's status reads per second and per
invitation (its own tally), against the polling budget: each open order reads its status at
most once per `ASSESSMENTS_POLL_INTERVAL_SECONDS`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import httpx
from rich.console import Console
from rich.table import Table

from bench.stack import Processes, connect_companies, running
from embedded import ORDER_PATH
from orders.visibility import ORDER_STATUS
from temporal_client import connect

MEASURED = ("worker", "api", "temporal", "sandbox-vendor")
IDLE_SECONDS = 30.0


async def measure_idle(
    processes: Processes, seconds: float
) -> tuple[dict[str, float], dict[str, float]]:
    """The baseline: each process's memory and CPU share with no orders at all."""
    before, began = processes.cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)  # the measuring period itself
    after = processes.cpu_seconds()
    return processes.rss_mb(), {
        name: 100 * (after[name] - before[name]) / (time.monotonic() - began) for name in MEASURED
    }


async def place(sr: httpx.AsyncClient, companies: list[str], orders: int, clients: int = 20) -> int:
    """Orders placed the way SR places them (the simulator POSTs each to our API), `clients` at
    a time; how many SR saw accepted."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for index in range(orders):
        queue.put_nowait(companies[index % len(companies)])
    accepted = 0

    async def recruiter() -> None:
        nonlocal accepted
        while not queue.empty():
            email = f"c-{uuid.uuid4().hex[:8]}@example.com"
            candidate = {
                "first_name": "Ada",
                "last_name": "Bench",
                "email": email,
                "company_id": queue.get_nowait(),
            }
            candidate_id = (await sr.post("/__sim/candidates", json=candidate)).json()["id"]
            placed = await sr.post(
                "/__sim/orders",
                json={"candidate_id": candidate_id, "package_id": "logic-quiz", "kind": "manual"},
            )
            accepted += placed.status_code == 200 and placed.json()["partner_status"] == 202

    await asyncio.gather(*(recruiter() for _ in range(clients)))
    return accepted


async def wait_until_pending(temporal, orders: int, processes: Processes, timeout: float) -> float:
    """Seconds until every order shows PENDING at SR (per Temporal's visibility)."""
    began = time.monotonic()
    while (await temporal.count_workflows(f'{ORDER_STATUS.name} = "PENDING"')).count < orders:
        if time.monotonic() - began > timeout:
            raise SystemExit(f"not every order reached PENDING within {timeout:.0f} s")
        processes.rss_mb()
        await asyncio.sleep(2)  # visibility is polled; the figure is the time it took
    return time.monotonic() - began


async def main(orders: int, companies: int, window: float, poll_seconds: float) -> None:
    with running(ORDER_PATH, poll_interval_seconds=poll_seconds) as stack:
        settings = stack.settings
        temporal = await connect(settings)
        processes = Processes(stack, MEASURED)
        console = Console(width=140, stderr=True)
        company_ids = await connect_companies(settings, companies)
        async with httpx.AsyncClient(base_url=settings.sandbox_vendor_url, timeout=60) as vendor:
            (
                await vendor.post("/control/status-reads", json={"counting": True})
            ).raise_for_status()  # off by default
        console.log(
            f"{companies} companies connected; measuring the idle stack for {IDLE_SECONDS:.0f} s"
        )
        async with httpx.AsyncClient(
            base_url=settings.sr_base_url, timeout=60, limits=httpx.Limits(max_connections=20)
        ) as sr:
            idle_rss, idle_cpu = await measure_idle(processes, IDLE_SECONDS)
            placing_began = time.time()
            accepted = await place(sr, company_ids, orders)
            placing = time.time() - placing_began
            console.log(
                f"{accepted:,} orders placed in {placing:.0f} s; waiting until all show PENDING"
            )
            settling = await wait_until_pending(
                temporal, accepted, processes, timeout=max(600.0, orders / 5)
            )

            console.log(
                f"all PENDING after {settling:.0f} s more; measuring {window:.0f} s of waiting"
            )
            # The window: nothing happens but waiting and polling.
            start_rss, start_cpu, window_began = (
                processes.rss_mb(),
                processes.cpu_seconds(),
                time.time(),
            )
            processes.peak_rss = dict(start_rss)
            while time.time() - window_began < window:
                processes.rss_mb()
                await asyncio.sleep(5)  # a sampling period, not synchronisation
            end_cpu, window_ended = processes.cpu_seconds(), time.time()
            async with httpx.AsyncClient(
                base_url=settings.sandbox_vendor_url, timeout=60
            ) as vendor:
                reads = (await vendor.get("/control/status-reads")).json()
            open_orders = (await temporal.count_workflows("ExecutionStatus = 'Running'")).count

    in_window = {
        int(second): n
        for second, n in reads["per_second"].items()
        if window_began <= int(second) < window_ended
    }
    elapsed = window_ended - window_began
    budget_per_hour = open_orders * 3600 / poll_seconds
    most_per_order = max(reads["per_invitation"].values(), default=0)
    # An order may read its status once as it starts waiting, then once per interval.
    allowed_per_order = 1 + int((window_ended - placing_began) // poll_seconds)

    console = Console(width=140)
    console.print(
        f"Waiting orders: {accepted:,} of {orders:,} accepted in {placing:.0f} s for "
        f"{companies} companies; all PENDING at SR {settling:.0f} s later"
    )
    table = Table(title=f"Processes: idle before the orders, and during {elapsed:.0f} s of waiting")
    for column in (
        "process",
        "idle RSS MB",
        "waiting RSS MB",
        "peak RSS MB",
        "idle CPU %",
        "waiting CPU %",
    ):
        table.add_column(column, justify="right")
    for name in MEASURED:
        cpu = 100 * (end_cpu[name] - start_cpu[name]) / elapsed
        table.add_row(
            name,
            f"{idle_rss[name]:.0f}",
            f"{start_rss[name]:.0f}",
            f"{processes.peak_rss[name]:.0f}",
            f"{idle_cpu[name]:.1f}",
            f"{cpu:.1f}",
        )
    console.print(table)
    polls = Table(
        title=(
            f"Vendor status reads (poll interval {poll_seconds:.0f} s, {open_orders:,} open orders)"
        )
    )
    for column in (
        "reads in window",
        "per hour",
        "budget per hour",
        "ratio",
        "busiest second",
        "most reads of one order",
        "allowed",
    ):
        polls.add_column(column, justify="right")
    per_hour = sum(in_window.values()) * 3600 / elapsed
    polls.add_row(
        f"{sum(in_window.values()):,}",
        f"{per_hour:,.0f}",
        f"{budget_per_hour:,.0f}",
        f"{per_hour / budget_per_hour:.2f}",
        f"{max(in_window.values(), default=0)}",
        str(most_per_order),
        str(allowed_per_order),
    )
    console.print(polls)
    console.print(
        "Goals: worker RSS ≤ 500 MB; polling never above budget (per hour, and per order)."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--companies", type=int, default=20)
    parser.add_argument("--window", type=float, default=600.0, help="seconds of waiting measured")
    parser.add_argument(
        "--poll-seconds", type=float, default=300.0, help="ASSESSMENTS_POLL_INTERVAL_SECONDS"
    )
    arguments = parser.parse_args()
    asyncio.run(
        main(arguments.orders, arguments.companies, arguments.window, arguments.poll_seconds)
    )
