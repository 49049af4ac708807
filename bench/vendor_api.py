"""Benchmark 5, the Vendor API: from an API vendor's result to COMPLETED at SR, and what an API
vendor's order costs against a sandbox vendor's.

`python -m bench.vendor_api [--orders 60] [--rate 4] [--companies 4]` starts Temporal, the worker,
the API, the SR simulator, the sandbox vendor and the reference vendor (examples/), gives the
reference vendor an API vendor account (its key and secret) and connects `companies` companies to
each vendor. Each vendor completes every candidate the moment they are invited. Orders are placed
at `rate` a second, first all at the sandbox vendor, then all at the reference vendor, each run
measured apart (CPU per process, from the operating system). The latency is from the moment our
API acknowledged the vendor's COMPLETED PATCH (the order's `updated_at`) to SR receiving
COMPLETED (the SR simulator's log).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import datetime

import httpx
from rich.console import Console
from rich.table import Table

from admin.models import NewTriggerToken, NewVendorAccount
from admin.operations import opened
from bench.end_to_end import wait_for_results
from bench.intake import percentile
from bench.stack import Processes, connect_companies, running
from embedded import REFERENCE_VENDOR_API_KEY, REFERENCE_VENDOR_WEBHOOK_SECRET
from tests.support.connect import connect_company

COMPONENTS = ("smartrecruiters-sim", "sandbox-vendor", "reference-vendor", "worker", "api")
MEASURED = ("temporal", "worker", "api")


async def api_vendor_companies(settings, count: int) -> list[str]:
    """The reference vendor's API vendor account, and `count` companies connected to it."""
    async with opened(settings) as operations:
        account = await operations.create_vendor_account(
            NewVendorAccount(
                name="Reference vendor (bench)",
                adapter="api",
                credentials={
                    "webhook_url": f"{settings.reference_vendor_url}/webhooks/hub",
                    "webhook_secret": REFERENCE_VENDOR_WEBHOOK_SECRET,
                },
            )
        )
        await operations.admit_api_key(account.id, REFERENCE_VENDOR_API_KEY)
        token = (
            await operations.issue_trigger_token(account.id, NewTriggerToken(expires_in_days=1))
        ).token
    return [await connect_company(settings.sr_base_url, token) for _ in range(count)]


async def place(
    http: httpx.AsyncClient, sr: str, package: str, companies: list[str], orders: int, rate: float
) -> dict[str, str]:
    """Orders placed at SR at `rate` a second; SR's order id → the candidate's email."""
    placed: dict[str, str] = {}
    began = time.monotonic()

    async def one(index: int) -> None:
        await asyncio.sleep(max(0.0, began + index / rate - time.monotonic()))  # the arrivals' pace
        email = f"b-{uuid.uuid4().hex[:8]}@example.com"
        person = {
            "first_name": "Ada",
            "last_name": "Bench",
            "email": email,
            "company_id": companies[index % len(companies)],
        }
        candidate = (await http.post(f"{sr}/__sim/candidates", json=person)).json()
        order = (
            await http.post(
                f"{sr}/__sim/orders",
                json={"candidate_id": candidate["id"], "package_id": package, "kind": "manual"},
            )
        ).json()
        placed[order["order_id"]] = email

    await asyncio.gather(*(one(index) for index in range(orders)))
    return placed


async def acknowledged(http: httpx.AsyncClient, api: str) -> dict[str, float]:
    """When our API acknowledged each order's COMPLETED PATCH, by candidate email."""
    answered: dict[str, float] = {}
    cursor: str | None = None
    headers = {"Authorization": f"Bearer {REFERENCE_VENDOR_API_KEY}"}
    while True:
        params = {"status": "COMPLETED", "limit": "100"} | ({"cursor": cursor} if cursor else {})
        page = (
            await http.get(
                f"{api}/vendor/v1/orders",
                params=params,
                headers=headers,
            )
        ).json()
        for order in page["orders"]:
            answered[order["candidate"]["email"]] = datetime.fromisoformat(
                order["updated_at"]
            ).timestamp()
        if (cursor := page["next_cursor"]) is None:
            return answered


async def main(orders: int, rate: float, companies: int) -> None:
    with running(COMPONENTS) as stack:
        settings = stack.settings
        sandbox_companies = await connect_companies(settings, companies)
        api_companies = await api_vendor_companies(settings, companies)
        async with httpx.AsyncClient(timeout=60) as http:
            (
                await http.post(
                    f"{settings.sandbox_vendor_url}/control/complete-at-once", json={"score": 80}
                )
            ).raise_for_status()
            (
                await http.post(
                    f"{settings.reference_vendor_url}/_sim/complete-at-once", json={"score": 80}
                )
            ).raise_for_status()

            while True:  # the reference vendor publishes its catalog with backoff
                answer = await http.get(
                    f"{settings.public_url}/vendor/v1/packages",
                    headers={"Authorization": f"Bearer {REFERENCE_VENDOR_API_KEY}"},
                )
                if answer.json().get("packages"):
                    break
                await asyncio.sleep(0.5)

            processes = Processes(stack, MEASURED)
            runs = {}
            for name, package, company_ids in (
                ("sandbox vendor (adapter)", "logic-quiz", sandbox_companies),
                ("reference vendor (Vendor API)", "ref-sql", api_companies),
            ):
                await place(http, settings.sr_base_url, package, company_ids, 4, rate)  # warm-up
                before = processes.cpu_seconds()
                placed = await place(http, settings.sr_base_url, package, company_ids, orders, rate)
                completed = await wait_for_results(http, settings.sr_base_url, set(placed))
                after = processes.cpu_seconds()
                runs[name] = (placed, completed, {p: after[p] - before[p] for p in MEASURED})
            answered = await acknowledged(http, settings.public_url)

    console = Console(width=140)
    table = Table(title=f"{orders} orders at {rate:g} a second, the candidate completing at once")
    for column in ("vendor", "completed", *(f"{p} ms/order" for p in MEASURED), "in all"):
        table.add_column(column, justify="right")
    for name, (placed, completed, cpu) in runs.items():
        table.add_row(
            name,
            f"{len(completed)}/{len(placed)}",
            *(f"{1000 * cpu[p] / orders:.0f}" for p in MEASURED),
            f"{1000 * sum(cpu.values()) / orders:.0f}",
        )
    console.print(table)
    placed, completed, _ = runs["reference vendor (Vendor API)"]
    latencies = [
        completed[order_id] - answered[email]
        for order_id, email in placed.items()
        if order_id in completed and email in answered
    ]
    console.print(
        f"vendor's COMPLETED PATCH acknowledged → COMPLETED at SR, {len(latencies)} orders: p50 "
        f"[bold]{percentile(latencies, 0.5):.2f} s[/bold], p99 {percentile(latencies, 0.99):.2f} s"
        " (goal p50 ≤ 1 s)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--rate", type=float, default=4.0, help="orders placed a second")
    parser.add_argument("--companies", type=int, default=4)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.orders, arguments.rate, arguments.companies))
