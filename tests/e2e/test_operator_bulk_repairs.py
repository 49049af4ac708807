"""Operators repair every order matching a filter (`POST /admin/orders/bulk-repairs/{kind}` and
`assessments orders repair-all`), as a dry run or for real, on the real stack.

Each test places its orders for a company of its own and filters by it, so no other test's
orders match. One order of the real run has no worker (its workflow is on a task queue nobody
polls): Temporal cannot answer for it, and the batch goes on without it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

import settings as settings_module
from orders.models import Candidate, Order
from orders.visibility import initial_search_attributes, order_reference
from tests.e2e.test_operator_orders import _lists, _run
from tests.e2e.test_operator_repairs import _deadline
from tests.support.connect import company_of_new_vendor_account
from tests.support.order_workflows import companies_of_orders, order_workflow_id, terminate_quietly
from tests.support.waiting import eventually
from tests.support.world import World
from workflows.order import AssessmentOrderWorkflow

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long

WHO = {"operator": "ops.ann", "reason": "Vendor outage last week"}
ENDED = "the order's workflow has ended (COMPLETED); only a running order can be repaired"
UPDATES = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
}


@dataclass
class Company:
    """A company of the test's own, connected to a sandbox vendor account, and its orders."""

    id: str
    world: World
    temporal: Client
    order_ids: list[str] = field(default_factory=list)

    async def pending(self, package: str = "skills-fullstack") -> str:
        order = await self.world.order(package, company_id=self.id)
        self.order_ids.append(order["order_id"])
        await self.world.sr_status_becomes(order["order_id"], "PENDING")
        return order["order_id"]

    async def started(self) -> str:
        order_id = await self.pending()
        await self.world.at_vendor("start", order_id)
        await self.world.sr_status_becomes(order_id, "IN_PROGRESS")
        return order_id

    async def completed(self) -> str:
        order_id = await self.pending()
        await self.world.at_vendor("complete", order_id, score=90)
        await self.world.sr_status_becomes(order_id, "COMPLETED")
        return order_id

    async def failed(self) -> str:
        """An order whose workflow failed: SR refused its final update
        (COMPLETED) with a 400, once."""
        order_id = await self.started()
        await self.world.sr_refuses(order_id, 400)
        await self.world.at_vendor("complete", order_id, score=70)
        return order_id

    async def without_worker(self) -> str:
        """An order whose workflow no worker runs: listed like the others, never answering."""
        order = Order(
            order_id=f"no-worker-{uuid.uuid4().hex[:12]}",
            company_id=self.id,
            package_id="skills-fullstack",
            package_name="Full-stack developer skills",
            vendor="sandbox",
            result_callback_url=f"{self.world.sr}/assessment-api/v202010/orders/x/results",
            candidate=Candidate(
                first_name="Nobody", last_name="Served", email="nobody@example.com"
            ),
            deadline_days=7,
            poll_interval_seconds=2,
            received_at=datetime.now(UTC),
        )
        order.reference = order_reference(order.order_id, self.id)
        companies_of_orders[order.order_id] = self.id
        await self.temporal.start_workflow(
            AssessmentOrderWorkflow.run,
            order,
            id=order_workflow_id(order.order_id),
            task_queue=f"nobody-polls-{uuid.uuid4().hex}",
            search_attributes=initial_search_attributes(order),
        )
        self.order_ids.append(order.order_id)
        return order.order_id


@pytest.fixture
async def company(registered, store, world, temporal):
    _, company_id = await company_of_new_vendor_account(
        store,
        world.sr,
        "sandbox",
        {"api_key": world.settings.sandbox_vendor_api_key.get_secret_value()},
        **{"logic-quiz": {"deadline_days": 1}},
    )
    placed = Company(company_id, world, temporal)
    yield placed
    for order_id in placed.order_ids:  # they would poll on
        await terminate_quietly(temporal, order_id)


async def _bulk(admin, kind: str, body: dict) -> dict:
    response = await admin.post(f"/orders/bulk-repairs/{kind}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _outcomes(answer: dict) -> dict[str, tuple[str, str]]:
    return {item["order_id"]: (item["outcome"], item["detail"]) for item in answer["orders"]}


async def _updates_in_history(temporal: Client, order_id: str) -> int:
    history = await temporal.get_workflow_handle(order_workflow_id(order_id)).fetch_history()
    return sum(event.event_type in UPDATES for event in history.events)


async def test_a_dry_run_says_what_each_order_would_do_and_changes_nothing(
    company, admin, world, temporal
):
    pending, quiz, done = await asyncio.gather(
        company.pending(), company.pending("logic-quiz"), company.completed()
    )
    await _lists(admin, {done}, company=company.id, open="false")
    await _lists(admin, {pending, quiz}, company=company.id, status="PENDING")
    deadlines = {order_id: await _deadline(admin, order_id) for order_id in (pending, quiz)}

    extend = await _bulk(
        admin, "extend-deadline", WHO | {"company": company.id, "days": 1}
    )  # dry_run defaults to true
    assert (extend["dry_run"], extend["repair"], extend["examined"], extend["more_matched"]) == (
        True,
        "extend-deadline",
        3,
        False,
    )
    assert _outcomes(extend) == {
        pending: ("would-repair", "would be repaired: extend-deadline"),
        quiz: ("would-repair", "would be repaired: extend-deadline"),
        done: ("refused", ENDED),
    }
    assert extend["counts"] == {"would-repair": 2, "repaired": 0, "refused": 1, "failed": 0}

    # The workflow's own validator answers: the same reason a single repair gets.
    repost = await _bulk(
        admin, "repost-result", WHO | {"company": company.id, "open": True, "dry_run": True}
    )
    assert _outcomes(repost) == dict.fromkeys(
        (pending, quiz), ("refused", "The order has no result to re-post")
    )

    cancel = await _bulk(admin, "cancel", WHO | {"company": company.id, "status": "PENDING"})
    assert {outcome for outcome, _ in _outcomes(cancel).values()} == {"would-repair"} and len(
        cancel["orders"]
    ) == 2

    # Nothing changed: no update reached any order,
    # the deadlines stand, the orders run, SR still shows PENDING.
    for order_id in (pending, quiz, done):
        assert await _updates_in_history(temporal, order_id) == 0, order_id
    for order_id, deadline in deadlines.items():
        assert await _deadline(admin, order_id) == deadline
        assert (
            await temporal.get_workflow_handle(order_workflow_id(order_id)).describe()
        ).status == WorkflowExecutionStatus.RUNNING
        assert (await world.sr_order(order_id))["result"]["status"] == "PENDING"


async def test_a_real_run_extends_every_matching_open_order_and_goes_on_past_refusals_and_failures(
    company, admin, temporal
):
    first, started, quiz, done = await asyncio.gather(
        company.pending(), company.started(), company.pending("logic-quiz"), company.completed()
    )
    ghost = await company.without_worker()
    await _lists(admin, {done}, company=company.id, open="false")
    await _lists(
        admin, {first, started, ghost}, company=company.id, package="skills-fullstack", open="true"
    )
    before = {order_id: await _deadline(admin, order_id) for order_id in (first, started, quiz)}

    # A refusal by the order's update validator, made for real, is an outcome like any other.
    reposted = await _bulk(
        admin,
        "repost-result",
        WHO | {"company": company.id, "package": "logic-quiz", "dry_run": False},
    )
    assert _outcomes(reposted) == {quiz: ("refused", "The order has no result to re-post")}

    answer = await _bulk(
        admin,
        "extend-deadline",
        WHO | {"company": company.id, "package": "skills-fullstack", "days": 2, "dry_run": False},
    )
    assert (answer["dry_run"], answer["examined"]) == (False, 4)
    assert answer["counts"] == {"would-repair": 0, "repaired": 2, "refused": 1, "failed": 1}
    items = {item["order_id"]: item for item in answer["orders"]}
    for order_id in (first, started):
        assert items[order_id]["outcome"] == "repaired", items[order_id]
        assert items[order_id]["detail"] == (
            "Repair by ops.ann: deadline extended by 2 days to "
            f"{before[order_id] + timedelta(days=2):%Y-%m-%d %H:%M} UTC (Vendor outage "
            "last week)"
        )
        assert datetime.fromisoformat(items[order_id]["deadline"]) == before[order_id] + timedelta(
            days=2
        )
        assert await _deadline(admin, order_id) == before[order_id] + timedelta(days=2)
        assert await _updates_in_history(temporal, order_id) == 2  # accepted and completed
    assert (items[done]["outcome"], items[done]["detail"]) == ("refused", ENDED)
    assert (
        items[ghost]["outcome"] == "failed" and "did not answer in time" in items[ghost]["detail"]
    )

    # The other package's order was not touched.
    assert await _deadline(admin, quiz) == before[quiz]
    assert await _updates_in_history(temporal, quiz) == 0


async def test_failed_orders_are_found_and_reset_in_bulk_and_ended_ones_reposted_on_a_dry_run(
    company, admin, world, temporal
):
    failed, done, pending = await asyncio.gather(
        company.failed(), company.completed(), company.pending()
    )
    await _lists(admin, {failed, done}, company=company.id, open="false")
    await _lists(admin, {failed}, company=company.id, failed="true")
    runs = {
        order_id: (
            await temporal.get_workflow_handle(order_workflow_id(order_id)).describe()
        ).run_id
        for order_id in (failed, done)
    }

    # Dry runs find the point each reset would go back to, and reset nothing.
    reposts = await _bulk(admin, "repost-result", WHO | {"company": company.id})
    assert _outcomes(reposts) == {
        failed: ("would-repair", "would be reset to just before reading the result at the vendor"),
        done: ("would-repair", "would be reset to just before reading the result at the vendor"),
        pending: ("refused", "The order has no result to re-post"),
    }
    resets = await _bulk(admin, "reset", WHO | {"company": company.id})
    assert _outcomes(resets)[failed] == (
        "would-repair",
        "would be reset to just before posting COMPLETED to SmartRecruiters",
    )
    assert (
        _outcomes(resets)[done][0] == "refused"
        and "nothing failed to go back to" in _outcomes(resets)[done][1]
    )
    assert (
        _outcomes(resets)[pending][0] == "refused"
        and "The order is running" in _outcomes(resets)[pending][1]
    )
    assert {
        order_id: (
            await temporal.get_workflow_handle(order_workflow_id(order_id)).describe()
        ).run_id
        for order_id in runs
    } == runs

    # For real, on the failed orders only (after, say,
    # a fix to the result mapping): SR gets the result.
    answer = await _bulk(
        admin, "reset", WHO | {"company": company.id, "failed": True, "dry_run": False}
    )
    assert answer["counts"] == {"would-repair": 0, "repaired": 1, "refused": 0, "failed": 0}, answer
    assert _outcomes(answer)[failed][1].startswith(
        "Reset by ops.ann: order reset to just before posting COMPLETED to SmartRecruiters"
    )
    sr = await world.sr_status_becomes(failed, "COMPLETED")
    assert sr["result"]["score"] == {"raw": 70, "min": 0, "max": 100}, sr
    assert (await temporal.get_workflow_handle(order_workflow_id(done)).describe()).run_id == runs[
        done
    ]

    # The reset order has two runs now; a bulk repair examines it once, as its newest.
    async def both_runs_listed() -> bool:
        listed = (await admin.get("/orders", params={"company": company.id})).json()["orders"]
        return sorted(order["order_id"] for order in listed) == sorted(
            [failed, failed, done, pending]
        )

    await eventually(both_runs_listed, timeout=20, what="the reset order's two runs listed")
    again = await _bulk(admin, "cancel", WHO | {"company": company.id})
    assert again["examined"] == 3 and sorted(
        item["order_id"] for item in again["orders"]
    ) == sorted([failed, done, pending])

    # The failed run is still listed as failed; asking again never sends the new run back.
    new_run = (await temporal.get_workflow_handle(order_workflow_id(failed)).describe()).run_id
    assert new_run != runs[failed]
    twice = await _bulk(
        admin, "reset", WHO | {"company": company.id, "failed": True, "dry_run": False}
    )
    assert _outcomes(twice) == {
        failed: (
            "refused",
            f"The order was reset since this run was listed; its current run is {new_run}",
        )
    }
    assert (
        await temporal.get_workflow_handle(order_workflow_id(failed)).describe()
    ).run_id == new_run


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        (
            "extend-deadline",
            WHO | {"days": 1},
            "say which orders to repair",
        ),  # no filter: never every order by omission
        ("cancel", WHO | {"stuck": False}, "say which orders to repair"),
        ("cancel", WHO | {"older_than": "3 days"}, "older_than is not a duration"),
        ("cancel", WHO | {"open": False, "stuck_for": "2h"}, "stuck orders are open ones"),
        ("cancel", WHO | {"status": "DONE"}, "status"),
        ("cancel", WHO | {"company": 'acme" OR company = "other'}, "company"),
        ("cancel", WHO | {"open": True, "limit": 5}, "limit"),
        ("extend-deadline", WHO | {"open": True}, "extend-deadline needs days"),
        ("cancel", WHO | {"open": True, "days": 1}, "cancel takes no days"),
        ("cancel", {"reason": "no operator given", "open": True}, "operator"),
        ("explode", WHO | {"open": True}, "kind"),
        ("reset", WHO | {"failed": True, "open": True}, "failed orders have ended"),
    ],
)
async def test_bad_bulk_repairs_are_refused_clearly(admin, kind, body, message):
    response = await admin.post(f"/orders/bulk-repairs/{kind}", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


@pytest.fixture
async def cli_orders(company, admin):
    pending, done = await asyncio.gather(company.pending(), company.completed())
    await _lists(admin, {done}, company=company.id, open="false")
    await _lists(admin, {pending}, company=company.id, open="true")
    return company.id, pending, done


def test_the_cli_repairs_all_matching_orders(cli_orders, stack_cli, monkeypatch):
    company_id, pending, done = cli_orders
    repair = (
        "orders",
        "repair-all",
        "extend-deadline",
        "--company",
        company_id,
        "--days",
        "1",
        "--operator",
        "ops.bob",
        "--reason",
        "Vendor was down",
    )
    deadline = json.loads(_run("orders", "show", pending, "--json").stdout)["deadline"]

    table = _run(*repair).stdout
    for expected in (
        "Dry run: extend-deadline of 2 orders",
        pending,
        "would-repair",
        done,
        ENDED,
        "1 would-repair, 1 refused",
        "Add --apply",
    ):
        assert expected in table, expected
    assert json.loads(_run("orders", "show", pending, "--json").stdout)["deadline"] == deadline

    answer = json.loads(_run(*repair, "--apply", "--json").stdout)
    assert (answer["dry_run"], answer["counts"]) == (
        False,
        {"would-repair": 0, "repaired": 1, "refused": 1, "failed": 0},
    )
    [repaired] = [item for item in answer["orders"] if item["outcome"] == "repaired"]
    assert repaired["order_id"] == pending and repaired["detail"].startswith(
        "Repair by ops.bob: deadline extended by 1 day"
    )
    assert (
        json.loads(_run("orders", "show", pending, "--json").stdout)["deadline"]
        == repaired["deadline"]
        != deadline
    )

    # At most ASSESSMENTS_BULK_REPAIR_LIMIT orders, newest first, and a note that more matched.
    monkeypatch.setenv("ASSESSMENTS_BULK_REPAIR_LIMIT", "1")
    settings_module.get_settings.cache_clear()
    capped = _run(*repair)
    assert (
        "Dry run: extend-deadline of 1 order" in capped.stdout
        and "of 1 orders" not in capped.stdout
        and "more orders matched than the 1 examined" in capped.stderr
    )
    assert json.loads(_run(*repair, "--json").stdout)["more_matched"] is True

    assert (
        "say which orders to repair"
        in _run(
            "orders",
            "repair-all",
            "cancel",
            "--operator",
            "ops.bob",
            "--reason",
            "No filter",
            ok=False,
        ).stderr
    )
    assert (
        "--older-than is not a duration" in _run(*repair, "--older-than", "3 days", ok=False).stderr
    )
    assert (
        "the repair is one of"
        in _run(
            "orders",
            "repair-all",
            "explode",
            "--open",
            "--operator",
            "ops.bob",
            "--reason",
            "whatever",
            ok=False,
        ).stderr
    )
