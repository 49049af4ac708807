"""An order belongs to the company that placed it: another company naming its order id gets
nothing of it (no link, status, result or timing), and never blocks or drops it.

SR's order ids are not secrets (they are in URLs, vendors' callback URLs and logs), so every test
here is an attacker: a second company, connected with its own credentials, sending orders that
name other companies' order ids.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from temporalio.service import RPCError, RPCStatusCode

from orders.models import Candidate, Order
from orders.visibility import initial_search_attributes, order_reference, workflow_id
from store import Store
from tests.support.http import client as http_client
from tests.support.order_workflows import SIM_COMPANY, terminate_quietly
from tests.support.session_stack import ADMIN_KEY
from tests.support.waiting import eventually

ANOTHER_COMPANYS_ORDER = "This order id belongs to another company's order"


@dataclass
class Intruder:
    """A company connected with its own credentials (and its own sandbox account), which names
    other companies' order ids in its orders."""

    company_id: str
    api: httpx.AsyncClient
    sr: str

    def body(self, order_id: str, email: str = "intruder@example.com") -> dict:
        return {
            "resultCallbackURL": f"{self.sr}/assessment-api/v202010/orders/{order_id}/results",
            "assessmentPackageId": "skills-fullstack",
            "companyId": self.company_id,
            "candidate": {"id": "c-x", "email": email, "firstName": "Eve", "lastName": "Intruder"},
            "job": {"id": "job-x", "title": "Anything"},
        }

    async def order(self, order_id: str) -> httpx.Response:
        return await self.api.post("/packages/orders", json=self.body(order_id))

    async def inline_order(self, order_id: str) -> httpx.Response:
        body = self.body(order_id)
        body["candidate"]["applicationLanguage"] = "en"
        return await self.api.post(
            "/packages/inline/orders",
            json=body | {"completedAssessmentCallbackUrl": f"{self.sr}/done"},
        )


@pytest.fixture
async def intruder(stack, store: Store, world):
    account = await store.create_vendor_account(
        name=f"intruder-{uuid.uuid4().hex[:8]}",
        adapter="sandbox",
        credentials={"api_key": stack.settings.sandbox_vendor_api_key.get_secret_value()},
    )
    company_id = f"intruder-{uuid.uuid4().hex[:8]}"
    issued = await store.issue_trigger_token(account.id)
    client_id, secret = Store.mint_partner_credentials()
    await store.complete_connection(
        company_id=company_id,
        vendor_account_id=account.id,
        trigger_token_id=issued.token_id,
        consent_email="eve@example.com",
        partner_client_id=client_id,
        partner_client_secret=secret,
        sr_client_id=f"sr-{company_id}",
        sr_client_secret="sr-secret",
    )
    async with http_client(base_url=stack.settings.public_url, timeout=30) as api:
        token = (
            await api.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
            )
        ).json()
        api.headers["Authorization"] = f"Bearer {token['access_token']}"
        yield Intruder(company_id, api, world.sr)


async def _emails(world, reference: str) -> list[dict]:
    return (
        (await world.http.get(f"{world.vendor}/control/outbox", params={"reference": reference}))
        .raise_for_status()
        .json()
    )


async def _no_workflow(temporal, reference: str) -> bool:
    try:
        await temporal.get_workflow_handle(workflow_id(reference)).describe()
    except RPCError as err:
        return err.status == RPCStatusCode.NOT_FOUND
    return False


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["message"] == ANOTHER_COMPANYS_ORDER


async def test_another_companys_order_id_is_refused_and_tells_nothing_of_that_order(
    world, intruder, temporal
):
    victim = await world.order("skills-fullstack", kind="inline")
    order_id, link = victim["order_id"], victim["partner_body"]["url"]
    await world.sr_status_becomes(order_id, "PENDING")

    for attempt in (await intruder.inline_order(order_id), await intruder.order(order_id)):
        _refused(attempt)
        assert link not in attempt.text and victim["candidate"]["email"] not in attempt.text
    # Nothing was started or sent for the intruder either.
    assert await _emails(world, order_reference(order_id, intruder.company_id)) == []
    assert await _no_workflow(temporal, order_reference(order_id, intruder.company_id))

    # A finished order is refused the same way; its owner's order went on untouched.
    await world.at_vendor("complete", order_id, score=77)
    done = await world.sr_status_becomes(order_id, "COMPLETED")
    _refused(await intruder.inline_order(order_id))
    assert [patch["status"] for patch in done["patches"]] == ["PENDING", "COMPLETED"]
    assert done["result"]["score"]["raw"] == 77


async def test_an_order_id_another_company_sent_first_never_drops_the_real_order(
    world, intruder, temporal
):
    order_id = str(uuid.uuid4())
    assert (await intruder.order(order_id)).status_code == 202  # before SR has such an order
    await eventually(
        lambda: _emails(world, order_reference(order_id, intruder.company_id)),
        what="the intruder's own invitation",
    )

    candidate = await world.new_candidate()
    placed = (
        await world.http.post(
            f"{world.sr}/__sim/orders",
            json={
                "candidate_id": candidate["id"],
                "package_id": "skills-fullstack",
                "order_id": order_id,
            },
        )
    ).json()
    assert placed["partner_status"] == 202
    # The real order is served: its own candidate invited, SR told, by the company that owns it.
    [email] = await eventually(
        lambda: _emails(world, order_reference(order_id, SIM_COMPANY)),
        what="the real candidate's invitation",
    )
    assert email["to"] == candidate["email"]
    await world.sr_status_becomes(order_id, "PENDING")

    # Now that SR has confirmed whose order it is, the intruder's repeat is refused.
    _refused(await intruder.order(order_id))
    _refused(await intruder.inline_order(order_id))
    await world.at_vendor("complete", order_id, score=64)
    done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert [patch["status"] for patch in done["patches"]] == [
        "PENDING",
        "COMPLETED",
    ]  # SR took nothing of the intruder's
    await terminate_quietly(temporal, order_id)
    await temporal.get_workflow_handle(
        workflow_id(order_reference(order_id, intruder.company_id))
    ).terminate("test finished")


async def test_an_order_received_before_references_named_the_company_keeps_working(
    stack, world, intruder, temporal
):
    """An order whose workflow id is `assessment-order:{order id}` (as every order's was before),
    running when the API restarts: SR's repeat joins it, webhooks reach it, operators find and
    repair it, it completes."""
    candidate = await world.new_candidate()
    order_id = str(uuid.uuid4())
    stored = {
        "candidate_id": candidate["id"],
        "package_id": "skills-fullstack",
        "order_id": order_id,
        "send": False,
    }
    (await world.http.post(f"{world.sr}/__sim/orders", json=stored)).raise_for_status()
    body = (await world.sr_order(order_id))["partner_request"]["body"]
    older = Order(
        order_id=order_id,
        company_id=SIM_COMPANY,
        package_id="skills-fullstack",
        package_name="Full-stack developer skills",
        vendor="sandbox",
        result_callback_url=body["resultCallbackURL"],
        deadline_days=7,
        poll_interval_seconds=2,
        received_at=datetime.now(UTC),
        candidate=Candidate(
            first_name=candidate["first_name"],
            last_name=candidate["last_name"],
            email=candidate["email"],
        ),
    )
    assert older.reference == order_id
    await temporal.start_workflow(
        "AssessmentOrderWorkflow",
        older,
        id=workflow_id(order_id),
        task_queue=stack.settings.task_queue,
        search_attributes=initial_search_attributes(older),
    )
    await world.sr_status_becomes(order_id, "PENDING")
    assert len(await _emails(world, order_id)) == 1
    # The new version starts (reading, at start, which running orders are of the older kind).
    stack.kill("api")
    stack.start_components("api")

    # SR repeats the order: it joins the workflow it has, no second invitation, no second workflow.
    resent = (await world.http.post(f"{world.sr}/__sim/orders/{order_id}/resend")).json()
    assert resent["partner_status"] == 202
    assert len(await _emails(world, order_id)) == 1
    assert await _no_workflow(temporal, order_reference(order_id, SIM_COMPANY))
    # Another company naming it is refused, like any other company's order.
    _refused(await intruder.inline_order(order_id))

    async with http_client(
        base_url=f"{stack.settings.public_url}/admin",
        timeout=30,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ) as admin:
        shown = (await admin.get(f"/orders/{order_id}")).json()
        assert (shown["workflow_id"], shown["reference"], shown["status"]) == (
            workflow_id(order_id),
            order_id,
            "PENDING",
        )
        repaired = await admin.post(
            f"/orders/{order_id}/repairs/extend-deadline",
            json={"operator": "ann", "reason": "Candidate was ill", "days": 2},
        )
        assert repaired.status_code == 200, repaired.text

    # The vendor's webhook finds it through the index of the default vendor's invitations.
    (
        await world.http.post(
            f"{world.vendor}/control/orders/{order_id}/complete", json={"score": 81}
        )
    ).raise_for_status()
    done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert done["result"]["score"]["raw"] == 81
