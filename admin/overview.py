"""What needs an operator, at a glance: the console's overview, counted in Temporal's visibility.

Each figure is a count (`count_workflows`) of the orders one filter of the orders list lists:
the count's query is that filter's own query (`order_filter` and `visibility_query` of
admin/orders.py, as the list builds it; only "open" is asked for as OPEN, the same orders), so a
figure and the list it links to agree, and every value put into a query has passed the filter's
pattern first (nothing can end its quotes).
Temporal's visibility groups only by ExecutionStatus, so there is one count per status, per vendor
and per company, run a few at a time within one time budget; a count Temporal does not answer
in time (or refuses) is missing from the overview, with the reason, and the rest still shows.

Stuck orders are not counted: telling a stuck order needs a describe (and, for some, the history)
of every open order, one call each (10,000 for 10,000 open orders), since nothing in visibility
says that a call is unfinished. The overview links to the stuck list instead, which examines one
page of orders at a time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from admin.operations import Invalid
from admin.orders import order_filter, visibility_query
from ordering.census import FAILED_WINDOW, OPEN_STATUSES
from orders.visibility import SR_REFUSING, UNDELIVERED
from settings import Settings
from store import CompanyConnection, ConnectionState, Store, UnreadableSecret
from vendors import sandbox

# Counts asked of Temporal at once: quick enough, and a page view cannot flood it.
CONCURRENCY = 8
# The whole overview waits this long for Temporal at most (less if the RPC timeout is shorter).
BUDGET_SECONDS = 5.0
# Companies counted one by one; the rest are named by their number, with a link to Connections.
MAX_COMPANIES = 20
# Open orders, as counted: the same orders as the list's `ExecutionStatus = "Running"` (a workflow
# has a close time once it ends), but Temporal's SQL visibility keeps the close time, not the
# status, in each search attribute's index, so a count of one company's open orders reads that
# company's rows alone rather than every open order's: ten times faster on the embedded Temporal's
# SQLite with 10,000 open orders (docs/performance.md, benchmark 6).
OPEN = "CloseTime IS NULL"
# "Expiring soon": the candidate's deadline is at most this far ahead; as the orders list's
# `expiring_within` parameter, and the same time.
EXPIRING_WITHIN = "2d"


@dataclass(frozen=True)
class Figure:
    """How many orders one filter of the orders list lists."""

    label: str
    # The orders list's parameters that list these orders (for its URL).
    filters: dict[str, str]
    # None: Temporal did not answer in time, or refused (`Overview.problems` says why).
    count: int | None = None


@dataclass(frozen=True)
class Overview:
    at: datetime
    open: Figure
    by_status: list[Figure]
    by_vendor: list[Figure]
    by_company: list[Figure]
    # Companies beyond MAX_COMPANIES, not counted.
    companies_not_counted: int
    failed_recently: Figure  # in the past FAILED_WINDOW, as the census counts them
    failed: Figure
    sr_refusing: Figure
    undelivered_recently: Figure
    undelivered: Figure
    expiring: Figure
    stuck_filters: dict[str, str]
    stuck_after_hours: float
    # Why some figures are missing; safe to show (no candidate data, no secrets).
    problems: list[str] = field(default_factory=list)

    def others(self, figures: list[Figure]) -> int | None:
        """Open orders none of `figures` counts (another status, a retired vendor); None when
        not every count is known."""
        counts = [self.open.count, *(figure.count for figure in figures)]
        if any(count is None for count in counts):
            return None
        rest = (self.open.count or 0) - sum(figure.count or 0 for figure in figures)
        return max(rest, 0)  # counts race with orders changing: never less than none


@dataclass
class _Count:
    label: str
    filters: dict[str, str]
    query: str
    count: int | None = None

    def figure(self) -> Figure:
        return Figure(self.label, self.filters, self.count)


def _parameter(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _count(
    settings: Settings, now: datetime, label: str, closed_since: datetime | None = None, **wanted
) -> _Count:
    """The count of the orders `wanted` (the orders list's filter) lists; with `closed_since`,
    only those that ended since then (the list has no such filter: its link lists them all)."""
    open_only = wanted.get("open") is True
    query = visibility_query(
        order_filter(settings, **{name: v for name, v in wanted.items() if name != "open"}), now
    )
    if open_only:
        query += f" AND {OPEN}"
    if closed_since is not None:
        query += f' AND CloseTime > "{closed_since.isoformat()}"'
    return _Count(label, {name: _parameter(value) for name, value in wanted.items()}, query)


async def overview(
    temporal: Client,
    store: Store,
    settings: Settings,
    *,
    now: datetime | None = None,
    budget_seconds: float = BUDGET_SECONDS,
) -> Overview:
    """The overview's figures; never raises for Temporal (missing figures say why instead)."""
    now = now or datetime.now(UTC)
    problems: list[str] = []
    since = now - FAILED_WINDOW

    def count(label: str, closed_since: datetime | None = None, **wanted: Any) -> _Count:
        return _count(settings, now, label, closed_since, **wanted)

    open_total = count("Open orders", open=True)
    statuses = [count(status, status=status, open=True) for status in OPEN_STATUSES]
    vendors = [count(name, vendor=name, open=True) for name in await _vendors(store, problems)]
    company_ids = _companies(settings, await store.connections())
    companies: list[_Count] = []
    examined = 0
    for company_id in company_ids:
        if len(companies) == MAX_COMPANIES:
            break
        examined += 1
        try:
            companies.append(count(company_id, company=company_id, open=True))
        except Invalid:  # the default company's id is a setting: it may not fit a filter
            problems.append(f"Company {company_id!r} cannot be a filter of the orders list.")
    failed_recently = count("Failed in the past 24 hours", since, failed=True)
    failed = count("Failed, in all", failed=True)
    undelivered_recently = count(
        "Undelivered in the past 24 hours", since, status=UNDELIVERED, open=False
    )
    undelivered = count("Undelivered, in all", status=UNDELIVERED, open=False)
    expiring = count("Expiring soon", expiring_within=EXPIRING_WITHIN)
    every = [
        open_total,
        *statuses,
        *vendors,
        *companies,
        failed_recently,
        failed,
        undelivered_recently,
        undelivered,
        expiring,
    ]
    problems += await _counted(temporal, settings, every, budget_seconds)
    [sr_refusing] = [status for status in statuses if status.filters["status"] == SR_REFUSING]
    return Overview(
        at=now,
        open=open_total.figure(),
        by_status=[status.figure() for status in statuses],
        by_vendor=[vendor.figure() for vendor in vendors],
        by_company=[company.figure() for company in companies],
        companies_not_counted=len(company_ids) - examined,
        failed_recently=failed_recently.figure(),
        failed=failed.figure(),
        sr_refusing=sr_refusing.figure(),
        undelivered_recently=undelivered_recently.figure(),
        undelivered=undelivered.figure(),
        expiring=expiring.figure(),
        stuck_filters={"stuck": "true"},
        stuck_after_hours=settings.stuck_after_hours,
        problems=problems,
    )


class Counted:
    """The latest overview, shared by every operator of this API process for
    ASSESSMENTS_CONSOLE_OVERVIEW_SECONDS, and counted once however many ask at the same time: a
    dozen operators reloading the page cost Temporal one overview's counts (self-hosted Temporal
    takes 10 visibility queries a second per namespace by default; an overview asks about 35).
    An overview missing figures is not kept, so a reload tries again."""

    def __init__(self) -> None:
        self._latest: Overview | None = None
        self._counting = asyncio.Lock()

    async def overview(self, temporal: Client, store: Store, settings: Settings) -> Overview:
        async with self._counting:  # those who waited get what the first counted
            latest = self._latest
            if latest is None or _age(latest) >= settings.console_overview_seconds:
                latest = await overview(temporal, store, settings)
                self._latest = None if latest.problems else latest
            return latest


def _age(counted: Overview) -> float:
    return (datetime.now(UTC) - counted.at).total_seconds()


async def _vendors(store: Store, problems: list[str]) -> list[str]:
    """The vendors orders are placed with: those of the vendor accounts, and the default vendor
    (of the partner credentials' company, which has no account). One count each, so not every
    adapter the hub could use; orders of any other (an account since deleted) show as others."""
    try:
        accounts = {account.adapter for account in await store.vendor_accounts()}
    except UnreadableSecret:  # a lost encryption key: the other vendors' orders show as others
        accounts = set()
        problems.append("The vendor accounts could not be read (ASSESSMENTS_ENCRYPTION_KEYS).")
    return sorted({sandbox.NAME} | accounts)


def _companies(settings: Settings, connections: list[CompanyConnection]) -> list[str]:
    """The companies to count, in order: the partner credentials' own company (the hub's default
    one, whose orders need no connection), then connected companies before disconnected ones,
    the latest connected first (a company just connected is the one to watch)."""
    ordered = sorted(
        connections,
        key=lambda c: (c.state != ConnectionState.CONNECTED, -c.connected_at.timestamp()),
    )
    ids = [connection.company_id for connection in ordered]
    if settings.partner_company_id not in ids:
        ids.insert(0, settings.partner_company_id)
    return ids


async def _counted(
    temporal: Client, settings: Settings, counts: list[_Count], budget_seconds: float
) -> list[str]:
    """Fill in each count, CONCURRENCY at a time, within the budget; why any is missing."""
    budget = min(budget_seconds, settings.temporal_rpc_timeout_seconds)
    gate = asyncio.Semaphore(CONCURRENCY)
    refusals: set[str] = set()

    async def one(wanted: _Count) -> None:
        async with gate:
            try:
                answer = await temporal.count_workflows(
                    wanted.query, rpc_timeout=timedelta(seconds=budget)
                )
            except RPCError as err:
                status = err.status.name if err.status else "unknown status"
                refusals.add(f"{status}: {err.message[:200]}")
            except Exception as err:  # noqa: BLE001 - one count's failure leaves the rest
                refusals.add(type(err).__name__)
            else:
                wanted.count = answer.count

    tasks = [asyncio.create_task(one(wanted)) for wanted in counts]
    _, pending = await asyncio.wait(tasks, timeout=budget)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    problems = []
    if pending:
        problems.append(
            f"Temporal at {settings.temporal_address} did not answer {len(pending)} of "
            f"{len(counts)} counts within {budget:g} s."
        )
    problems += [f"Temporal refused a count ({refusal})." for refusal in sorted(refusals)]
    return problems
