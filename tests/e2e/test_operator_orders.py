"""Operators find and inspect orders (admin API and `assessments orders …`) on the real stack.

Four orders: three of a company of their own (one completed after SR refused its result once,
one waiting for its candidate, one stuck because SR keeps refusing its IN_PROGRESS), and one of
the embedded default company (its vendor reference is in the default vendor's index).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import operator
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from typer.testing import CliRunner

from cli import app
from tests.support.connect import new_sandbox_company, register_partner_configuration
from tests.support.http import client as http_client
from tests.support.order_workflows import order_workflow_id, terminate_quietly, unworked_order
from tests.support.waiting import eventually
from tests.support.world import World
from workflows.order import AssessmentOrderWorkflow


@dataclass
class Placed:
    company: str
    done: dict  # completed; SR answered its COMPLETED with a 500 once
    waiting: dict  # PENDING, waiting for its candidate (logic quiz)
    stuck: dict  # the candidate started; SR keeps answering 500 to IN_PROGRESS
    default: dict  # the embedded default company's, PENDING

    def ids(self, *names: str) -> set[str]:
        return {getattr(self, name)["order_id"] for name in names}


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
        done, waiting, stuck, default = await asyncio.gather(
            world.order("skills-fullstack", company_id=company),
            world.order("logic-quiz", company_id=company),
            world.order("skills-fullstack", company_id=company),
            world.order("skills-fullstack"),
        )
        await asyncio.gather(
            *(
                world.sr_status_becomes(o["order_id"], "PENDING")
                for o in (done, waiting, stuck, default)
            )
        )
        await world.sr_refuses(done["order_id"], 500)
        await world.sr_refuses(stuck["order_id"], 500, count=1000)
        await world.at_vendor("complete", done["order_id"], score=80)
        await world.at_vendor("start", stuck["order_id"])
        await world.sr_status_becomes(done["order_id"], "COMPLETED")
        try:
            yield Placed(company, done, waiting, stuck, default)
        finally:
            (await http.delete(f"{world.sr}/__sim/faults")).raise_for_status()
            for order in (waiting, stuck, default):  # they would poll on
                await terminate_quietly(temporal, order["order_id"])


async def _listed(admin: httpx.AsyncClient, **params) -> set[str]:
    response = await admin.get("/orders", params=params)
    assert response.status_code == 200, response.text
    return {order["order_id"] for order in response.json()["orders"]}


async def _lists(admin: httpx.AsyncClient, expected: set[str], **params) -> None:
    """The listing comes to be exactly `expected`
    (Temporal's visibility is eventually consistent)."""
    await eventually(
        lambda: _equal(admin, expected, params),
        timeout=20,
        what=f"orders {sorted(expected)} listed for {params}",
    )


async def _equal(admin: httpx.AsyncClient, expected: set[str], params: dict) -> bool:
    return await _listed(admin, **params) == expected


# --- list -------------------------------------------------------------------------------------


async def test_orders_are_listed_by_company_vendor_package_status_state_and_age(
    placed, admin, stack
):
    company = placed.company
    everything = placed.ids("done", "waiting", "stuck")
    await _lists(admin, everything, company=company)
    await _lists(admin, everything, company=company, vendor="sandbox")
    await _lists(admin, set(), company=company, vendor="hackerrank")
    await _lists(admin, placed.ids("waiting"), company=company, package="logic-quiz")
    await _lists(admin, placed.ids("done"), company=company, status="COMPLETED")
    await _lists(
        admin, placed.ids("waiting", "stuck"), company=company, status="PENDING"
    )  # SR never heard IN_PROGRESS
    await _lists(admin, placed.ids("done"), company=company, open="false")
    await _lists(admin, placed.ids("waiting", "stuck"), company=company, open="true")
    await _lists(admin, set(), company=company, older_than="1h")
    await _lists(admin, everything, company=company, older_than="1s")

    # Every order of the listing once, page by page;
    # a page's token pages through its own listing only.
    first = (await admin.get("/orders", params={"company": company, "limit": 2})).json()[
        "next_page_token"
    ]
    elsewhere = await admin.get(
        "/orders", params={"company": company, "status": "PENDING", "limit": 2, "page_token": first}
    )
    assert elsewhere.status_code == 400 and "page_token is not one" in elsewhere.json()["message"]
    pages, token = [], None
    while True:
        response = await admin.get(
            "/orders",
            params={"company": company, "limit": 2} | ({"page_token": token} if token else {}),
        )
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append([order["order_id"] for order in page["orders"]])
        if not (token := page["next_page_token"]):
            break
    assert len(pages[0]) == 2 and all(len(p) <= 2 for p in pages)
    assert sorted(functools.reduce(operator.iadd, pages, [])) == sorted(everything)

    summary = next(
        o
        for o in (
            await admin.get("/orders", params={"company": company, "status": "COMPLETED"})
        ).json()["orders"]
    )
    assert len(summary["run_id"]) == 36  # the run listed
    assert summary | {"started_at": None, "closed_at": None, "run_id": None} == {
        "order_id": placed.done["order_id"],
        "reference": f"{placed.done['order_id']}:{company}",
        "workflow_id": order_workflow_id(placed.done["order_id"]),
        "status": "COMPLETED",
        "vendor": "sandbox",
        "package": "skills-fullstack",
        "company": company,
        "workflow_status": "COMPLETED",
        "started_at": None,
        "closed_at": None,
        "deadline": None,  # no longer waiting for its candidate
        "last_progress_at": None,
        "stuck_on": None,
        "run_id": None,
        "temporal_ui_url": f"http://127.0.0.1:{stack.settings.temporal_ui_port}/namespaces/default/workflows/{order_workflow_id(placed.done['order_id'])}",
    }


async def test_terminated_and_timed_out_orders_are_listed_as_failed(admin, temporal, stack_cli):
    # Temporal ends an order itself when its history grows past its limits, or an operator
    # terminates one: either way SR never hears the end, and an operator must see it.
    company = f"ended-{uuid.uuid4().hex[:8]}"
    terminated, timed_out, running = await asyncio.gather(
        unworked_order(temporal, company),
        unworked_order(temporal, company, timeout=timedelta(seconds=1)),
        unworked_order(temporal, company),
    )
    await temporal.get_workflow_handle(order_workflow_id(terminated)).terminate(
        "history size exceeded"
    )
    try:
        await _lists(admin, {terminated, timed_out}, company=company, failed="true")
        await _lists(admin, {terminated, timed_out}, company=company, open="false")
        await _lists(admin, {running}, company=company, open="true")
        # The CLI runs its own event loop: in a thread of its own.
        listed = json.loads(
            (
                await asyncio.to_thread(
                    _run, "orders", "list", "--failed", "--company", company, "--json"
                )
            ).stdout
        )
        assert {(o["order_id"], o["workflow_status"]) for o in listed["orders"]} == {
            (terminated, "TERMINATED"),
            (timed_out, "TIMED_OUT"),
        }
        other = json.loads(
            (
                await asyncio.to_thread(
                    _run, "orders", "list", "--failed", "--company", f"{company}-other", "--json"
                )
            ).stdout
        )
        assert other["orders"] == []  # another company's failed orders are not these
    finally:
        await terminate_quietly(temporal, running)


async def test_stuck_orders_are_the_open_ones_with_an_unfinished_call_and_no_recent_progress(
    placed, admin
):
    company = placed.company
    # By the default (ASSESSMENTS_STUCK_AFTER_HOURS, 6 h) nothing placed just now is stuck.
    await _lists(admin, set(), company=company, stuck="true")
    # After a few seconds the order SR keeps refusing is; the one waiting for its candidate,
    # without progress as long, is not; nor is the completed one.
    await _lists(admin, placed.ids("stuck"), company=company, stuck_for="2s")
    [stuck] = (await admin.get("/orders", params={"company": company, "stuck_for": "2s"})).json()[
        "orders"
    ]
    assert (
        stuck["stuck_on"].startswith("Tell SmartRecruiters: attempt ")
        and "500" in stuck["stuck_on"]
    )
    assert stuck["last_progress_at"] > stuck["started_at"]


async def test_open_orders_are_listed_by_how_soon_their_deadline_comes(
    stack, admin, temporal, stack_cli
):
    # A company of the test's own: its orders' deadlines are 1 and 5 days from their receipt.
    settings = stack.settings
    async with http_client(timeout=30) as http:
        world = World(settings, http)
        await register_partner_configuration(settings)
        _, company = await new_sandbox_company(
            settings,
            world.sr,
            **{"logic-quiz": {"deadline_days": 1}, "skills-fullstack": {"deadline_days": 5}},
        )
        placed_at = datetime.now(UTC)
        soon, later = await asyncio.gather(
            world.order("logic-quiz", company_id=company),
            world.order("skills-fullstack", company_id=company),
        )
        soon_id, later_id = soon["order_id"], later["order_id"]
        await asyncio.gather(
            *(world.sr_status_becomes(order_id, "PENDING") for order_id in (soon_id, later_id))
        )
        try:
            await _lists(admin, set(), company=company, expiring_within="12h")
            await _lists(admin, {soon_id}, company=company, expiring_within="2d")
            await _lists(admin, {soon_id, later_id}, company=company, expiring_within="6d")
            deadlines = {
                o["order_id"]: datetime.fromisoformat(o["deadline"])
                for o in (
                    await admin.get("/orders", params={"company": company, "expiring_within": "6d"})
                ).json()["orders"]
            }
            for order_id, days in ((soon_id, 1), (later_id, 5)):
                expected = placed_at + timedelta(days=days)
                assert abs(deadlines[order_id] - expected) < timedelta(minutes=1), order_id

            # Bulk repairs take the filter: the order expiring within two days, and only it.
            dry = await admin.post(
                "/orders/bulk-repairs/extend-deadline",
                json={
                    "operator": "ops.ann",
                    "reason": "Candidates asked for more time",
                    "days": 3,
                    "company": company,
                    "expiring_within": "2d",
                },
            )
            assert dry.status_code == 200, dry.text
            assert [o["order_id"] for o in dry.json()["orders"]] == [soon_id]

            # Extended by 3 days (to 4 from its receipt): it leaves the two days' span and stays
            # in a span of 4.5 days, which the other order (5 days) is still out of.
            extended = await admin.post(
                f"/orders/{soon_id}/repairs/extend-deadline",
                json={"operator": "ops.ann", "reason": "Candidate asked for more time", "days": 3},
            )
            assert extended.status_code == 200, extended.text
            await _lists(admin, set(), company=company, expiring_within="2d")
            await _lists(admin, {soon_id}, company=company, expiring_within="4d12h")
            await _lists(admin, {soon_id, later_id}, company=company, expiring_within="6d")
            [moved] = (
                await admin.get("/orders", params={"company": company, "expiring_within": "4d12h"})
            ).json()["orders"]
            new_deadline = deadlines[soon_id] + timedelta(days=3)
            assert datetime.fromisoformat(moved["deadline"]) == new_deadline
            # The CLI runs its own event loop: in a thread of its own.
            table = (
                await asyncio.to_thread(
                    _run, "orders", "list", "--company", company, "--expiring-within", "4d12h"
                )
            ).stdout
            assert "Expiring orders" in table and soon_id in table and later_id not in table
            assert f"{new_deadline:%Y-%m-%d %H:%M} UTC" in table

            # The order that ends leaves the listing, however soon its deadline was.
            await world.at_vendor("complete", later_id, score=80)
            await world.sr_status_becomes(later_id, "COMPLETED")
            await _lists(admin, {soon_id}, company=company, expiring_within="6d")
        finally:
            for order_id in (soon_id, later_id):  # they would poll on
                await terminate_quietly(temporal, order_id)


# --- find ---------------------------------------------------------------------------------------


async def test_orders_are_found_by_sr_order_id_vendor_reference_and_candidate_email(
    placed, admin, temporal
):
    async def found(**search) -> list[str]:
        response = await admin.post("/orders/find", json=search)
        assert response.status_code == 200, response.text
        return [order["order_id"] for order in response.json()]

    default_id, waiting_id = placed.default["order_id"], placed.waiting["order_id"]
    assert await found(order_id=default_id) == [default_id]
    assert await found(order_id="no-such-order") == []

    async def vendor_ref(order_id: str) -> str:
        return (
            await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
                AssessmentOrderWorkflow.state
            )
        ).invitation.vendor_ref

    assert await found(vendor_ref=await vendor_ref(default_id)) == [
        default_id
    ]  # the default vendor's index
    assert await found(vendor_ref=await vendor_ref(waiting_id)) == [
        waiting_id
    ]  # the vendor account's index
    assert await found(vendor_ref="no-such-reference") == []

    email = placed.default["candidate"]["email"]
    assert await found(email=f"  {email.upper()} ") == [default_id]
    assert await found(email="somebody.else@example.com") == []
    assert await found(email=placed.waiting["candidate"]["email"]) == [waiting_id]


# --- show ---------------------------------------------------------------------------------------


async def test_an_orders_timeline_shows_its_steps_and_each_call_with_its_retries(
    placed, admin, stack
):
    order_id = placed.done["order_id"]
    response = await admin.get(f"/orders/{order_id}")
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"  # it holds the candidate's data
    order = response.json()

    candidate = placed.done["candidate"]
    assert order["candidate"] == {
        "first_name": candidate["first_name"],
        "last_name": candidate["last_name"],
        "email": candidate["email"],
    }
    assert (order["status"], order["sr_status"], order["workflow_status"], order["state_from"]) == (
        "COMPLETED",
        "COMPLETED",
        "COMPLETED",
        "result",
    )
    assert (order["score"], order["company"], order["vendor"]) == (80, placed.company, "sandbox")
    assert order["vendor_ref"] and order["report_url"]
    assert (
        order["temporal_ui_url"]
        == f"http://127.0.0.1:{stack.settings.temporal_ui_port}/namespaces/default/workflows/{order_workflow_id(order_id)}"
    )

    timeline = order["timeline"]
    assert [item["at"] for item in timeline] == sorted(item["at"] for item in timeline)
    steps = [item["what"] for item in timeline if item["kind"] == "step"]
    assert steps[:3] == [
        "Order received for package Full-stack developer skills",
        "Candidate invited at sandbox",
        "SmartRecruiters shows PENDING",
    ]
    assert steps[-2:] == ["SmartRecruiters shows COMPLETED", "Result posted"]
    assert timeline[-1]["what"] == "Workflow completed"

    calls = {item["what"]: item for item in timeline if item["kind"] == "call"}
    assert calls["Invite the candidate at the vendor"] | {"at": None, "finished_at": None} == {
        "at": None,
        "kind": "call",
        "what": "Invite the candidate at the vendor",
        "peer": "sandbox",
        "outcome": "completed",
        "attempts": 1,
        "failure": None,
        "finished_at": None,
    }
    assert (
        calls["Tell SmartRecruiters: PENDING"]["attempts"],
        calls["Tell SmartRecruiters: PENDING"]["failure"],
    ) == (1, None)
    retried = calls["Tell SmartRecruiters: COMPLETED"]
    assert (retried["peer"], retried["outcome"], retried["attempts"]) == (
        "SmartRecruiters",
        "completed",
        2,
    )
    assert "500" in retried["failure"]  # the first attempt's failure
    assert calls["Move the report from the vendor to SmartRecruiters"]["outcome"] == "completed"
    assert calls["Read the result at the vendor"]["peer"] == "sandbox"


async def test_a_running_order_shows_the_call_it_is_retrying(placed, admin):
    async def retrying():
        order = (await admin.get(f"/orders/{placed.stuck['order_id']}")).json()
        calls = [
            item
            for item in order["timeline"]
            if item["what"] == "Tell SmartRecruiters: IN_PROGRESS"
        ]
        return (
            order
            if calls and calls[0]["outcome"] == "retrying" and calls[0]["attempts"] >= 2
            else None
        )

    order = await eventually(retrying, timeout=20, what="the IN_PROGRESS call retrying")
    assert (order["workflow_status"], order["state_from"], order["status"]) == (
        "RUNNING",
        "query",
        "PENDING",
    )
    [call] = [
        item for item in order["timeline"] if item["what"] == "Tell SmartRecruiters: IN_PROGRESS"
    ]
    assert "500" in call["failure"] and call["finished_at"] is None
    assert any(item["what"].startswith("Candidate started") for item in order["timeline"])


async def test_without_a_worker_an_order_is_shown_from_its_history(placed, admin, stack, world):
    stack.kill("worker")
    try:
        response = await admin.get(f"/orders/{placed.stuck['order_id']}")
    finally:
        stack.start_component("worker", "worker")
        # The session's later tests need it back: it serves its metrics once it is connected.
        metrics = f"http://{stack.settings.worker_metrics_address}/metrics"
        await eventually(lambda: _answers(world.http, metrics), what="the restarted worker")
    assert response.status_code == 200, response.text
    order = response.json()
    assert order["state_from"] == "history" and "could not be queried" in order["note"]
    assert (
        order["candidate"]["email"] == placed.stuck["candidate"]["email"]
    )  # from the order's input
    whats = [item["what"] for item in order["timeline"]]
    assert (
        "Invite the candidate at the vendor" in whats
        and "Tell SmartRecruiters: IN_PROGRESS" in whats
    )
    assert not [
        item for item in order["timeline"] if item["kind"] == "step"
    ]  # the steps are in the state only


# --- refusals -----------------------------------------------------------------------------------


async def test_the_order_routes_need_the_admin_key(stack, placed):
    async with http_client(base_url=f"{stack.settings.public_url}/admin", timeout=30) as anonymous:
        for method, path in (
            ("GET", "/orders"),
            ("POST", "/orders/find"),
            ("GET", f"/orders/{placed.done['order_id']}"),
        ):
            response = await anonymous.request(
                method,
                path,
                json={"email": placed.done["candidate"]["email"]} if method == "POST" else None,
            )
            assert response.status_code == 401, (method, path)
            assert placed.done["candidate"]["email"] not in response.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"older_than": "3x"}, "older_than is not a duration"),
        ({"expiring_within": "soon"}, "expiring_within is not a duration"),
        ({"expiring_within": "2d", "open": "false"}, "orders expiring (expiring_within) are open"),
        ({"expiring_within": "2d", "failed": "true"}, "failed orders have ended"),
        ({"stuck_for": "soon"}, "stuck_for is not a duration"),
        ({"older_than": "99999d"}, "older_than is longer than"),
        ({"status": "DONE"}, "status"),
        ({"company": 'a" OR WorkflowId != "'}, "company"),
        ({"limit": "0"}, "limit"),
        ({"page_token": "not a token!"}, "page_token is not one"),
        ({"page_token": base64.urlsafe_b64encode(b"made up").decode()}, "page_token is not one"),
        ({"stuck": "true", "open": "false"}, "stuck orders are open ones"),
    ],
)
async def test_bad_list_filters_are_400_with_a_reason(admin, params, message):
    response = await admin.get("/orders", params=params)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "exactly one of order_id, vendor_ref and email"),
        (
            {"order_id": "a", "email": "b@example.com"},
            "exactly one of order_id, vendor_ref and email",
        ),
        ({"email": ""}, "email: String should have at least 1 character"),
        ({"email": "x" * 400}, "email: String should have at most 320 characters"),
    ],
)
async def test_bad_finds_are_refused_clearly(admin, body, message):
    response = await admin.post("/orders/find", json=body)
    assert response.status_code == 400, body
    assert message in response.json()["message"]


async def test_bad_shows_are_refused_clearly(admin):
    unknown = await admin.get("/orders/no-such-order")
    assert unknown.status_code == 404 and "no order no-such-order" in unknown.json()["message"]
    assert (await admin.get("/orders/not%20an%20id")).status_code == 400


# --- the CLI ------------------------------------------------------------------------------------


def _run(*args: str, stdin: str | None = None, ok: bool = True):
    result = CliRunner().invoke(app, list(args), input=stdin)
    assert result.exit_code == (0 if ok else 1), (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.output
    return result


def test_the_cli_lists_finds_and_shows_orders(placed, stack_cli):
    listed = json.loads(
        _run(
            "orders", "list", "--company", placed.company, "--status", "completed", "--json"
        ).stdout
    )
    assert [order["order_id"] for order in listed["orders"]] == [
        placed.done["order_id"]
    ] and listed["next_page_token"] is None
    table = _run("orders", "list", "--company", placed.company, "--limit", "1").stdout
    assert "More: add --page-token" in table and placed.company in table

    email = placed.default["candidate"]["email"]
    found = _run("orders", "find", "--email", "-", stdin=email.upper() + "\n").stdout
    assert placed.default["order_id"] in found
    assert "No order found." in _run("orders", "find", "--email", "nobody@example.com").stdout

    shown = _run("orders", "show", placed.done["order_id"]).stdout
    for expected in (
        placed.done["candidate"]["email"],
        "Tell SmartRecruiters: COMPLETED",
        "Result posted",
        "/namespaces/default/workflows/",
    ):
        assert expected in shown
    detail = json.loads(_run("orders", "show", placed.done["order_id"], "--json").stdout)
    assert detail["state_from"] == "result" and detail["order_id"] == placed.done["order_id"]


def test_the_cli_refuses_bad_input_with_a_reason(stack_cli):
    bad = _run("orders", "list", "--older-than", "3 days", ok=False)
    assert bad.stderr.startswith("Error: --older-than is not a duration")
    soon = _run("orders", "list", "--expiring-within", "3 days", ok=False)
    assert soon.stderr.startswith("Error: --expiring-within is not a duration")
    assert (
        "--expiring-within) are open ones"
        in _run("orders", "list", "--expiring-within", "2d", "--closed", ok=False).stderr
    )
    assert "--status" in _run("orders", "list", "--status", "DONE", ok=False).stderr
    assert (
        "exactly one of --order-id, --vendor-ref and --email"
        in _run("orders", "find", ok=False).stderr
    )
    assert "no order no-such-order" in _run("orders", "show", "no-such-order", ok=False).stderr


def test_candidate_emails_reach_no_log_line(placed, stack):
    emails = [placed.default["candidate"]["email"], placed.done["candidate"]["email"]]
    for log in ("api.log", "worker.log"):
        text = (stack.log_dir / log).read_text(errors="replace").lower()
        assert not [email for email in emails if email.lower() in text], log


async def _answers(http, url: str) -> bool:
    try:
        return (await http.get(url)).status_code == 200
    except httpx.HTTPError:
        return False
