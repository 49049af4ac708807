"""The console's overview: open orders by status, vendor and company, and what needs an operator,
each figure linking to the orders it counts; counted in Temporal, and shown even when Temporal
does not answer."""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from temporalio.client import WorkflowExecutionCount
from temporalio.service import RPCError, RPCStatusCode

from admin import overview as module
from admin.audit import Role
from admin.overview import MAX_COMPANIES, Figure, overview
from api.console.overview import orders_url
from api.console.pages import TEMPLATES
from ordering.census import OPEN_STATUSES
from settings import Settings
from store import CompanyConnection, ConnectionState
from tests.support.connect import company_of_new_vendor_account, register_partner_configuration
from tests.support.console import new_operator, signed_in
from tests.support.http import client as http_client
from tests.support.order_workflows import terminate_quietly
from tests.support.waiting import eventually
from tests.support.world import World


def figure_of(page: str, href: str) -> int | None:
    """The count in the table row whose link goes to `href`; None if it was not counted."""
    row = re.search(
        rf'<a href="{re.escape(html.escape(href))}">[^\n]*?</a></th><td class="number">([^<]*)<',
        page,
    )
    assert row, f"no row linking to {href}"
    text = row.group(1).replace(",", "").strip()
    return int(text) if text.isdigit() else None


def card_figure(page: str, heading_id: str) -> int:
    """The big figure of the card headed `heading_id`."""
    card = re.search(
        rf'<h3 id="{heading_id}"[^>]*>[^<]*</h3>\s*<p class="figure">([0-9,]+)</p>', page
    )
    if heading_id == "open":  # the one figure outside a card
        card = re.search(r'<span class="figure" id="open-total">([0-9,]+)</span>', page)
    assert card, f"no figure in the {heading_id} card"
    return int(card.group(1).replace(",", ""))


async def test_the_overview_counts_a_companys_orders_and_links_to_them(stack, store, temporal):
    settings = stack.settings
    viewer = await new_operator(store, Role.VIEWER)  # reading needs no more
    async with http_client(base_url=settings.public_url, follow_redirects=False) as anonymous:
        asked = await anonymous.get("/console")
        assert asked.status_code == 303 and asked.headers["location"].startswith("/console/sign-in")

    await register_partner_configuration(settings)
    _, company = await company_of_new_vendor_account(
        store,
        settings.sr_base_url,
        "sandbox",
        {"api_key": settings.sandbox_vendor_api_key.get_secret_value()},
        **{"logic-quiz": {"deadline_days": 1}},  # so its orders expire within 2 days
    )
    of_company = f"/console/orders?company={company}&open=true"
    async with signed_in(settings, viewer) as http, http_client(timeout=30) as outside:
        before = (await http.get("/console")).text
        assert figure_of(before, of_company) == 0  # the latest connected: among those counted
        failed_before = card_figure(before, "failed")

        world = World(settings, outside)
        orders = await asyncio.gather(
            world.order("logic-quiz", company_id=company),
            world.order("logic-quiz", company_id=company),
        )
        try:
            await asyncio.gather(
                *(world.sr_status_becomes(o["order_id"], "PENDING") for o in orders)
            )

            async def counted() -> str | None:
                # Temporal's visibility takes each of an order's search attributes in its own
                # time: the company's may count both orders before their status does.
                page = (await http.get("/console")).text
                shown = figure_of(page, of_company) == 2 and all(
                    figure_of(page, f"/console/orders?{what}&open=true") >= 2
                    for what in ("status=PENDING", "vendor=sandbox")
                )
                return page if shown else None

            page = await eventually(counted, what="the company's two orders on the overview")
            assert card_figure(page, "expiring") >= 2
            assert card_figure(page, "open") >= 2
            # Every figure links to the orders list filtered as it counts.
            for href in (
                "/console/orders?failed=true",
                "/console/orders?stuck=true",
                "/console/orders?status=SR_REFUSING&open=true",
                "/console/orders?status=UNDELIVERED&open=false",
                "/console/orders?expiring_within=2d",
                "/console/orders?open=true",
                *(f"/console/orders?status={status}&open=true" for status in OPEN_STATUSES),
            ):
                assert f'href="{html.escape(href)}"' in page, href
            assert "Stuck orders</a>" in page
            assert 'role="alert"' not in page  # Temporal answered every count
            for order in orders:  # no candidate data in lists
                candidate = order["candidate"]
                for value in (candidate["email"], candidate["last_name"]):
                    assert value not in page
        finally:
            for order in orders:
                await terminate_quietly(temporal, order["order_id"])

        # Terminated: no longer open, and failed (SR never heard how they ended).
        async def ended() -> str | None:
            page = (await http.get("/console")).text
            return page if figure_of(page, of_company) == 0 else None

        page = await eventually(ended, what="the company's orders to be counted as ended")
        assert card_figure(page, "failed") >= failed_before + 2


# --- the counting, without a stack's Temporal --------------------------------------------------


class Temporal:
    """Answers each count with the query's length; hangs on the deadline's counts and refuses the
    checkr vendor's, as a Temporal in trouble would."""

    def __init__(self) -> None:
        self.queries: list[str] = []
        self.in_flight = self.most_in_flight = 0

    async def count_workflows(self, query: str, rpc_timeout: timedelta) -> WorkflowExecutionCount:
        self.queries.append(query)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            if "AssessmentDeadline" in query:
                await asyncio.sleep(3600)
            if 'AssessmentVendor = "checkr"' in query:
                raise RPCError("no such search attribute", RPCStatusCode.INVALID_ARGUMENT, b"")
            return WorkflowExecutionCount(count=len(query), groups=[])
        finally:
            self.in_flight -= 1


def connection(company_id: str, minutes_ago: int, connected: bool = True) -> CompanyConnection:
    return CompanyConnection(
        company_id=company_id,
        vendor_account_id="account",
        consent_email="admin@example.com",
        state=ConnectionState.CONNECTED if connected else ConnectionState.DISCONNECTED,
        connected_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        disconnected_at=None,
        trigger_token_id="token",
    )


async def test_counts_are_bounded_capped_escaped_and_missing_ones_say_why(stack):
    connections = [connection(f"co-{n:02}", minutes_ago=n) for n in range(25)]
    connections.append(connection("co-gone", minutes_ago=0, connected=False))

    async def vendor_accounts():
        return [SimpleNamespace(adapter="checkr"), SimpleNamespace(adapter="checkr")]

    async def all_connections():
        return connections

    store = SimpleNamespace(vendor_accounts=vendor_accounts, connections=all_connections)
    settings = stack.settings.model_copy(update={"partner_company_id": 'evil" OR 1=1'})
    temporal = Temporal()
    began = asyncio.get_running_loop().time()
    found = await overview(temporal, store, settings, budget_seconds=0.5)  # type: ignore[arg-type]
    assert asyncio.get_running_loop().time() - began < 2  # the budget, not an hour

    assert temporal.most_in_flight == 8
    assert all("evil" not in query for query in temporal.queries)
    assert any("evil" in problem for problem in found.problems)
    # Connected first, the latest first; the disconnected one and the rest only by number.
    assert [f.label for f in found.by_company] == [f"co-{n:02}" for n in range(MAX_COMPANIES)]
    assert found.companies_not_counted == len(connections) - MAX_COMPANIES
    assert found.by_company[0].filters == {"company": "co-00", "open": "true"}
    # Open as "no close time": the company's index alone, not every open order (OPEN).
    [of_company] = [q for q in temporal.queries if '"co-00"' in q]
    assert of_company.endswith("AND CloseTime IS NULL") and "Running" not in of_company
    # The accounts' vendors and the default one (sandbox), each counted but the refused one.
    assert [f.label for f in found.by_vendor] == ["checkr", "sandbox"]
    assert [f.count is None for f in found.by_vendor] == [True, False]
    assert found.expiring.count is None and found.failed.count is not None
    assert any("did not answer 1 of" in problem for problem in found.problems)
    assert any("INVALID_ARGUMENT" in problem for problem in found.problems)
    # The census's window: failed in the past 24 hours.
    recently = next(q for q in temporal.queries if "CloseTime" in q and "Failed" in q)
    assert 'ExecutionStatus IN ("Failed", "Terminated", "TimedOut")' in recently
    assert found.others(found.by_vendor) is None  # not every vendor counted


def test_the_page_shows_what_was_counted_and_warns_of_the_rest(stack):
    missing = Figure("Open orders", {"open": "true"})
    figures = SimpleNamespace(
        at=datetime.now(UTC),
        open=missing,
        by_status=[Figure("PENDING", {"status": "PENDING", "open": "true"}, 1234)],
        by_vendor=[],
        by_company=[Figure("acme", {"company": "acme", "open": "true"}, 3)],
        companies_not_counted=5,
        failed_recently=Figure("failed", {"failed": "true"}, 2),
        failed=Figure("failed", {"failed": "true"}),
        sr_refusing=Figure("SR_REFUSING", {"status": "SR_REFUSING", "open": "true"}, 0),
        undelivered_recently=missing,
        undelivered=missing,
        expiring=missing,
        stuck_filters={"stuck": "true"},
        stuck_after_hours=6.0,
        problems=["Temporal at localhost:7233 did not answer 3 of 30 counts within 5 s."],
        others=lambda figures: None,
    )
    page = TEMPLATES.get_template("overview.html").render(
        overview=figures,
        orders_url=orders_url,
        navigation=(),
        actor=None,
        integration_name=uuid.uuid4().hex,
    )
    assert 'class="warning" role="alert"' in page and "did not answer 3 of 30" in page
    assert figure_of(page, "/console/orders?status=PENDING&open=true") == 1234
    assert figure_of(page, "/console/orders?company=acme&open=true") == 3
    assert "not counted" in page
    assert "5 more companies are not counted here" in page
    assert '<a href="/console/connections">' in page


async def test_operators_asking_at_once_share_one_counting_kept_for_the_settings_seconds(
    monkeypatch,
):
    counted: list[datetime] = []
    release = asyncio.Event()

    async def slow_overview(temporal, store, settings):
        counted.append(datetime.now(UTC))
        await release.wait()
        return SimpleNamespace(at=datetime.now(UTC), problems=[])

    monkeypatch.setattr(module, "overview", slow_overview)
    shared = module.Counted()
    kept = Settings(console_overview_seconds=3600)
    asking = [asyncio.create_task(shared.overview(None, None, kept)) for _ in range(5)]

    async def first_counting() -> bool:
        return len(counted) == 1

    await eventually(first_counting, timeout=5, what="the first counting")
    release.set()
    answers = await asyncio.gather(*asking)
    assert len(counted) == 1 and all(answer is answers[0] for answer in answers)
    assert await shared.overview(None, None, kept) is answers[0]
    # Counted at every request with 0 seconds; and an overview missing figures is never kept.
    assert await shared.overview(None, None, Settings(console_overview_seconds=0)) is not answers[0]

    async def failing_overview(temporal, store, settings):
        counted.append(datetime.now(UTC))
        return SimpleNamespace(at=datetime.now(UTC), problems=["Temporal did not answer"])

    monkeypatch.setattr(module, "overview", failing_overview)
    fresh = module.Counted()
    await fresh.overview(None, None, kept)
    await fresh.overview(None, None, kept)
    assert len(counted) == 4
