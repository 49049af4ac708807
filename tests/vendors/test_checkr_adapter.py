"""The Checkr adapter against the Checkr simulator over real HTTP.

The simulator's control API plays the candidate and Checkr's screeners; the adapter must read
each state the way the order workflow needs it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from orders.models import Candidate, Order, VendorStatus
from peers import PeerError
from settings import Settings
from simulators.checkr import CheckrSimConfig, create_app
from smartrecruiters.models import AssessmentType

# The simulator tests' webhook receiver, and their fixtures (`sim` resets this module's simulator).
from tests.simulators.test_checkr_sim import control, receiver, sim  # noqa: F401 - fixtures
from tests.support.servers import serve
from tests.support.waiting import eventually
from vendors import checkr
from vendors.base import CredentialsUnusable, OrderCallback, WebhookRejected, WebhookUnreadable

API_KEY = "adapter-test-api-key"
NO_CALLBACK = OrderCallback(url="", token="")


@pytest.fixture(scope="module")
def sim_url():
    with serve(create_app(CheckrSimConfig(api_key=API_KEY, webhook_retry_delays=(0.05,)))) as url:
        yield url


@pytest.fixture
async def vendor(sim_url):
    credentials = {
        "api_key": API_KEY,
        "base_url": sim_url,
        "work_location": {"country": "US", "state": "CA"},
    }
    adapter = checkr.from_account(Settings(), credentials)
    yield adapter
    await adapter.aclose()


def new_order(package_id: str = "tasker_standard") -> Order:
    suffix = uuid.uuid4().hex[:8]
    return Order(
        order_id=f"order-{suffix}",
        company_id="company-1",
        package_id=package_id,
        package_name="Tasker Standard",
        vendor="checkr",
        result_callback_url="http://sr.example/results",
        candidate=Candidate(
            first_name="Ada", last_name="Lovelace", email=f"ada-{suffix}@example.com"
        ),
        deadline_days=7,
        poll_interval_seconds=60,
        received_at=datetime.now(UTC),
    )


async def invited(vendor, sim) -> tuple[str, str]:
    """An order invited at Checkr: its reference and the invitation id."""
    invitation = await vendor.create_invitation(new_order(), NO_CALLBACK)
    return invitation.vendor_ref, invitation.vendor_ref.split(":")[1]


async def submitted(vendor, sim) -> tuple[str, str]:
    """An order whose candidate submitted the form: its reference and the report id."""
    ref, invitation_id = await invited(vendor, sim)
    return ref, (await control(sim, f"invitations/{invitation_id}/complete"))["report_id"]


async def test_packages_are_background_checks_with_screenings(vendor, sim):
    packages = {p.id: p for p in await vendor.list_packages()}
    assert set(packages) == {"tasker_standard", "driver_pro", "essential_criminal"}
    driver = packages["driver_pro"]
    assert driver.name == "Driver Pro" and driver.type == AssessmentType.BACKGROUND_CHECK
    assert [t.id for t in driver.tests][-1] == "motor_vehicle_report"
    assert "SSN trace" in driver.description


async def test_inviting_twice_for_one_order_makes_one_candidate_and_one_email(vendor, sim):
    order = new_order()
    first = await vendor.create_invitation(order, NO_CALLBACK)
    again = await vendor.create_invitation(order, NO_CALLBACK)
    assert again == first
    candidate_id, invitation_id = first.vendor_ref.split(":")
    assert first.webhook_keys == [candidate_id, invitation_id] and first.results_revisable
    candidates = (await sim.get("/_sim/candidates")).json()
    assert [(c["id"], c["custom_id"]) for c in candidates] == [(candidate_id, order.order_id)]
    invitations = (await sim.get("/_sim/invitations")).json()
    assert [(i["id"], i["invitation_url"]) for i in invitations] == [
        (invitation_id, first.test_url)
    ]
    assert (await sim.get("/_sim/outbox")).json()["counts"] == {order.candidate.email: 1}
    assert invitations[0]["package"] == order.package_id

    await vendor.create_invitation(new_order(), NO_CALLBACK)  # another order is another candidate
    assert len((await sim.get("/_sim/candidates")).json()) == 2


@pytest.mark.parametrize("received_hours_ago", [0, 30], ids=["a fresh order", "a day later"])
async def test_a_retry_after_checkr_forgot_its_keys_makes_no_second_candidate(
    vendor, sim, received_hours_ago
):
    """An outage of a day: the first attempt created the candidate and invitation but its
    answers were lost, and Checkr has forgotten the Idempotency-Keys (24 h) by the retry. An
    order received a day ago is looked up by its reference first; a fresh order relies on the
    keys, which is why a day later it would make a second candidate (the test can fail)."""
    order = new_order().model_copy(
        update={"received_at": datetime.now(UTC) - timedelta(hours=received_hours_ago)}
    )
    first = await vendor.create_invitation(order, NO_CALLBACK)
    await control(sim, "clock/advance", seconds=24 * 3600 + 1)  # Checkr forgets the keys

    again = await vendor.create_invitation(order, NO_CALLBACK)

    candidates = (await sim.get("/_sim/candidates")).json()
    emails = (await sim.get("/_sim/outbox")).json()["counts"][order.candidate.email]
    if received_hours_ago:
        assert again == first
        assert len(candidates) == 1 and emails == 1
    else:
        assert len(candidates) == 2 and emails == 2


async def test_status_follows_report_through_dispute_to_a_new_revision(vendor, sim):
    ref, invitation_id = await invited(vendor, sim)
    assert (await vendor.get_status(ref)).status == VendorStatus.INVITED
    report_id = (await control(sim, f"invitations/{invitation_id}/complete"))["report_id"]
    assert (await vendor.get_status(ref)).status == VendorStatus.PROCESSING
    await control(sim, f"reports/{report_id}/suspend")
    assert (await vendor.get_status(ref)).status == VendorStatus.ON_HOLD
    await control(sim, f"reports/{report_id}/resume")
    await control(sim, f"reports/{report_id}/complete", result="clear")
    first = await vendor.get_status(ref)
    assert first.status == VendorStatus.COMPLETED and first.revision
    cleared = await vendor.get_result(ref)
    assert cleared.outcome == "clear" and cleared.summary == "Background check complete: clear."

    await control(sim, f"reports/{report_id}/dispute")
    assert (await vendor.get_status(ref)).status == VendorStatus.ON_HOLD
    await control(sim, f"reports/{report_id}/complete", result="consider", assessment="review")
    second = await vendor.get_status(ref)
    assert second.status == VendorStatus.COMPLETED and second.revision not in (None, first.revision)

    revised = await vendor.get_result(ref)
    assert revised != cleared and revised.outcome == "consider"
    assert revised.summary.startswith(
        "Background check complete: consider — review the report at Checkr"
    )
    assert "needs review" in revised.summary
    assert revised.score is None and revised.max_score is None
    assert revised.submitted_at == datetime.fromisoformat(second.revision)
    tests = {t.test_id: t.outcome for t in revised.tests}
    assert tests == {
        "ssn_trace": "clear",
        "sex_offender_search": "clear",
        "national_criminal_search": "clear",
        "county_criminal_search": "consider",
    }
    assert "4645" not in revised.model_dump_json()  # the SSN Checkr shows in the trace stays there


async def test_expired_cancelled_and_canceled_reports(vendor, sim):
    expiring, _ = await invited(vendor, sim)
    cancelled, _ = await invited(vendor, sim)
    await vendor.cancel_invitation(cancelled)
    assert (await vendor.get_status(cancelled)).status == VendorStatus.CANCELLED
    await vendor.cancel_invitation(cancelled)  # again: nothing left to do
    await control(sim, "clock/advance", seconds=7 * 86400)
    assert (await vendor.get_status(expiring)).status == VendorStatus.EXPIRED
    await vendor.cancel_invitation(expiring)  # expired: nothing to cancel

    running, report_id = await submitted(vendor, sim)
    await vendor.cancel_invitation(running)  # submitted: the report runs on at Checkr
    assert (await vendor.get_status(running)).status == VendorStatus.PROCESSING
    await control(sim, f"reports/{report_id}/cancel")
    assert (await vendor.get_status(running)).status == VendorStatus.CANCELLED
    types = [e["type"] for e in (await sim.get("/_sim/events")).json()]
    assert types.count("invitation.deleted") == 1 and types.count("invitation.expired") == 1


async def test_an_invitation_checkr_does_not_know_is_never_read_as_cancelled(vendor):
    # Only Checkr's documented `deleted_at` and `canceled` say cancelled; a 404 says nothing.
    with pytest.raises(PeerError) as unknown:
        await vendor.get_status("cand_unknown:" + "0" * 24)
    assert (unknown.value.status, unknown.value.retryable) == (404, False)


async def test_report_pdf_is_downloaded_from_the_short_lived_link(vendor, sim):
    ref, report_id = await submitted(vendor, sim)
    assert await vendor.download_report(ref) is None  # no PDF before the report completes
    await control(sim, f"reports/{report_id}/complete")
    report = await vendor.download_report(ref)
    assert (
        report is not None
        and report.content.startswith(b"%PDF")
        and report.content_type == "application/pdf"
    )
    assert report.filename == f"report-{report_id}.pdf"


async def test_webhooks_from_checkr_are_verified_and_name_the_order(vendor, sim, receiver):
    (
        await sim.post("/v1/webhooks", auth=(API_KEY, ""), json={"webhook_url": receiver.url})
    ).raise_for_status()
    order = new_order()
    invitation = await vendor.create_invitation(order, NO_CALLBACK)
    report_id = (await control(sim, f"invitations/{invitation.vendor_ref.split(':')[1]}/complete"))[
        "report_id"
    ]
    await control(sim, f"reports/{report_id}/complete")

    await eventually(lambda: receiver.has(4), timeout=5, interval=0.02, what="four events")
    received = receiver.requests()
    for headers, body in received:
        [parsed] = vendor.parse_webhook(headers, body)
        event = json.loads(body)
        assert (parsed.event.event_id, parsed.event.kind) == (event["id"], event["type"])
        assert parsed.webhook_key in invitation.webhook_keys and parsed.order_reference is None

    headers, body = received[0]
    with pytest.raises(WebhookRejected):
        vendor.parse_webhook(headers, body.replace(b"invitation", b"invitatiom"))
    with pytest.raises(WebhookRejected):
        vendor.parse_webhook({**headers, "x-checkr-signature": "é" * 64}, body)
    with pytest.raises(WebhookRejected):
        vendor.parse_webhook({}, body)
    other_account = checkr.CheckrVendor(api_key="another-key", base_url="http://127.0.0.1:9")
    with pytest.raises(WebhookRejected):
        other_account.parse_webhook(headers, body)
    await other_account.aclose()


def test_signed_events_that_name_no_order_are_skipped_and_garbage_is_unreadable():
    adapter = checkr.CheckrVendor(api_key=API_KEY)

    def signed(body: bytes) -> dict[str, str]:
        return {"X-Checkr-Signature": hmac.new(API_KEY.encode(), body, hashlib.sha256).hexdigest()}

    no_candidate = json.dumps(
        {
            "id": "e1",
            "type": "verification.created",
            "data": {"object": {"id": "v1", "object": "verification"}},
        }
    ).encode()
    assert adapter.parse_webhook(signed(no_candidate), no_candidate) == []
    candidate = json.dumps(
        {
            "id": "e2",
            "type": "candidate.updated",
            "data": {"object": {"id": "c1", "object": "candidate"}},
        }
    ).encode()
    assert [p.webhook_key for p in adapter.parse_webhook(signed(candidate), candidate)] == ["c1"]
    for garbage in (
        b"not json",
        b"[]",
        b'{"id": "e3", "type": "report.completed", "data": {"object": "x"}}',
    ):
        with pytest.raises(WebhookUnreadable):
            adapter.parse_webhook(signed(garbage), garbage)


def test_an_event_older_than_checkrs_delivery_window_is_a_replay():
    adapter = checkr.CheckrVendor(api_key=API_KEY)

    def event(age: timedelta) -> bytes:
        created = (datetime.now(UTC) - age).isoformat().replace("+00:00", "Z")
        return json.dumps(
            {
                "id": "e1",
                "type": "report.completed",
                "created_at": created,
                "data": {"object": {"id": "r1", "object": "report", "candidate_id": "c1"}},
            }
        ).encode()

    def signed(body: bytes) -> dict[str, str]:
        return {"X-Checkr-Signature": hmac.new(API_KEY.encode(), body, hashlib.sha256).hexdigest()}

    recent, retried_late, captured = (
        event(timedelta(minutes=1)),
        event(timedelta(hours=24)),
        event(timedelta(days=3)),
    )
    assert [p.webhook_key for p in adapter.parse_webhook(signed(recent), recent)] == ["c1"]
    assert [p.webhook_key for p in adapter.parse_webhook(signed(retried_late), retried_late)] == [
        "c1"
    ]  # Checkr's last retries
    with pytest.raises(WebhookRejected):
        adapter.parse_webhook(signed(captured), captured)


async def test_rate_limited_calls_are_retryable_after_the_reset(vendor, sim):
    ref, _ = await invited(vendor, sim)
    (await sim.put("/_sim/faults", json={"rate_limit_next": 1})).raise_for_status()
    with pytest.raises(PeerError) as raised:
        await vendor.get_status(ref)
    assert raised.value.status == 429 and raised.value.retryable
    assert 1 <= raised.value.retry_after <= 61  # the sim's window is Checkr's minute
    assert (await vendor.get_status(ref)).status == VendorStatus.INVITED


async def test_refusals_are_not_retryable(vendor, sim, sim_url):
    with pytest.raises(PeerError) as unknown_package:
        await vendor.create_invitation(new_order(package_id="no_such_package"), NO_CALLBACK)
    assert (unknown_package.value.status, unknown_package.value.retryable) == (404, False)
    # An account's settings are checked when it is made; one that slipped by is refused by Checkr.
    stateless = checkr.CheckrVendor(
        api_key=API_KEY, base_url=sim_url, work_location={"country": "US"}
    )
    with pytest.raises(PeerError) as bad_location:
        await stateless.create_invitation(new_order(), NO_CALLBACK)
    assert (bad_location.value.status, bad_location.value.retryable) == (400, False)
    await stateless.aclose()
    wrong_key = checkr.from_account(Settings(), {"api_key": "wrong", "base_url": sim_url})
    with pytest.raises(PeerError) as unauthorised:
        await wrong_key.list_packages()
    assert unauthorised.value.status == 401 and "wrong" not in str(unauthorised.value)
    await wrong_key.aclose()


async def test_packages_are_read_page_by_page():
    def page(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["page"])
        body = {
            "object": "list",
            "count": 2,
            "data": [{"slug": f"package_{number}", "name": f"Package {number}", "screenings": []}],
        }
        return httpx.Response(
            200,
            json=body
            | ({"next_href": "https://checkr.test/v1/packages?page=2"} if number == 1 else {}),
        )

    adapter = checkr.CheckrVendor(
        api_key=API_KEY, base_url="https://checkr.test", transport=httpx.MockTransport(page)
    )
    assert [p.id for p in await adapter.list_packages()] == ["package_1", "package_2"]
    await adapter.aclose()


def reading_of(report: dict) -> httpx.MockTransport:
    """A Checkr that shows a completed invitation whose report is `report`."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/invitations/"):
            return httpx.Response(
                200, json={"id": "i1", "status": "completed", "report_id": "r1", "deleted_at": None}
            )
        return httpx.Response(200, json={"id": "r1", **report})

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(
    ("report", "status"),
    [
        ({"status": "paused"}, VendorStatus.ON_HOLD),
        ({"status": "reviewing"}, VendorStatus.UNKNOWN),
        ({}, VendorStatus.UNKNOWN),
    ],
)
async def test_statuses_checkr_may_add_never_fail(report, status):
    adapter = checkr.CheckrVendor(
        api_key=API_KEY, base_url="https://checkr.test", transport=reading_of(report)
    )
    assert (await adapter.get_status("c1:i1")).status == status
    await adapter.aclose()


def test_wait_hint_reads_the_iso_reset_then_retry_after():
    soon = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert 28 <= checkr.reset_wait(httpx.Response(429, headers={"X-Ratelimit-Reset": soon})) <= 30
    past = (datetime.now(UTC) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert checkr.reset_wait(httpx.Response(429, headers={"X-Ratelimit-Reset": past})) == 1.0
    assert checkr.reset_wait(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    assert checkr.reset_wait(httpx.Response(429)) is None


async def variants(sim, **chosen) -> None:
    (await sim.put("/_sim/variants", json=chosen)).raise_for_status()


def named(first: str, last: str) -> Order:
    order = new_order()
    return order.model_copy(
        update={
            "candidate": order.candidate.model_copy(update={"first_name": first, "last_name": last})
        }
    )


async def test_names_checkr_would_refuse_are_left_for_the_candidate_to_give(vendor, sim):
    # Checkr's names: its "Supported characters" only, a last name of two at least; an
    # invitation needs only the email, and the candidate gives their name in Checkr's form.
    for first, last in (("Łukasz", "Wiśniewski"), ("王", "小明"), ("Jo", "O")):
        invitation = await vendor.create_invitation(named(first, last), NO_CALLBACK)
        assert invitation.test_url
    accepted = await vendor.create_invitation(named("Zoë-Anne", "O'Brien Müller"), NO_CALLBACK)
    by_id = {c["id"]: c for c in (await sim.get("/_sim/candidates")).json()}
    shown = [(c.get("first_name"), c.get("last_name")) for c in by_id.values()]
    assert sorted(shown, key=str) == sorted(
        [(None, None), (None, None), ("Jo", None), ("Zoë-Anne", "O'Brien Müller")], key=str
    )
    assert by_id[accepted.vendor_ref.split(":")[0]]["first_name"] == "Zoë-Anne"


async def test_an_account_with_a_hierarchy_orders_with_its_node_and_work_location(sim, sim_url):
    await variants(sim, nodes=["north-region"])
    credentials = {
        "api_key": API_KEY,
        "base_url": sim_url,
        "node": "north-region",
        "work_location": {"country": "US", "state": "NY"},
    }
    adapter = checkr.from_account(Settings(), credentials)
    invitation = await adapter.create_invitation(new_order(), NO_CALLBACK)
    report_id = (await control(sim, f"invitations/{invitation.vendor_ref.split(':')[1]}/complete"))[
        "report_id"
    ]
    report = (await sim.get(f"/v1/reports/{report_id}", auth=(API_KEY, ""))).json()
    assert report["work_locations"] == [{"country": "US", "state": "NY"}]
    await adapter.aclose()

    # An account made before it had a hierarchy: the failure names the settings to add.
    without = checkr.from_account(
        Settings(),
        {
            "api_key": API_KEY,
            "base_url": sim_url,
            "work_location": {"country": "US", "state": "NY"},
        },
    )
    with pytest.raises(PeerError) as refused:
        await without.create_invitation(new_order(), NO_CALLBACK)
    assert (refused.value.status, refused.value.retryable) == (400, False)
    assert "node" in str(refused.value) and "work_location" not in str(refused.value)
    await without.aclose()


@pytest.mark.parametrize(
    ("credentials", "named"),
    [
        ({"node": "north-region"}, "work_location"),
        ({"node": 7, "work_location": {"state": "CA"}}, "node"),
        ({"work_location": {"country": "US"}}, "work_location.state"),
        ({"work_location": {"country": "United States", "state": "CA"}}, "work_location.country"),
        ({"work_location": {"state": "CA", "zip": "94108"}}, "work_location"),
        ({"work_location": ["US", "CA"]}, "work_location"),
    ],
)
def test_hierarchy_settings_are_checked_when_the_account_is_made(credentials, named):
    with pytest.raises(CredentialsUnusable) as refused:
        checkr.from_account(Settings(), {"api_key": API_KEY} | credentials)
    assert named in str(refused.value) and API_KEY not in str(refused.value)


async def test_a_revision_shown_only_by_revised_at_is_a_new_revision(vendor, sim):
    await variants(sim, revision_marks="revised_at_only")
    ref, report_id = await submitted(vendor, sim)
    await control(sim, f"reports/{report_id}/complete", result="clear")
    first = await vendor.get_status(ref)
    await control(sim, f"reports/{report_id}/dispute")
    revised = await control(sim, f"reports/{report_id}/complete", result="consider")
    assert revised["completed_at"] == first.revision  # Checkr kept the first completion
    second = await vendor.get_status(ref)
    assert (
        second.status == VendorStatus.COMPLETED
        and second.revision == revised["revised_at"] != first.revision
    )
    await control(sim, f"reports/{report_id}/dispute")
    await control(sim, "clock/advance", seconds=60)
    again = await control(sim, f"reports/{report_id}/complete", result="clear")
    assert (
        (await vendor.get_status(ref)).revision
        == again["revised_at"]
        not in (first.revision, second.revision)
    )


async def test_lists_embedded_as_list_objects_are_read_like_arrays(vendor, sim):
    await variants(sim, embedded_lists="list_object")
    ref, report_id = await submitted(vendor, sim)
    await control(sim, f"reports/{report_id}/complete", result="consider")
    result = await vendor.get_result(ref)
    assert {t.test_id: t.outcome for t in result.tests}["county_criminal_search"] == "consider"
    report = await vendor.download_report(ref)
    assert report is not None and report.content.startswith(b"%PDF")


async def test_a_webhook_without_its_object_is_resolved_by_reading_the_report(
    vendor, sim, receiver
):
    hook = {"webhook_url": receiver.url, "include_object": False}
    (await sim.post("/v1/webhooks", auth=(API_KEY, ""), json=hook)).raise_for_status()
    invitation = await vendor.create_invitation(new_order(), NO_CALLBACK)
    report_id = (await control(sim, f"invitations/{invitation.vendor_ref.split(':')[1]}/complete"))[
        "report_id"
    ]
    await control(sim, f"reports/{report_id}/complete")
    await eventually(lambda: receiver.has(4), timeout=5, interval=0.02, what="four events")
    keys = {}
    for headers, body in receiver.requests():
        event = json.loads(body)
        assert set(event["data"]["object"]) == {
            "id",
            "object",
            "uri",
        }  # the simulator honours the setting
        [parsed] = vendor.parse_webhook(headers, body)
        keys[event["type"]] = parsed.webhook_key or await parsed.resolve_key()
    assert set(keys.values()) <= set(invitation.webhook_keys)
    assert keys["report.completed"] == keys["report.created"] == invitation.vendor_ref.split(":")[0]


async def test_checkr_out_of_service_or_too_slow_is_retryable(vendor, sim, sim_url):
    ref, _ = await invited(vendor, sim)
    (
        await sim.put("/_sim/faults", json={"server_error_next": 1, "server_error_status": 502})
    ).raise_for_status()
    with pytest.raises(PeerError) as outage:
        await vendor.get_status(ref)
    assert (outage.value.status, outage.value.retryable) == (502, True)
    assert (await vendor.get_status(ref)).status == VendorStatus.INVITED
    impatient = checkr.CheckrVendor(api_key=API_KEY, base_url=sim_url, timeout_seconds=0.2)
    (await sim.put("/_sim/faults", json={"slow_seconds": 1})).raise_for_status()
    with pytest.raises(PeerError) as slow:
        await impatient.get_status(ref)
    assert slow.value.retryable and slow.value.status is None
    await impatient.aclose()
    (await sim.put("/_sim/faults", json={})).raise_for_status()
    closed = checkr.CheckrVendor(api_key=API_KEY, base_url="http://127.0.0.1:9")
    with pytest.raises(PeerError) as unreachable:
        await closed.list_packages()
    assert unreachable.value.retryable
    await closed.aclose()


@pytest.mark.parametrize(
    ("said", "hint"),
    [
        ({"error": "node is required for accounts with a hierarchy"}, True),
        ({"error": "Work location is required"}, True),
        ({"error": "Package is not enabled for this account"}, False),
        ({"error": "Candidate email is required for an invitation"}, False),
    ],
)
def test_only_a_refusal_that_speaks_of_the_hierarchy_is_explained_by_it(said, hint):
    """An account without node and work location may be refused for another reason: the
    operator (and SR's rejection summary) must not be sent to set them."""
    adapter = checkr.from_account(Settings(), {"api_key": API_KEY})
    explained = adapter._invitation_refusal(httpx.Response(400, json=said))
    assert (explained is not None and "node" in explained) == hint
