"""TestGorilla end to end: polling only, under strict per-endpoint limits shared by all open orders.

SR simulator → our API → Temporal → TestGorilla simulator → SR. TestGorilla pushes nothing, so
every change is found by polling, and the polls of all of an account's orders share one budget.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError

from simulators.testgorilla.app import create_app
from simulators.testgorilla.config import TestGorillaSimConfig
from tests.support.connect import company_of_new_vendor_account
from tests.support.order_workflows import order_workflow_id
from tests.support.servers import free_port, serve
from workflows.order import AssessmentOrderWorkflow

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long

USER, PASSWORD = "api-user@example.com", "testgorilla-password"
PYTHON_DEVELOPER = "101"  # two scored tests and a Big 5 personality test
PROJECT_MANAGER = "105"


def tg_sim(**config) -> AbstractContextManager[str]:
    port = free_port()
    return serve(
        create_app(TestGorillaSimConfig(public_url=f"http://127.0.0.1:{port}", **config)), port
    )


@pytest.fixture(scope="module")
def tg_url():
    # Each test connects a new account of the same API user, whose catalog reads all count
    # against that user's per-minute limits: room for this module's accounts within a minute.
    with tg_sim(limits={"assessments": 60, "assessment": 60}) as url:
        yield url


class TestGorilla:
    """The TestGorilla simulator as the tests drive it."""

    __test__ = False

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url, self.http = url, http

    async def control(self, method: str, path: str, **body) -> Any:
        return (
            (await self.http.request(method, f"{self.url}/_sim/{path}", json=body or None))
            .raise_for_status()
            .json()
        )

    async def candidature(self, candidature_id: str) -> dict | None:
        return next(
            (
                c
                for c in await self.control("GET", "candidatures")
                if str(c["id"]) == candidature_id
            ),
            None,
        )

    async def emails_to(self, address: str) -> int:
        return (await self.control("GET", "outbox"))["counts"].get(address, 0)


@pytest.fixture
async def testgorilla(tg_url, world):
    sim = TestGorilla(tg_url, world.http)
    yield sim
    await sim.control("DELETE", "faults")
    await sim.control("DELETE", "variants")


async def connected(store, world, url: str, **extra) -> str:
    credentials = {"username": USER, "password": PASSWORD, "base_url": url} | extra.pop(
        "credentials", {}
    )
    _, company_id = await company_of_new_vendor_account(
        store, world.sr, "testgorilla", credentials, **extra
    )
    return company_id


@pytest.fixture
async def company(tg_url, store, world, registered) -> str:
    return await connected(store, world, tg_url, **{PROJECT_MANAGER: {"deadline_days": 6 / 86400}})


async def ordered(
    world, temporal, company: str, package: str = PYTHON_DEVELOPER
) -> tuple[str, str, dict]:
    placed = await world.order(package, company_id=company)
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    state = await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )
    return order_id, state.invitation.vendor_ref.split(":")[1], placed["candidate"]


async def test_a_completed_assessment_reaches_the_profile_by_polling_alone(
    world, temporal, testgorilla, company
):
    order_id, candidature, candidate = await ordered(world, temporal, company)
    await testgorilla.control("POST", f"candidatures/{candidature}/start")
    await world.sr_status_becomes(order_id, "IN_PROGRESS")
    await testgorilla.control(
        "POST",
        f"candidatures/{candidature}/complete",
        scores={"7244": 80, "311": 61, "494": "High openness"},
    )
    done = await world.sr_status_becomes(order_id, "COMPLETED")

    result = done["result"]
    assert (
        result["score"]["max"] == 100 and 70 <= result["score"]["raw"] <= 71
    )  # the average of 80 and 61
    by_name = {r["name"]: r for r in result["assessmentResults"]}
    assert by_name["Python (coding): data structures"]["score"] == {"raw": 80, "min": 0, "max": 100}
    personality = by_name["Big 5 (OCEAN)"]
    assert "score" not in personality and "High openness" in (
        personality.get("scoreLabel") or personality.get("summary") or ""
    )
    assert len(done["attachments"]) == 1
    assert (await world.http.get(done["attachments"][0]["url"])).content.startswith(b"%PDF")
    assert await testgorilla.emails_to(candidate["email"]) == 1
    state = await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )
    assert state.events_received == []  # nothing pushed: TestGorilla has no webhooks


@pytest.mark.parametrize(
    "variants",
    [
        {"candidature_get": "405", "invite_answer": "empty"},
        {"candidature_get": "404", "invite_answer": "uuid_only", "candidate_detail": "flat"},
        {
            "candidature_get": "exists",
            "test_taker_field": "test_taker",
            "duplicate_invite": "detail",
        },
    ],
    ids=["get-405", "get-404", "get-exists"],
)
async def test_an_order_completes_whatever_form_testgorillas_answers_take(
    world, temporal, testgorilla, company, variants
):
    """Its undocumented candidature GET answers 405, 404 or the candidature; the invite's answer
    is whole, partial or empty: the order is invited, polled and completed all the same."""
    await testgorilla.control("PUT", "variants", **variants)
    order_id, candidature, candidate = await ordered(world, temporal, company)
    await testgorilla.control("POST", f"candidatures/{candidature}/start")
    await world.sr_status_becomes(order_id, "IN_PROGRESS")
    await testgorilla.control(
        "POST",
        f"candidatures/{candidature}/complete",
        scores={"7244": 60, "311": 80, "494": "Calm"},
    )
    done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert done["result"]["score"]["raw"] == 70 and len(done["attachments"]) == 1
    assert await testgorilla.emails_to(candidate["email"]) == 1
    state = await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )
    assert (
        state.invitation.test_url == (await testgorilla.candidature(candidature))["invitation_link"]
    )


async def test_no_completion_by_the_deadline_expires_the_order_and_withdraws_the_candidature(
    world, temporal, testgorilla, company
):
    order_id, candidature, _ = await ordered(world, temporal, company, PROJECT_MANAGER)
    done = await world.sr_status_becomes(order_id, "EXPIRED", timeout=40)
    assert "6 seconds" in done["result"]["summary"]
    assert await testgorilla.candidature(candidature) is None  # deleted at TestGorilla


async def test_cancelling_the_order_deletes_the_candidature(world, temporal, testgorilla, company):
    order_id, candidature, _ = await ordered(world, temporal, company)
    handle = temporal.get_workflow_handle(order_workflow_id(order_id))
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    assert await testgorilla.candidature(candidature) is None
    await world.sr_status_becomes(order_id, "REJECTED")


async def test_an_expired_login_and_vendor_errors_cost_no_second_email(
    world, temporal, testgorilla, company
):
    # The catalog is read (and cached) first: a catalog failure would answer SR's order with 503.
    assert (
        await world.http.get(f"{world.sr}/__sim/packages", params={"company_id": company})
    ).status_code == 200
    await testgorilla.control("POST", "faults", kind="error", count=2, endpoint="invite")
    await testgorilla.control(
        "POST", "faults", kind="throttle", count=1, endpoint="candidate", reset_seconds=1
    )
    order_id, candidature, candidate = await ordered(world, temporal, company)
    logins = (await testgorilla.control("GET", "requests"))["logins"]
    await testgorilla.control("POST", "tokens/expire")  # idle for an hour, say
    await testgorilla.control(
        "POST",
        f"candidatures/{candidature}/complete",
        scores={"7244": 90, "311": 90, "494": "Calm"},
    )
    done = await world.sr_status_becomes(order_id, "COMPLETED", timeout=60)
    assert done["result"]["score"]["raw"] == 90
    assert await testgorilla.emails_to(candidate["email"]) == 1
    assert (await testgorilla.control("GET", "requests"))["logins"] > logins  # logged in again


async def test_many_open_orders_poll_within_the_accounts_limits(world, temporal, store, registered):
    """Twelve orders polling every 2 s want 6 status reads a second; the vendor allows 3."""
    window, limit = 2.0, 6
    with tg_sim(window_seconds=window, limits={"candidate": limit}) as url:
        sim = TestGorilla(url, world.http)
        credentials = {"rate_limits": {"candidate": limit}, "rate_window_seconds": window}
        company = await connected(store, world, url, credentials=credentials)
        orders = await asyncio.gather(*(ordered(world, temporal, company) for _ in range(12)))
        for _, candidature, _ in orders:
            await sim.control(
                "POST",
                f"candidatures/{candidature}/complete",
                scores={"7244": 70, "311": 70, "494": "Calm"},
            )
        for order_id, _, _ in orders:
            await world.sr_status_becomes(order_id, "COMPLETED", timeout=90)
        stats = (await sim.control("GET", "requests"))["endpoints"]["candidate"]
    assert stats["throttled"] == 0, stats  # the vendor never had to refuse us
    assert stats["max_in_window"] <= limit, stats
