"""Benchmark 2, end to end: orders from SR's POST to COMPLETED at SR, against a bare SDK workflow.

`python -m bench.end_to_end [--orders 200] [--concurrency 20] [--companies 10]` (benchmarks 2 and 4)
starts the whole embedded stack (Temporal, worker, API, SR simulator, sandbox vendor) and connects
`companies` companies through Connect, each with its own SR credentials (and SR limit), as a partner
serves many companies. Ours: the SR simulator places each order
(`POST /packages/orders` to our API); the sandbox vendor is set to have each candidate complete
the moment they are invited (no request per order from the benchmark, whose own CPU would
compete with the stack's); the vendor's webhook, the result, the report and `COMPLETED` follow. The
bare baseline, run on the same Temporal server by a worker in this process: a workflow of the same
shape (as many activities, one signal) whose activities do nothing. Times come from the SR
simulator's request log, so polling here adds nothing to them.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from temporalio.worker import Worker

from bench.bare import BareOrder, nothing
from bench.intake import percentile
from bench.profile import profiled
from bench.stack import Processes, connect_companies, running
from embedded import ORDER_PATH
from orders.visibility import order_id_in
from temporal_client import connect


async def run_ours(
    stack,
    http: httpx.AsyncClient,
    orders: int,
    concurrency: int,
    companies: list[str],
    rate: float | None = None,
) -> tuple[float, list[float], list[float]]:
    """Wall seconds from the first placement to the last COMPLETED, per-order end-to-end and
    webhook-to-result seconds. The orders come from `companies` in turn; with `rate`, at most
    that many orders a second are placed (a steady load rather than a burst)."""
    sr, vendor = stack.settings.sr_base_url, stack.settings.sandbox_vendor_url
    placed_at: dict[str, float] = {}
    gate = asyncio.Semaphore(concurrency)
    began_all = time.monotonic()

    async def one(index: int, company_id: str) -> None:
        if rate:
            await asyncio.sleep(
                max(0.0, began_all + index / rate - time.monotonic())
            )  # the pace of arrivals
        async with gate:
            person = {
                "first_name": "Ada",
                "last_name": "Bench",
                "email": f"b-{uuid.uuid4().hex[:8]}@example.com",
                "company_id": company_id,
            }
            candidate = (await http.post(f"{sr}/__sim/candidates", json=person)).json()
            began = time.time()
            order = (
                await http.post(
                    f"{sr}/__sim/orders",
                    json={
                        "candidate_id": candidate["id"],
                        "package_id": "logic-quiz",
                        "kind": "manual",
                    },
                )
            ).json()
            placed_at[order["order_id"]] = began

    await asyncio.gather(
        *(one(index, companies[index % len(companies)]) for index in range(orders))
    )
    completed_at_sr = await wait_for_results(http, sr, set(placed_at))
    completed_at_vendor = await webhooks_sent(http, vendor, set(placed_at))
    wall = max(completed_at_sr.values()) - min(placed_at.values())
    end_to_end = [completed_at_sr[o] - placed_at[o] for o in placed_at]
    webhook_to_result = [completed_at_sr[o] - completed_at_vendor[o] for o in placed_at]
    return wall, end_to_end, webhook_to_result


async def wait_for_results(
    http: httpx.AsyncClient, sr: str, order_ids: set[str], timeout: float = 600.0
) -> dict[str, float]:
    """When SR received each order's COMPLETED, from the SR simulator's request log."""
    give_up = time.monotonic() + timeout
    while True:
        log = (await http.get(f"{sr}/__sim/requests", params={"path_contains": "/results"})).json()
        done: dict[str, float] = {}
        for request in log:
            order_id = request["path"].split("/orders/")[-1].split("/")[0]
            if (
                order_id in order_ids
                and request["method"] == "PATCH"
                and (request.get("json") or {}).get("status") == "COMPLETED"
            ):
                done.setdefault(order_id, datetime.fromisoformat(request["at"]).timestamp())
        if len(done) == len(order_ids) or time.monotonic() > give_up:
            return done
        await asyncio.sleep(2)  # the log is polled; the times come from it, not from this loop


async def webhooks_sent(
    http: httpx.AsyncClient, vendor: str, order_ids: set[str]
) -> dict[str, float]:
    """When the vendor first sent each order's completion webhook, from its delivery log."""
    sent: dict[str, float] = {}
    for attempt in (await http.get(f"{vendor}/control/webhooks/deliveries")).json():
        # The vendor knows the order by our reference, which names SR's order id and its company.
        order_id = order_id_in(attempt["reference"])
        if (
            order_id in order_ids
            and attempt["type"] == "invitation.completed"
            and attempt["attempted_at"]
        ):
            at = datetime.fromisoformat(attempt["attempted_at"]).timestamp()
            sent[order_id] = min(at, sent.get(order_id, at))
    return sent


async def sr_load(http: httpx.AsyncClient, sr: str) -> tuple[int, int]:
    """Per SR credential, the most of our requests arriving within any one second, and the most
    in flight at once (SR's published limits: 10/s and 8), from the simulator's request log."""
    log = (await http.get(f"{sr}/__sim/requests", params={"path_contains": "/orders/"})).json()
    peak_rate = peak_in_flight = 0
    for credential in {r["client_id"] for r in log}:
        spans = sorted(
            (
                datetime.fromisoformat(r["received_at"]).timestamp(),
                datetime.fromisoformat(r["at"]).timestamp(),
            )
            for r in log
            if r["client_id"] == credential
        )
        arrivals = [arrived for arrived, _ in spans]
        first = 0
        for last, arrived in enumerate(arrivals):
            while arrived - arrivals[first] >= 1.0:
                first += 1
            peak_rate = max(peak_rate, last - first + 1)
        events = sorted(
            [(arrived, 1) for arrived, _ in spans] + [(answered, -1) for _, answered in spans]
        )
        in_flight = 0
        for _, change in events:
            in_flight += change
            peak_in_flight = max(peak_in_flight, in_flight)
    return peak_rate, peak_in_flight


async def run_bare(client, orders: int, concurrency: int) -> tuple[float, list[float]]:
    task_queue = f"bench-bare-{uuid.uuid4().hex[:6]}"
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one() -> None:
        # As in ours, `concurrency` clients place orders; the orders then run on their own.
        async with gate:
            began = time.time()
            handle = await client.start_workflow(
                BareOrder.run, id=f"bare-{uuid.uuid4()}", task_queue=task_queue
            )
        await handle.signal(BareOrder.vendor_event)
        await handle.result()
        latencies.append(time.time() - began)

    async with Worker(client, task_queue=task_queue, workflows=[BareOrder], activities=[nothing]):
        began = time.time()
        await asyncio.gather(*(one() for _ in range(orders)))
        return time.time() - began, latencies


async def main(
    orders: int,
    concurrency: int,
    companies: int,
    paced_rate: float,
    paced_orders: int,
    profile: Path | None,
) -> None:
    with running(ORDER_PATH) as stack:
        client = await connect(stack.settings)
        company_ids = await connect_companies(stack.settings, companies)
        async with httpx.AsyncClient(
            timeout=60, limits=httpx.Limits(max_connections=concurrency * 2)
        ) as http:
            (
                await http.post(
                    f"{stack.settings.sandbox_vendor_url}/control/complete-at-once",
                    json={"score": 80},
                )
            ).raise_for_status()
            await run_ours(stack, http, 5, 5, company_ids)  # warm-up (not counted)
            await run_bare(client, 5, 5)
            processes = Processes(stack, ("temporal", *ORDER_PATH), including_this_one="benchmark")
            before = processes.cpu_seconds()
            bare_wall, bare_latencies = await run_bare(client, orders, concurrency)
            bare_cpu = {
                name: seconds - before[name] for name, seconds in processes.cpu_seconds().items()
            }
            before = processes.cpu_seconds()
            with profiled({name: stack.processes[name].pid for name in ORDER_PATH}, profile):
                ours_wall, ours_latencies, webhook_to_result = await run_ours(
                    stack, http, orders, concurrency, company_ids
                )
            ours_cpu = {
                name: seconds - before[name] for name, seconds in processes.cpu_seconds().items()
            }
            sr_rate, sr_in_flight = await sr_load(http, stack.settings.sr_base_url)
            _, _, paced_webhook_to_result = await run_ours(
                stack, http, paced_orders, concurrency, company_ids, rate=paced_rate
            )

    table = Table(
        title=(
            f"End to end: {orders} orders from {companies} companies, {concurrency} at a time, "
            "the candidate completing at once"
        )
    )
    for column in ("path", "orders/s", "p50 s", "p99 s"):
        table.add_column(column, justify="right")
    table.add_row(
        "ours: SR → API → workflow → vendor → SR",
        f"{orders / ours_wall:.1f}",
        f"{percentile(ours_latencies, 0.5):.2f}",
        f"{percentile(ours_latencies, 0.99):.2f}",
    )
    table.add_row(
        "bare SDK workflow, same shape",
        f"{orders / bare_wall:.1f}",
        f"{percentile(bare_latencies, 0.5):.2f}",
        f"{percentile(bare_latencies, 0.99):.2f}",
    )
    console = Console(width=140)
    console.print(table)
    console.print(
        f"throughput ratio ours / bare: [bold]{bare_wall / ours_wall:.2f}[/bold] (goal ≥ 0.7)"
    )
    console.print(
        f"4. SR limits, per credential: at most {sr_rate} requests arriving in any second "
        f"(limit 10) and {sr_in_flight} in flight (limit 8);"
        " every order costs SR 3 calls"
    )
    for path, cpu in (("ours", ours_cpu), ("bare (its worker runs in the benchmark)", bare_cpu)):
        console.print(
            f"CPU per order, {path}: "
            + ", ".join(f"{name} {1000 * seconds / orders:.0f} ms" for name, seconds in cpu.items())
            + f"; in all {1000 * sum(cpu.values()) / orders:.0f} ms"
        )
    console.print(
        "webhook to result posted, in the burst: p50 "
        f"{percentile(webhook_to_result, 0.5):.2f} s, p99 "
        f"{percentile(webhook_to_result, 0.99):.2f} s"
    )
    console.print(
        f"webhook to result posted, {paced_orders} orders at {paced_rate:g} a second: p50 "
        f"[bold]{percentile(paced_webhook_to_result, 0.5):.2f} s[/bold],"
        f" p99 {percentile(paced_webhook_to_result, 0.99):.2f} s (goal p50 ≤ 1 s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--companies",
        type=int,
        default=10,
        help="each posts to SR with its own credentials (SR limits each to 10 requests/s)",
    )
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=4.0,
        help="orders a second for the latency run after the burst",
    )
    parser.add_argument("--paced-orders", type=int, default=60)
    parser.add_argument(
        "--profile",
        type=Path,
        help="sample each process with py-spy during our burst; stacks are written to this folder",
    )
    arguments = parser.parse_args()
    asyncio.run(
        main(
            arguments.orders,
            arguments.concurrency,
            arguments.companies,
            arguments.paced_rate,
            arguments.paced_orders,
            arguments.profile,
        )
    )
