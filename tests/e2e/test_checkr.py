"""Background checks at Checkr end to end: SR simulator → our API → Temporal → Checkr simulator →
SR.

Checkr pushes account-level webhooks signed with the API key; they reach the order through our
index of the account's candidates and invitations, and polling covers what they miss.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError

from simulators.checkr import CheckrSimConfig, create_app
from tests.support.connect import company_of_new_vendor_account
from tests.support.order_workflows import order_workflow_id
from tests.support.servers import serve
from tests.support.waiting import eventually
from workflows.order import AssessmentOrderWorkflow

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long

API_KEY = "e2e-checkr-key"
# Each test company's account and the webhook URL registered for it at the simulator.
WEBHOOK_OF: dict[str, str] = {}
PACKAGE = "tasker_standard"


@pytest.fixture(scope="module")
def checkr_url():
    # Each test's account registers its own webhook URL; failed deliveries retry quickly.
    # A short rate window, so a 429's reset time is seconds away, not a minute.
    config = CheckrSimConfig(
        api_key=API_KEY,
        max_webhooks=100,
        webhook_retry_delays=(0.5, 1.0, 2.0),
        rate_window_seconds=2,
    )
    with serve(create_app(config)) as url:
        yield url


class Checkr:
    """The Checkr simulator as the tests drive it: the candidate, the screeners and the faults."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url, self.http = url, http

    async def control(self, path: str, **body) -> dict:
        return (
            (await self.http.post(f"{self.url}/_sim/{path}", json=body or None))
            .raise_for_status()
            .json()
        )

    async def faults(self, **faults) -> None:
        (await self.http.put(f"{self.url}/_sim/faults", json=faults)).raise_for_status()

    async def emails_to(self, address: str) -> int:
        return (
            (await self.http.get(f"{self.url}/_sim/outbox", params={"to": address}))
            .json()["counts"]
            .get(address, 0)
        )

    async def invitation(self, invitation_id: str) -> dict:
        [found] = [
            i
            for i in (await self.http.get(f"{self.url}/_sim/invitations")).json()
            if i["id"] == invitation_id
        ]
        return found

    async def variants(self, **variants) -> None:
        (await self.http.put(f"{self.url}/_sim/variants", json=variants)).raise_for_status()


@pytest.fixture
async def checkr(checkr_url, world):
    sim = Checkr(checkr_url, world.http)
    yield sim
    await sim.faults()  # all off again
    await sim.variants()  # the default account again


async def new_company(
    checkr_url, store, world, settings: dict | None = None, include_object: bool = True
) -> str:
    """A company connected with a new Checkr account (its `settings` added to the credentials),
    whose webhook URL is registered at Checkr with `include_object` as given."""
    credentials = {
        "api_key": API_KEY,
        "base_url": checkr_url,
        "work_location": {"country": "US", "state": "CA"},
    } | (settings or {})
    account_id, company_id = await company_of_new_vendor_account(
        store, world.sr, "checkr", credentials
    )
    WEBHOOK_OF[company_id] = f"{world.api}/webhooks/checkr/accounts/{account_id}"
    webhook = {"webhook_url": WEBHOOK_OF[company_id], "include_object": include_object}
    (
        await world.http.post(f"{checkr_url}/v1/webhooks", json=webhook, auth=(API_KEY, ""))
    ).raise_for_status()
    return company_id


@pytest.fixture
async def company(checkr_url, store, world, registered) -> str:
    return await new_company(checkr_url, store, world)


async def ordered(world, temporal, company: str) -> tuple[str, str, str, dict]:
    """Order a background check; returns (order id,
    Checkr candidate id, invitation id, candidate)."""
    placed = await world.order(PACKAGE, company_id=company)
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    state = await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )
    candidate_id, invitation_id = state.invitation.vendor_ref.split(":")
    return order_id, candidate_id, invitation_id, placed["candidate"]


async def test_a_clear_background_check_reaches_the_profile_without_a_score(
    world, temporal, checkr, company
):
    order_id, _, invitation_id, candidate = await ordered(world, temporal, company)
    assert await checkr.emails_to(candidate["email"]) == 1

    report_id = (await checkr.control(f"invitations/{invitation_id}/complete"))["report_id"]
    processing = await world.sr_status_becomes(order_id, "IN_PROGRESS")
    assert "preparing the result" in processing["result"]["summary"]
    await checkr.control(f"reports/{report_id}/complete", result="clear")
    done = await world.sr_status_becomes(order_id, "COMPLETED")

    result = done["result"]
    assert "score" not in result and result["scoreLabel"] == "Clear"
    assert "clear" in result["summary"].lower() and result["submissionDate"]
    assert len(done["attachments"]) == 1
    assert (await world.http.get(done["attachments"][0]["url"])).content.startswith(b"%PDF")
    assert await checkr.emails_to(candidate["email"]) == 1


async def test_a_dispute_revises_the_completed_result_at_smartrecruiters(
    world, temporal, checkr, company
):
    order_id, _, invitation_id, _ = await ordered(world, temporal, company)
    report_id = (await checkr.control(f"invitations/{invitation_id}/complete"))["report_id"]
    await checkr.control(f"reports/{report_id}/complete", result="consider")
    first = await world.sr_status_becomes(order_id, "COMPLETED")
    assert first["result"]["scoreLabel"] == "Consider"

    await checkr.control(f"reports/{report_id}/dispute")

    async def under_review():
        order = await world.sr_order(order_id)
        return order if "disputed" in (order["result"].get("summary") or "") else None

    await eventually(under_review, what="SR to say the result is disputed")
    await checkr.control(f"reports/{report_id}/complete", result="clear")

    async def revised():
        order = await world.sr_order(order_id)
        return order if order["result"].get("scoreLabel") == "Clear" else None

    done = await eventually(revised, what="the revised result at SR")
    # The result, "under review", the revision; IN_PROGRESS may be skipped when Checkr is quick.
    assert [p["status"] for p in done["patches"] if p["status"] != "IN_PROGRESS"] == [
        "PENDING",
        "COMPLETED",
        "COMPLETED",
        "COMPLETED",
    ]
    assert len(done["attachments"]) == 2  # the revised report is attached too
    handle = temporal.get_workflow_handle(order_workflow_id(order_id))

    async def revision_counted():
        # SR has the revision as soon as the activity's PATCH lands; the order counts it when
        # the activity's completion reaches the workflow, a moment later on a busy machine.
        state = await handle.query(AssessmentOrderWorkflow.state)
        return state if state.revisions_posted else None

    state = await eventually(revision_counted, what="the order to count the revision it posted")
    assert state.revisions_posted == 1 and not state.duplicate_events


async def test_lost_webhooks_only_delay_the_result(world, temporal, checkr, company):
    await checkr.faults(drop=True)
    order_id, _, invitation_id, _ = await ordered(world, temporal, company)
    report_id = (await checkr.control(f"invitations/{invitation_id}/complete"))["report_id"]
    await checkr.control(f"reports/{report_id}/complete", result="clear")
    done = await world.sr_status_becomes(order_id, "COMPLETED")
    assert done["result"]["scoreLabel"] == "Clear"
    state = await temporal.get_workflow_handle(order_workflow_id(order_id)).query(
        AssessmentOrderWorkflow.state
    )
    assert state.events_received == []  # polling alone carried it


async def test_webhooks_arriving_out_of_order_change_nothing(world, temporal, checkr, company):
    await checkr.faults(hold=True)
    order_id, _, invitation_id, _ = await ordered(world, temporal, company)
    report_id = (await checkr.control(f"invitations/{invitation_id}/complete"))["report_id"]
    await checkr.control(f"reports/{report_id}/suspend")
    await checkr.control(f"reports/{report_id}/resume")
    await checkr.control(f"reports/{report_id}/complete", result="clear")
    await world.sr_status_becomes(order_id, "COMPLETED")
    # Now the held events arrive newest first: a stale "suspended" must not move anything.
    assert (await checkr.control("webhooks/release"))["released"] >= 6
    handle = temporal.get_workflow_handle(order_workflow_id(order_id))

    async def received(count: int):
        state = await handle.query(AssessmentOrderWorkflow.state)
        return state if len(state.events_received) >= count else None

    state = await eventually(lambda: received(6), what="the late events at the workflow")
    order = await world.sr_order(order_id)
    assert [p["status"] for p in order["patches"]].count("COMPLETED") == 1
    assert order["result"]["scoreLabel"] == "Clear" and state.revisions_posted == 0


async def test_every_webhook_sent_twice_is_acted_on_once(world, temporal, checkr, company):
    await checkr.faults(duplicate=True)
    order_id, _, invitation_id, _ = await ordered(world, temporal, company)
    report_id = (await checkr.control(f"invitations/{invitation_id}/complete"))["report_id"]
    await checkr.control(f"reports/{report_id}/complete", result="consider")
    await world.sr_status_becomes(order_id, "COMPLETED")
    handle = temporal.get_workflow_handle(order_workflow_id(order_id))

    async def all_copies_delivered():
        attempts = (await world.http.get(f"{checkr.url}/_sim/deliveries")).json()
        ours = [a for a in attempts if a["url"] == WEBHOOK_OF[company] and a["status_code"] == 202]
        return ours if len(ours) >= 8 else None  # four events, each twice

    copies = await eventually(all_copies_delivered, what="both copies of every event accepted")
    state = await handle.query(AssessmentOrderWorkflow.state)
    # The second copy of each is recognised by its event id and never reaches the workflow twice.
    # (An event that overtakes our index of the invitation it names is answered without reaching
    # the order, polling covering it: on a loaded machine the first may, so not all four reach.)
    sent = {a["event_id"] for a in copies}
    assert len(sent) == len(copies) // 2
    assert len(state.events_received) == len(set(state.events_received))
    assert set(state.events_received) <= sent and len(state.events_received) >= len(sent) - 1
    order = await world.sr_order(order_id)
    assert [p["status"] for p in order["patches"]].count("COMPLETED") == 1 and len(
        order["attachments"]
    ) == 1
    assert state.revisions_posted == 0


async def test_an_invitation_expiring_at_checkr_expires_the_order(world, temporal, checkr, company):
    order_id, _, invitation_id, _ = await ordered(world, temporal, company)
    await checkr.control(f"invitations/{invitation_id}/expire")
    done = await world.sr_status_becomes(order_id, "EXPIRED")
    assert [p["status"] for p in done["patches"]] == ["PENDING", "EXPIRED"]


async def test_cancelling_the_order_withdraws_the_invitation_at_checkr(
    world, temporal, checkr, company
):
    order_id, _, invitation_id, _ = await ordered(world, temporal, company)
    handle = temporal.get_workflow_handle(order_workflow_id(order_id))
    await handle.cancel()
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert (await handle.describe()).status == WorkflowExecutionStatus.CANCELED
    assert (await checkr.invitation(invitation_id))["deleted_at"] is not None
    done = await world.sr_status_becomes(order_id, "REJECTED")
    assert "cancelled" in done["result"]["summary"]


async def test_checkr_refusing_and_failing_for_a_while_still_gives_one_candidate_and_one_result(
    world, temporal, checkr, company
):
    # The catalog is read (and cached) first: a catalog failure would answer SR's order with 503.
    assert (
        await world.http.get(f"{world.sr}/__sim/packages", params={"company_id": company})
    ).status_code == 200
    await checkr.faults(rate_limit_next=1, server_error_next=2)
    order_id, _, invitation_id, candidate = await ordered(world, temporal, company)
    report_id = (await checkr.control(f"invitations/{invitation_id}/complete"))["report_id"]
    await checkr.faults(rate_limit_next=1, server_error_next=2)
    await checkr.control(f"reports/{report_id}/complete", result="clear")
    done = await world.sr_status_becomes(order_id, "COMPLETED", timeout=60)
    assert done["result"]["scoreLabel"] == "Clear"
    candidates = (await world.http.get(f"{checkr.url}/_sim/candidates")).json()
    assert [c["email"] for c in candidates].count(candidate["email"]) == 1
    assert await checkr.emails_to(candidate["email"]) == 1


async def test_an_account_with_a_hierarchy_orders_with_its_node_and_work_location(
    world, temporal, checkr, checkr_url, store, registered
):
    await checkr.variants(nodes=["north-region"])
    company = await new_company(
        checkr_url,
        store,
        world,
        {"node": "north-region", "work_location": {"country": "US", "state": "NY"}},
    )
    order_id, _, invitation_id, _ = await ordered(world, temporal, company)
    report_id = (await checkr.control(f"invitations/{invitation_id}/complete"))["report_id"]
    report = (
        await world.http.get(f"{checkr_url}/v1/reports/{report_id}", auth=(API_KEY, ""))
    ).json()
    assert report["work_locations"] == [{"country": "US", "state": "NY"}]
    await checkr.control(f"reports/{report_id}/complete", result="clear")
    assert (await world.sr_status_becomes(order_id, "COMPLETED"))["result"]["scoreLabel"] == "Clear"

    # An account set up before Checkr had nodes on it: the recruiter reads what to set.
    without_node = await new_company(checkr_url, store, world)
    refused = await world.order(PACKAGE, company_id=without_node)
    done = await world.sr_status_becomes(refused["order_id"], "REJECTED")
    assert "node" in done["result"]["summary"] and "work_location" not in done["result"]["summary"]
    assert "Checkr" in done["result"]["summary"] and API_KEY not in done["result"]["summary"]


async def test_webhooks_without_their_object_reach_the_order(
    world, temporal, checkr, checkr_url, store, registered
):
    company = await new_company(checkr_url, store, world, include_object=False)
    order_id, _, invitation_id, _ = await ordered(world, temporal, company)
    report_id = (await checkr.control(f"invitations/{invitation_id}/complete"))["report_id"]
    await checkr.control(f"reports/{report_id}/complete", result="clear")
    await world.sr_status_becomes(order_id, "COMPLETED")

    events = (await world.http.get(f"{checkr.url}/_sim/events")).json()
    report_events = {
        e["id"]
        for e in events
        if e["type"].startswith("report.") and e["data"]["object"]["id"] == report_id
    }
    delivered = [
        a
        for a in (await world.http.get(f"{checkr.url}/_sim/deliveries")).json()
        if a["url"] == WEBHOOK_OF[company]
    ]
    assert {a["event_id"] for a in delivered} >= report_events  # sent, each naming only the report
    handle = temporal.get_workflow_handle(order_workflow_id(order_id))

    async def report_events_at_the_order():
        state = await handle.query(AssessmentOrderWorkflow.state)
        return report_events <= set(state.events_received)

    await eventually(
        report_events_at_the_order,
        what="the report's events, resolved through the report, at the order",
    )


async def test_an_event_naming_only_a_report_reaches_no_other_accounts_order(
    world, temporal, checkr, checkr_url, store, registered
):
    owner = await new_company(checkr_url, store, world, include_object=False)
    other = await new_company(checkr_url, store, world, include_object=False)
    order_id, _, invitation_id, _ = await ordered(world, temporal, owner)
    report_id = (await checkr.control(f"invitations/{invitation_id}/complete"))["report_id"]

    async def send(company: str, report: str) -> httpx.Response:
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "id": uuid.uuid4().hex[:24],
            "object": "event",
            "type": "report.updated",
            "created_at": created,
            "data": {"object": {"id": report, "object": "report", "uri": f"/v1/reports/{report}"}},
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        signature = hmac.new(API_KEY.encode(), body, hashlib.sha256).hexdigest()
        return await world.http.post(
            WEBHOOK_OF[company],
            content=body,
            headers={"X-Checkr-Signature": signature, "Content-Type": "application/json"},
        )

    # Both accounts share the simulator's key here; only the order's own account routes it.
    assert (await send(other, report_id)).json() == {"accepted": 0}
    assert (await send(owner, "0" * 24)).json() == {"accepted": 0}  # a report Checkr does not know
    assert (await send(owner, report_id)).json() == {"accepted": 1}
    await checkr.faults(server_error_next=50)  # more than the order's own polls may take meanwhile
    unavailable = await send(owner, report_id)
    await checkr.faults()
    assert unavailable.status_code == 503 and "retry" in unavailable.json()["message"]
    await world.sr_status_becomes(order_id, "IN_PROGRESS")
