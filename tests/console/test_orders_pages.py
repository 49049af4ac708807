"""The console's orders pages on the real stack: the list and its filters, find, an order's page,
its repairs through a confirmation page, and bulk repairs through a dry run.

Four orders, placed once: three of a company of their own (two of skills-fullstack, one of
logic-quiz, which the bulk repair cancels) and one of the embedded default company, which the
company's filter must leave out.
"""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus

from admin.audit import Role
from store import Store
from store.operators import AuditQuery
from tests.support.connect import new_sandbox_company, register_partner_configuration
from tests.support.console import csrf_of, new_operator, signed_in
from tests.support.http import client as http_client
from tests.support.order_workflows import order_workflow_id, terminate_quietly
from tests.support.waiting import eventually
from tests.support.world import World

HREF = re.compile(r'href="([^"]*)"')
FORM = re.compile(r'<form method="post" action="([^"]*)">(.*?)</form>', re.DOTALL)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
REASON = "Candidate asked for more time"


@dataclass
class Placed:
    company: str
    first: dict  # skills-fullstack, PENDING: repaired by hand
    second: dict  # skills-fullstack, PENDING
    quiz: dict  # logic-quiz, PENDING: the bulk repair's
    other: dict  # the embedded default company's

    @property
    def ours(self) -> list[dict]:
        return [self.first, self.second, self.quiz]

    @property
    def candidates(self) -> list[str]:
        """What no page but an order's own may show: every order's candidate's email and name."""
        return [
            text
            for order in (*self.ours, self.other)
            for text in (order["candidate"]["email"], order["candidate"]["last_name"])
        ]


@pytest.fixture(scope="module")
async def placed(stack, temporal):
    settings = stack.settings
    async with http_client(timeout=30) as http:
        world = World(settings, http)
        await register_partner_configuration(settings)
        # The stack's logic quiz expires in seconds; this company's runs for a day.
        _, company = await new_sandbox_company(
            settings, world.sr, **{"logic-quiz": {"deadline_days": 1}}
        )
        orders = await asyncio.gather(
            world.order("skills-fullstack", company_id=company),
            world.order("skills-fullstack", company_id=company),
            world.order("logic-quiz", company_id=company),
            world.order("skills-fullstack"),
        )
        try:
            await asyncio.gather(
                *(world.sr_status_becomes(o["order_id"], "PENDING") for o in orders)
            )
            yield Placed(company, *orders)
        finally:
            for order in orders:  # they would poll on
                await terminate_quietly(temporal, order["order_id"])


def _hidden(page: httpx.Response, action: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts to `action`."""
    for found_action, body in FORM.findall(page.text):
        if html.unescape(found_action) == action:
            return {name: html.unescape(value) for name, value in HIDDEN.findall(body)}
    raise AssertionError(f"no form posting to {action} on the page")


async def _listing(http: httpx.AsyncClient, expected: set[str], params: dict) -> httpx.Response:
    """The orders page once it lists exactly the expected orders of ours (Temporal's visibility
    is eventually consistent)."""

    async def probe() -> httpx.Response | None:
        page = await http.get("/console/orders", params=params)
        assert page.status_code == 200, page.text
        return page if _ids(page) == expected else None

    return await eventually(probe, timeout=20, what=f"orders {sorted(expected)} for {params}")


def _ids(page: httpx.Response) -> set[str]:
    return {
        html.unescape(href).removeprefix("/console/orders/").split(":")[0]
        for href in HREF.findall(page.text)
        if href.startswith("/console/orders/")
    }


async def _shown(http: httpx.AsyncClient, url: str) -> httpx.Response | None:
    page = await http.get(url)
    return page if page.status_code == 200 else None


async def _done_events(store: Store, operator: str, action: str) -> list:
    return [
        e
        for e in await store.operators.events(AuditQuery(operator=operator, action=action))
        if e.outcome == "done"
    ]


# --- list ---------------------------------------------------------------------------------------


async def test_the_list_filters_pages_and_holds_no_candidate_data(stack, store, placed):
    ours = {o["order_id"] for o in placed.ours}
    async with http_client(base_url=stack.settings.public_url, follow_redirects=False) as nobody:
        answer = await nobody.get("/console/orders", params={"company": placed.company})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/sign-in?next=%2Fconsole%2Forders")

    viewer = await new_operator(store, Role.VIEWER)
    async with signed_in(stack.settings, viewer) as http:
        page = await _listing(http, ours, {"company": placed.company})
        assert placed.other["order_id"] not in page.text
        for text in placed.candidates:
            assert text not in page.text
        assert f'name="company" type="text" maxlength="200" value="{placed.company}"' in page.text
        assert page.headers["cache-control"] == "no-store"
        # A viewer reads; the bulk repair's form is not offered.
        assert "/console/orders/bulk-repairs" not in page.text and "read only" in page.text

        quiz = await _listing(
            http, {placed.quiz["order_id"]}, {"company": placed.company, "package": "logic-quiz"}
        )
        assert 'value="logic-quiz"' in quiz.text
        finished = await http.get(
            "/console/orders", params={"company": placed.company, "open": "false"}
        )
        assert _ids(finished) <= {placed.quiz["order_id"]}  # the bulk repair's test cancels it
        assert '<option value="false" selected>' in finished.text

        # One page at a time: the next page's link carries Temporal's token and the filter.
        first = await http.get("/console/orders", params={"company": placed.company, "limit": "2"})
        [next_url] = [
            html.unescape(href)
            for href in HREF.findall(first.text)
            if "page_token=" in html.unescape(href)
        ]
        assert f"company={placed.company}" in next_url and "limit=2" in next_url
        second = await http.get(next_url)
        assert second.status_code == 200, second.text
        assert len(_ids(first)) == 2 and _ids(first) | _ids(second) == ours
        assert "First page" in second.text

        for params, message in (
            ({"older_than": "3x"}, "Placed more than is not a duration"),
            ({"expiring_within": "2d", "open": "false"}, "are open ones"),
            ({"stuck": "true", "failed": "true"}, "failed orders have ended"),
            ({"status": "DONE"}, "Status: Input should be"),
            ({"company": 'a" OR x="'}, "Company: String should match pattern"),
            ({"page_token": "made-up"}, "page_token is not one"),
            ({"limit": "0"}, "Per page: 1 to 200 orders"),
        ):
            refused = await http.get("/console/orders", params=params)
            assert refused.status_code == 400, (params, refused.text)
            assert 'role="alert"' in refused.text and message in refused.text, params
        # The typed values stay in the form, to be corrected.
        assert 'value="3x"' in (await http.get("/console/orders?older_than=3x")).text


# --- find ---------------------------------------------------------------------------------------


async def test_find_by_candidate_email_posts_and_never_repeats_the_email(stack, store, placed):
    viewer = await new_operator(store, Role.VIEWER)
    email = placed.first["candidate"]["email"]
    async with signed_in(stack.settings, viewer) as http:
        csrf = csrf_of(await http.get("/console"))
        forged = await http.post("/console/orders/find", data={"value": email, "by": "email"})
        assert forged.status_code == 403 and email not in forged.text

        for by, typed in (("email", email), ("any", f"  {email.upper()} ")):
            found = await http.post(
                "/console/orders/find", data={"csrf": csrf, "by": by, "value": typed}
            )
            assert found.status_code == 200, found.text
            assert _ids(found) == {placed.first["order_id"]}
            assert "the candidate email you gave" in found.text
            for text in (email, email.upper(), placed.first["candidate"]["last_name"]):
                assert text not in found.text
            assert all("@" not in href for href in HREF.findall(found.text))

        by_id = await http.post(
            "/console/orders/find",
            data={"csrf": csrf, "by": "any", "value": placed.second["order_id"]},
        )
        assert _ids(by_id) == {placed.second["order_id"]}
        nothing = await http.post(
            "/console/orders/find",
            data={"csrf": csrf, "by": "email", "value": "nobody-at-all@example.com"},
        )
        assert nothing.status_code == 200 and "No order found" in nothing.text
        empty = await http.post("/console/orders/find", data={"csrf": csrf, "value": " "})
        assert empty.status_code == 400 and 'role="alert"' in empty.text


# --- one order and its repairs ------------------------------------------------------------------


async def test_an_order_page_shows_its_candidate_and_a_repair_is_confirmed_then_made(
    stack, store, placed
):
    order_id = placed.first["order_id"]
    reference = f"{order_id}:{placed.company}"
    page_url = f"/console/orders/{reference}"
    confirm_url = f"{page_url}/repairs/extend-deadline/confirm"
    repair_url = f"{page_url}/repairs/extend-deadline"
    form = {"reason": REASON, "days": "2"}

    viewer = await new_operator(store, Role.VIEWER)
    async with signed_in(stack.settings, viewer) as http:
        # The SR order id alone names it (once Temporal's visibility lists it).
        page = await eventually(
            lambda: _shown(http, f"/console/orders/{order_id}"), what=f"order {order_id}'s page"
        )
        candidate = placed.first["candidate"]
        assert candidate["email"] in page.text and candidate["last_name"] in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "Open order" in page.text and "/namespaces/default/workflows/" in page.text
        assert confirm_url not in page.text and "read only" in page.text
        csrf = csrf_of(page)
        for url in (confirm_url, repair_url):
            refused = await http.post(url, data=form | {"csrf": csrf})
            assert refused.status_code == 403 and "read only" in refused.text
    events = await store.operators.events(AuditQuery(operator=viewer.name))
    assert [e.action for e in events] == ["sign-in"]  # nothing tried reached the order

    operator = await new_operator(store)
    async with signed_in(stack.settings, operator) as http:
        page = await http.get(page_url)
        assert _hidden(page, confirm_url) == {"csrf": csrf_of(page)}
        csrf = csrf_of(page)
        # Offered: the repairs a waiting order can take; not a result it does not have yet,
        # nor a reset of an order that has not failed.
        offered = {action.rsplit("/", 2)[-2] for action, _ in FORM.findall(page.text)}
        assert {"extend-deadline", "resend-invitation", "cancel"} <= offered
        assert not offered & {"repost-result", "reset"}

        bad = await http.post(confirm_url, data={"csrf": csrf, "reason": "x", "days": "2"})
        assert bad.status_code == 400 and "Reason: 3 to 200 characters" in bad.text
        no_days = await http.post(confirm_url, data={"csrf": csrf, "reason": REASON})
        assert no_days.status_code == 400 and "Days:" in no_days.text

        confirm = await http.post(confirm_url, data=form | {"csrf": csrf})
        assert confirm.status_code == 200, confirm.text
        assert (
            f'Confirm: Extend deadline by 2 days of order <span class="mono">{reference}</span> '
            f"because {REASON}" in confirm.text
        )
        assert _hidden(confirm, repair_url) == form | {"csrf": csrf}
        assert await _done_events(store, operator.name, "order.repair") == []  # not yet

        for url in (confirm_url, repair_url):
            assert (await http.post(url, data=form)).status_code == 403  # no CSRF token
        assert await _done_events(store, operator.name, "order.repair") == []

        made = await http.post(repair_url, data=_hidden(confirm, repair_url))
        assert made.status_code == 303, made.text
        assert made.headers["location"] == f"{page_url}?done=extend-deadline"
        after = await http.get(made.headers["location"])
        assert "Done: Extend deadline" in after.text
        assert f"Repair by {operator.name}: " in after.text and REASON in after.text

        # A repair the order refuses: the reason on the page, and in the audit log as refused.
        reset = await http.post(
            f"{page_url}/repairs/reset", data={"csrf": csrf, "reason": "Trying a reset"}
        )
        assert reset.status_code == 409 and 'role="alert"' in reset.text
        assert "The order is running: only a failed order is reset" in reset.text

    [event] = await _done_events(store, operator.name, "order.repair")
    assert (event.via, event.target, event.reason) == ("console", reference, REASON)
    assert event.detail.startswith(f"extend-deadline; Repair by {operator.name}")
    [refused] = [
        e
        for e in await store.operators.events(
            AuditQuery(operator=operator.name, action="order.repair")
        )
        if e.outcome == "refused"
    ]
    assert refused.reason == "Trying a reset"


async def test_without_a_session_every_orders_page_asks_to_sign_in(stack):
    async with http_client(base_url=stack.settings.public_url, follow_redirects=False) as nobody:
        for method, path in (
            ("GET", "/console/orders/some-order"),
            ("POST", "/console/orders/find"),
            ("POST", "/console/orders/some-order/repairs/cancel/confirm"),
            ("POST", "/console/orders/some-order/repairs/cancel"),
            ("POST", "/console/orders/bulk-repairs"),
        ):
            answer = await nobody.request(
                method, path, data={"reason": REASON} if method == "POST" else None
            )
            assert answer.status_code == 303, (method, path)
            assert answer.headers["location"].startswith("/console/sign-in?next="), path


async def test_an_unknown_order_or_repair_is_a_page_that_says_so(stack, store):
    operator = await new_operator(store)
    async with signed_in(stack.settings, operator) as http:
        unknown = await http.get("/console/orders/no-such-order")
        assert unknown.status_code == 404 and "no order no-such-order" in unknown.text
        assert "<h1>Not found</h1>" in unknown.text
        # Any other address under /console is a console page too, not the API's JSON.
        nowhere = await http.get("/console/accounts")
        assert nowhere.status_code == 404 and nowhere.headers["content-type"].startswith(
            "text/html"
        )
        assert "no such page" in nowhere.text
        bad = await http.get("/console/orders/not an id")
        assert bad.status_code == 400 and 'role="alert"' in bad.text
        csrf = csrf_of(unknown)
        kind = await http.post(
            "/console/orders/no-such-order/repairs/paint/confirm",
            data={"csrf": csrf, "reason": REASON},
        )
        assert kind.status_code == 404 and "No such repair" in kind.text


# --- bulk repairs -------------------------------------------------------------------------------


async def test_a_bulk_repair_is_a_dry_run_first_and_then_applied(stack, store, placed, temporal):
    quiz_id = placed.quiz["order_id"]
    wanted = {"company": placed.company, "package": "logic-quiz"}
    bulk = "/console/orders/bulk-repairs"
    reason = "Package withdrawn by the vendor"

    viewer = await new_operator(store, Role.VIEWER)
    async with signed_in(stack.settings, viewer) as http:
        csrf = csrf_of(await http.get("/console"))
        refused = await http.post(
            bulk, data=wanted | {"csrf": csrf, "kind": "cancel", "reason": reason}
        )
        assert refused.status_code == 403

    operator = await new_operator(store)
    async with signed_in(stack.settings, operator) as http:
        page = await _listing(http, {quiz_id}, wanted)
        form = _hidden(page, bulk)
        assert form == wanted | {"csrf": csrf_of(page)}
        assert (await http.post(bulk, data=wanted | {"kind": "cancel"})).status_code == 403

        no_filter = await http.post(
            bulk, data={"csrf": form["csrf"], "kind": "cancel", "reason": reason}
        )
        assert no_filter.status_code == 400 and "give at least one filter" in no_filter.text

        dry = await http.post(bulk, data=form | {"kind": "cancel", "reason": reason})
        assert dry.status_code == 200, dry.text
        assert "Dry run: Cancel" in dry.text and "Nothing has changed" in dry.text
        assert _ids(dry) == {quiz_id} and "would be repaired: cancel" in dry.text
        for text in placed.candidates:
            assert text not in dry.text
        apply = _hidden(dry, bulk)
        assert apply == form | {"kind": "cancel", "reason": reason, "dry_run": "false"}
        # Nothing changed: the order runs on, and the audit log holds no repair.
        description = await temporal.get_workflow_handle(order_workflow_id(quiz_id)).describe()
        assert description.status == WorkflowExecutionStatus.RUNNING
        assert (
            await store.operators.events(
                AuditQuery(operator=operator.name, action="orders.bulk-repair")
            )
            == []
        )

        done = await http.post(bulk, data=apply)
        assert done.status_code == 200, done.text
        assert "Done: Cancel" in done.text and "Apply to these orders" not in done.text
        assert _ids(done) == {quiz_id} and f"Repair by {operator.name}" in done.text

    [run] = await _done_events(store, operator.name, "orders.bulk-repair")
    assert (run.via, run.reason) == ("console", reason)
    assert run.target == f"company={placed.company} package=logic-quiz"
    assert run.detail == "cancel: 1 repaired"
    [one] = await _done_events(store, operator.name, "order.repair")
    assert one.target == f"{quiz_id}:{placed.company}"
    async with http_client(timeout=30) as http:
        await World(stack.settings, http).sr_status_becomes(quiz_id, "REJECTED")
