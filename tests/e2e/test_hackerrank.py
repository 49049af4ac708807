"""HackerRank skills tests end to end: SR simulator → our API → Temporal → HackerRank simulator →
SR.

HackerRank pushes the result to a URL we give with each invitation, with a bearer token derived
for that order; polling covers pushes that never arrive.
"""

from __future__ import annotations

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError

from simulators.hackerrank import HackerRankSimConfig, create_app
from tests.support.connect import company_of_new_vendor_account
from tests.support.order_workflows import order_workflow_id
from tests.support.servers import free_port, serve
from tests.support.session_stack import ADMIN_KEY
from tests.support.waiting import eventually
from workflows.order import AssessmentOrderWorkflow

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long

API_KEY = "e2e-hackerrank-key"
PYTHON_SCREEN = "1529353"  # out of 100, cutoff 60


@pytest.fixture(scope="module")
def hackerrank_url():
    # Reports are ready when a test says so; failed pushes retry quickly.
    with serve(
        create_app(
            HackerRankSimConfig(
                api_key=API_KEY, report_delay_seconds=None, webhook_retry_delays=(0.5, 1.0)
            )
        )
    ) as url:
        yield url


class HackerRank:
    """The HackerRank simulator as the tests drive it: the candidate and the faults."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url, self.http = url, http

    async def candidate(self, candidate_id: str, action: str, **body) -> dict:
        return (
            (
                await self.http.post(
                    f"{self.url}/_sim/candidates/{candidate_id}/{action}", json=body or None
                )
            )
            .raise_for_status()
            .json()
        )

    async def faults(self, **switches) -> None:
        (await self.http.post(f"{self.url}/_sim/faults", json=switches)).raise_for_status()

    async def emails_to(self, address: str) -> int:
        return (await self.http.get(f"{self.url}/_sim/outbox", params={"to": address})).json()[
            "count"
        ]

    async def pushes(self, candidate_id: str) -> dict:
        return (
            await self.http.get(f"{self.url}/_sim/webhooks", params={"candidate_id": candidate_id})
        ).json()


@pytest.fixture
async def hackerrank(hackerrank_url, world):
    sim = HackerRank(hackerrank_url, world.http)
    yield sim
    (await world.http.delete(f"{hackerrank_url}/_sim/faults")).raise_for_status()


@pytest.fixture
async def company(hackerrank_url, store, world, registered) -> str:
    credentials = {"api_key": API_KEY, "base_url": hackerrank_url}
    return (await company_of_new_vendor_account(store, world.sr, "hackerrank", credentials))[1]


async def ordered(world, temporal, company: str) -> tuple[str, str, dict]:
    placed = await world.order(PYTHON_SCREEN, company_id=company)
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    state = await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )
    return order_id, state.invitation.vendor_ref.split(":")[1], placed["candidate"]


async def state_of(temporal, order_id: str):
    return await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )


async def test_a_pushed_result_reaches_the_profile_with_score_and_report(
    world, temporal, hackerrank, company
):
    order_id, candidate_id, candidate = await ordered(world, temporal, company)
    assert await hackerrank.emails_to(candidate["email"]) == 1
    await hackerrank.candidate(candidate_id, "start")
    await world.sr_status_becomes(order_id, "IN_PROGRESS")
    await hackerrank.candidate(candidate_id, "submit", score=72)
    await hackerrank.candidate(candidate_id, "report")
    done = await world.sr_status_becomes(order_id, "COMPLETED")

    result = done["result"]
    assert result["score"] == {"raw": 72, "min": 0, "max": 100} and result["scoreLabel"] == "Passed"
    assert "72" in result["summary"] and result["submissionDate"]
    assert len(done["attachments"]) == 1
    assert (await world.http.get(done["attachments"][0]["url"])).content.startswith(b"%PDF")
    # The push carried our per-order bearer token and was accepted.
    attempts = (await hackerrank.pushes(candidate_id))["attempts"]
    assert attempts and attempts[0]["status_code"] == 202
    assert any(
        e.startswith("hackerrank:") for e in (await state_of(temporal, order_id)).events_received
    )
    assert await hackerrank.emails_to(candidate["email"]) == 1


async def test_a_later_score_change_is_posted_again(world, temporal, hackerrank, company):
    order_id, candidate_id, _ = await ordered(world, temporal, company)
    await hackerrank.candidate(candidate_id, "submit", score=55)
    await hackerrank.candidate(candidate_id, "report")
    first = await world.sr_status_becomes(order_id, "COMPLETED")
    assert first["result"]["scoreLabel"] == "Failed"
    await hackerrank.candidate(
        candidate_id, "rescore", score=64
    )  # an evaluator regraded a question

    async def regraded():
        order = await world.sr_order(order_id)
        return order if order["result"]["score"]["raw"] == 64 else None

    done = await eventually(regraded, what="the regraded score at SR")
    assert done["result"]["scoreLabel"] == "Passed"
    assert (await state_of(temporal, order_id)).revisions_posted == 1


async def test_lost_pushes_only_delay_the_result(world, temporal, hackerrank, company):
    await hackerrank.faults(webhook="drop")
    order_id, candidate_id, _ = await ordered(world, temporal, company)
    await hackerrank.candidate(candidate_id, "submit", score=90)
    await hackerrank.candidate(candidate_id, "report")
    done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert done["result"]["score"]["raw"] == 90
    assert (await state_of(temporal, order_id)).events_received == []  # polling alone carried it


async def test_an_invitation_expiring_at_hackerrank_expires_the_order(
    world, temporal, hackerrank, company
):
    order_id, candidate_id, _ = await ordered(world, temporal, company)
    await hackerrank.candidate(candidate_id, "expire")
    done = await world.sr_status_becomes(order_id, "EXPIRED")
    assert [p["status"] for p in done["patches"]] == ["PENDING", "EXPIRED"]


async def test_cancelling_the_order_deletes_the_invite(world, temporal, hackerrank, company):
    order_id, candidate_id, _ = await ordered(world, temporal, company)
    handle = temporal.get_workflow_handle(order_workflow_id(order_id))
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    listed = (await world.http.get(f"{hackerrank.url}/_sim/candidates")).json()
    assert candidate_id not in {str(c["id"]) for c in listed}
    await world.sr_status_becomes(order_id, "REJECTED")


async def test_hackerrank_refusing_and_failing_for_a_while_still_gives_one_email_and_one_result(
    world, temporal, hackerrank, company
):
    # The catalog is read (and cached) first: a catalog failure would answer SR's order with 503.
    assert (
        await world.http.get(f"{world.sr}/__sim/packages", params={"company_id": company})
    ).status_code == 200
    await hackerrank.faults(rate_limit_next=1, server_error_next=2)
    order_id, candidate_id, candidate = await ordered(world, temporal, company)
    await hackerrank.faults(rate_limit_next=1, server_error_next=2)
    await hackerrank.candidate(candidate_id, "submit", score=80)
    await hackerrank.candidate(candidate_id, "report")
    done = await world.sr_status_becomes(order_id, "COMPLETED", timeout=60)
    assert done["result"]["score"]["raw"] == 80 and len(done["attachments"]) == 1
    assert await hackerrank.emails_to(candidate["email"]) == 1


async def test_a_hackerrank_that_forgets_the_invitation_holds_the_order_until_it_knows_it_again(
    world, temporal, stack, store, registered, tmp_path
):
    """HackerRank restarted without its records (or a key of another account): every status read
    answers 404. The order stays open, SR hears nothing, operators are told; once HackerRank knows
    the invitation again (its records back after a restart) the order completes."""
    port = free_port()
    remembers = HackerRankSimConfig(
        api_key=API_KEY, report_delay_seconds=None, database_path=tmp_path / "hackerrank.db"
    )
    forgot = HackerRankSimConfig(
        api_key=API_KEY, report_delay_seconds=None, database_path=tmp_path / "empty.db"
    )
    url = f"http://127.0.0.1:{port}"
    company = (
        await company_of_new_vendor_account(
            store, world.sr, "hackerrank", {"api_key": API_KEY, "base_url": url}
        )
    )[1]
    with serve(create_app(remembers), port):
        order_id, candidate_id, candidate = await ordered(world, temporal, company)

    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with serve(create_app(forgot), port):

        async def held() -> dict | None:
            shown = (
                (await world.http.get(f"{world.api}/admin/orders/{order_id}", headers=admin))
                .raise_for_status()
                .json()
            )
            polls = [
                item
                for item in shown["timeline"]
                if item["kind"] == "call"
                and "does not know the invitation" in (item["failure"] or "")
            ]
            return shown if polls else None

        shown = await eventually(held, what="the order's poll to meet HackerRank's 404")
        [poll] = [item for item in shown["timeline"] if "does not know" in (item["failure"] or "")]
        assert (
            poll["outcome"] == "polling"
            and "HTTP 404" in poll["failure"]
            and "held" in poll["failure"]
        )
        listed = (
            await world.http.get(
                f"{world.api}/admin/orders",
                params={"company": company, "stuck_for": "1s"},
                headers=admin,
            )
        ).json()
        assert [
            (o["order_id"], "does not know the invitation" in o["stuck_on"])
            for o in listed["orders"]
        ] == [(order_id, True)]
        # Told in the worker's log, by order id, and without the candidate.
        log = stack.settings.data_dir / "logs" / "worker.log"

        async def alert() -> list[str]:
            return [
                line
                for line in log.read_text().splitlines()
                if order_id in line and "does not know this order's invitation" in line
            ]

        [line, *_] = await eventually(alert, what="the worker's error line")
        assert '"level": "ERROR"' in line and candidate["email"] not in line
        order = await world.sr_order(order_id)
        assert [p["status"] for p in order["patches"]] == ["PENDING"]  # no REJECTED
        assert (
            await temporal.get_workflow_handle(order_workflow_id(order_id)).describe()
        ).status == WorkflowExecutionStatus.RUNNING

    with serve(create_app(remembers), port):  # HackerRank's records are back
        await HackerRank(url, world.http).candidate(candidate_id, "submit", score=81)
        await HackerRank(url, world.http).candidate(
            candidate_id, "report"
        )  # pushed: the order reads it at once
        done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert done["result"]["score"]["raw"] == 81
    assert [p["status"] for p in done["patches"]] == ["PENDING", "COMPLETED"]
