"""An order SR will not hear about, on the real stack: SR refuses every update of it, because SR
answers 403 (the company is not connected at SR), or because SR's token endpoint refuses the
company's credentials (the company was disconnected at SR alone: SR's call to our
integrationDisableUrl was lost).

The order shows SR_REFUSING to operators while it keeps trying, gives up after
ASSESSMENTS_SR_REFUSAL_GIVE_UP_DAYS (seconds here, tests/support/session_stack.py) as UNDELIVERED
with its result kept, and once SR listens again an operator's repost-result brings SR the result.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus

from orders.visibility import ORDER_STATUS, ORDER_WORKFLOWS
from store import Store
from tests.e2e.test_metrics import gauge_counts, metric
from tests.e2e.test_operator_orders import _run
from tests.support.connect import (
    company_of_new_vendor_account,
    fill_in_consent,
    register_partner_configuration,
)
from tests.support.http import client as http_client
from tests.support.order_workflows import order_workflow_id, terminate_quietly, workflow_becomes
from tests.support.waiting import eventually
from tests.support.world import World

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long

WHO = {"operator": "ops.ann", "reason": "SR listens to this company again"}
SCORE = 64


async def _shown(admin: httpx.AsyncClient, order_id: str) -> dict:
    response = await admin.get(f"/orders/{order_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def _status_becomes(
    admin: httpx.AsyncClient, order_id: str, status: str, timeout: float = 30
) -> dict:
    """What operators see (`orders show`, the AssessmentOrderStatus
    search attribute) comes to be `status`."""

    async def probe():
        response = await admin.get(f"/orders/{order_id}")
        if response.status_code == 404:
            return None  # Temporal's visibility lists a just-started order a moment later
        assert response.status_code == 200, response.text
        shown = response.json()
        return shown if shown["status"] == status else None

    return await eventually(
        probe, timeout=timeout, what=f"order {order_id} to show {status} to operators"
    )


async def _listed_with_status(
    admin: httpx.AsyncClient, order_id: str, status: str, **params
) -> None:
    async def probe():
        response = await admin.get("/orders", params={"status": status} | params)
        assert response.status_code == 200, response.text
        return order_id in {order["order_id"] for order in response.json()["orders"]}

    await eventually(probe, timeout=20, what=f"order {order_id} listed with status {status}")


async def _sr_updates(world: World, order_id: str) -> list[tuple[str, int]]:
    """Each result update SR received for the order: its status and SR's answer."""
    requests = await world.sr_requests(f"/orders/{order_id}/results")
    return [(r["json"]["status"], r["status"]) for r in requests if r["method"] == "PATCH"]


async def _order_sr_refuses(world: World) -> str:
    """An order whose every request to SR (updates and the report's upload) SR answers 403, from
    its first one on: the fault is in place before SR sends the order."""
    order_id = str(uuid.uuid4())
    await world.sr_refuses(
        order_id, 403, count=100_000, method=None, path=f"/orders/{order_id}/results"
    )
    candidate = await world.new_candidate()
    placed = await world.http.post(
        f"{world.sr}/__sim/orders",
        json={
            "candidate_id": candidate["id"],
            "package_id": "skills-fullstack",
            "order_id": order_id,
        },
    )
    placed.raise_for_status()
    return order_id


async def _sr_listens_again(world: World, order_id: str) -> None:
    """SR takes the order's requests again: its faults are cleared (other orders' stay)."""
    (
        await world.http.delete(
            f"{world.sr}/__sim/faults", params={"path_contains": f"/orders/{order_id}/results"}
        )
    ).raise_for_status()


@pytest.fixture(scope="module")
async def undelivered(stack, temporal):
    """An order SR refused until it gave up,
    after its candidate declined: UNDELIVERED, no result."""
    async with http_client(timeout=30) as http:
        world = World(stack.settings, http)
        order_id = await _order_sr_refuses(world)
        await world.invitation_email(order_id)
        await world.at_vendor("decline", order_id)

        async def given_up() -> bool:
            described = await temporal.get_workflow_handle(order_workflow_id(order_id)).describe()
            return described.typed_search_attributes.get(ORDER_STATUS) == "UNDELIVERED"

        await eventually(given_up, timeout=60, what=f"order {order_id} to give up")
        yield order_id
        await _sr_listens_again(world, order_id)


async def _scraped(world: World, stack) -> str:
    return (await world.http.get(f"http://{stack.settings.worker_metrics_address}/metrics")).text


async def test_an_order_sr_refuses_is_shown_gives_up_and_is_reposted_once_sr_listens_again(
    world, admin, temporal, stack
):
    order_id = await _order_sr_refuses(world)
    try:
        # SR refused PENDING: operators see it at once, while the order follows its candidate.
        shown = await _status_becomes(admin, order_id, "SR_REFUSING")
        assert shown["workflow_status"] == "RUNNING" and shown["sr_status"] is None
        assert any(
            "SmartRecruiters refused our status update PENDING for this company (HTTP 403)"
            in item["what"]
            for item in shown["timeline"]
        )
        await _listed_with_status(admin, order_id, "SR_REFUSING", open="true")
        # The census gauge counts it as Temporal does (alert: docs/reliability.md).
        refusing = (
            f'{ORDER_WORKFLOWS} AND ExecutionStatus = "Running" AND {ORDER_STATUS.name} = '
            '"SR_REFUSING"'
        )
        ours = f'{refusing} AND WorkflowId = "{order_workflow_id(order_id)}"'
        gauge = r'assessment_orders_open\w*\{.*status="SR_REFUSING"'
        await eventually(
            lambda: gauge_counts(world, stack, temporal, gauge, refusing, ours, 1),
            what="the SR_REFUSING gauge to count the order",
            timeout=60,
        )

        await world.at_vendor("complete", order_id, score=SCORE)
        # COMPLETED refused too: tried again until the give-up time,
        # then the order ends UNDELIVERED.
        shown = await _status_becomes(admin, order_id, "UNDELIVERED", timeout=60)
        await workflow_becomes(temporal, order_id, WorkflowExecutionStatus.COMPLETED)
        shown = await _shown(admin, order_id)
        assert (
            shown["workflow_status"] == "COMPLETED"
            and shown["sr_status"] is None
            and shown["undelivered"] == "COMPLETED"
        )
        assert shown["score"] == SCORE  # the result is kept for a repost
        steps = [item["what"] for item in shown["timeline"] if item["kind"] == "step"]
        assert any(
            step.startswith(
                "SmartRecruiters refuses us for this company: COMPLETED is tried again until"
            )
            for step in steps
        ), steps
        assert any(
            step.startswith("Gave up telling SmartRecruiters COMPLETED") and "repost-result" in step
            for step in steps
        ), steps
        calls = [
            item
            for item in shown["timeline"]
            if item["kind"] == "call" and item["what"].startswith("Tell SmartRecruiters, once")
        ]
        # One call retried until the give-up time (its last retry would pass it: failed; or an
        # attempt still running then: timed out), not a call per try.
        assert [call["what"] for call in calls] == [
            "Tell SmartRecruiters, once it stops refusing us for the company: COMPLETED"
        ]
        assert calls[0]["outcome"] in ("failed", "timed out") and "refuses us for this company" in (
            calls[0]["failure"] or ""
        ), calls
        await _listed_with_status(admin, order_id, "UNDELIVERED", open="false")
        # SR received the updates, refused each, and shows nothing.
        updates = await _sr_updates(world, order_id)
        assert {status for status, _ in updates} == {"PENDING", "COMPLETED"} and {
            answer for _, answer in updates
        } == {403}
        assert len([u for u in updates if u[0] == "COMPLETED"]) >= 2  # tried again, not just once
        assert (await world.sr_order(order_id))["result"].get("status") is None

        async def undelivered_in_metrics() -> str | None:
            text = await _scraped(world, stack)
            patterns = (
                r"assessment_orders_undelivered\w*\{?",
                r'assessment_orders_ended\w*\{.*ending="UNDELIVERED"',
                r"assessment_sr_refusals\w*\{",
            )
            return text if all((metric(text, pattern) or 0) >= 1 for pattern in patterns) else None

        text = await eventually(
            undelivered_in_metrics, what="the undelivered order in the worker's metrics"
        )
        assert order_id not in text

        # SR listens again (the company connected there); an operator reposts the kept result.
        await _sr_listens_again(world, order_id)
        reposted = await admin.post(f"/orders/{order_id}/repairs/repost-result", json=WHO)
        assert reposted.status_code == 200, reposted.text
        assert (
            "order reset to just before reading the result at the vendor" in reposted.json()["note"]
        )
        sr = await world.sr_status_becomes(order_id, "COMPLETED")
        assert sr["result"]["score"] == {"raw": SCORE, "min": 0, "max": 100}
        assert len(sr["attachments"]) == 1  # the report, refused before, is attached now
        await workflow_becomes(
            temporal, order_id, WorkflowExecutionStatus.COMPLETED, run_id=reposted.json()["run_id"]
        )
        assert (await _status_becomes(admin, order_id, "COMPLETED"))["sr_status"] == "COMPLETED"
    finally:
        await _sr_listens_again(world, order_id)
        await terminate_quietly(temporal, order_id)


async def test_an_undelivered_order_without_a_result_is_reset_once_sr_listens_again(
    world, admin, temporal
):
    order_id = await _order_sr_refuses(world)
    try:
        await _status_becomes(admin, order_id, "SR_REFUSING")
        await world.at_vendor("decline", order_id)
        shown = await _status_becomes(admin, order_id, "UNDELIVERED", timeout=60)
        assert any(
            item["what"].startswith("Gave up telling SmartRecruiters REJECTED")
            and "reset" in item["what"]
            for item in shown["timeline"]
        )

        refused = await admin.post(f"/orders/{order_id}/repairs/repost-result", json=WHO)
        assert (
            refused.status_code == 409
            and refused.json()["message"] == "The order has no result to re-post"
        )
        await _sr_listens_again(world, order_id)
        reset = await admin.post(f"/orders/{order_id}/repairs/reset", json=WHO)
        assert reset.status_code == 200, reset.text
        assert (
            "order reset to just before posting REJECTED to SmartRecruiters" in reset.json()["note"]
        )
        await world.sr_status_becomes(order_id, "REJECTED")
        await workflow_becomes(
            temporal, order_id, WorkflowExecutionStatus.COMPLETED, run_id=reset.json()["run_id"]
        )
        assert (await _status_becomes(admin, order_id, "REJECTED"))["sr_status"] == "REJECTED"
        # Reset again: the order ended as SR heard it; nothing to go back to.
        again = await admin.post(f"/orders/{order_id}/repairs/reset", json=WHO)
        assert again.status_code == 409, again.text
    finally:
        await _sr_listens_again(world, order_id)
        await terminate_quietly(temporal, order_id)


async def test_a_company_disconnected_at_sr_alone_gives_up_and_is_reposted_once_it_connects_again(
    world, admin, temporal, stack
):
    settings = stack.settings
    await register_partner_configuration(settings)
    store = Store(settings.store_url, settings.encryption_keys.get_secret_value())
    try:
        account, company = await company_of_new_vendor_account(
            store,
            world.sr,
            "sandbox",
            {"api_key": settings.sandbox_vendor_api_key.get_secret_value()},
        )
        order_id = (await world.order("skills-fullstack", company_id=company))["order_id"]
        try:
            await world.sr_status_becomes(order_id, "PENDING")
            disconnected = await world.http.post(
                f"{world.sr}/__sim/companies/{company}/disconnect", params={"tell_partner": "false"}
            )
            assert (
                disconnected.status_code == 200 and disconnected.json()["partner_status"] is None
            ), disconnected.text

            await world.at_vendor("complete", order_id, score=SCORE)
            await _listed_with_status(admin, order_id, "SR_REFUSING", company=company)
            shown = await _status_becomes(admin, order_id, "UNDELIVERED", timeout=60)
            assert (
                shown["score"] == SCORE
                and shown["sr_status"] == "PENDING"
                and shown["undelivered"] == "COMPLETED"
            )
            assert any(
                "SmartRecruiters refused our client credentials" in item["what"]
                for item in shown["timeline"]
                if item["kind"] == "step"
            )
            # SR's token endpoint refused the company's credentials (RFC 6749 invalid_client).
            tokens = await world.sr_requests("/identity/oauth/token")
            assert 401 in {request["status"] for request in tokens}
            assert (await world.sr_order(order_id))["result"]["status"] == "PENDING"

            # The operator disconnects the company on our side too (SR's call never came), its
            # admin connects it again, and the operator reposts the kept result.
            ours = await admin.delete(f"/connections/{company}")
            assert ours.status_code == 200 and ours.json() == {
                "company_id": company,
                "orders_cancelled": 0,
            }, ours.text
            async with http_client(timeout=30) as browser:
                consent = (
                    await browser.post(f"{world.sr}/__sim/companies/{company}/consent")
                ).json()
                token = (await store.issue_trigger_token(account)).token
                assert (
                    await fill_in_consent(
                        browser, consent["consent_url"], token, "admin@example.com"
                    )
                ).status_code == 200
            reposted = await admin.post(f"/orders/{order_id}/repairs/repost-result", json=WHO)
            assert reposted.status_code == 200, reposted.text
            sr = await world.sr_status_becomes(order_id, "COMPLETED")
            assert (
                sr["result"]["score"] == {"raw": SCORE, "min": 0, "max": 100}
                and len(sr["attachments"]) == 1
            )
            assert (await _status_becomes(admin, order_id, "COMPLETED"))["sr_status"] == "COMPLETED"
        finally:
            await terminate_quietly(temporal, order_id)
    finally:
        await store.dispose()


def test_the_cli_lists_and_shows_an_undelivered_order(undelivered, stack_cli):
    listed = json.loads(
        _run("orders", "list", "--status", "undelivered", "--closed", "--json").stdout
    )
    assert undelivered in [order["order_id"] for order in listed["orders"]]
    shown = json.loads(_run("orders", "show", undelivered, "--json").stdout)
    assert (shown["status"], shown["undelivered"], shown["sr_status"]) == (
        "UNDELIVERED",
        "REJECTED",
        None,
    )
    table = _run("orders", "show", undelivered).stdout
    assert (
        "SR never took REJECTED; once it listens again, repair it: repost-result (an order "
        "with a result) or reset"
    ) in table
