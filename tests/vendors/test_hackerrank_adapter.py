"""The HackerRank adapter against the simulator over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from orders.models import VendorStatus
from peers import PeerError
from settings import Settings
from smartrecruiters.models import AssessmentType
from tests.support.waiting import eventually
from tests.vendors.test_hackerrank_fixtures import (  # noqa: F401 - fixtures
    API_KEY,
    DRAFT_TEST,
    TEST_WITH_CUTOFF,
    TEST_WITHOUT_CUTOFF,
    Receiver,
    Sim,
    candidate_id,
    make_order,
    receiver,
    shared_sim,
    sim,
    start_sim,
    unique_email,
    vendor,
)
from vendors import hackerrank
from vendors.base import Push, WebhookUnreadable
from vendors.hackerrank import HackerRankVendor


def test_from_account_reads_the_credentials_and_the_timeout():
    adapter = hackerrank.from_account(Settings(vendor_timeout_seconds=3.5), {"api_key": "k"})
    assert str(adapter._http.base_url) == "https://www.hackerrank.com/x/api/v3/"
    assert adapter._http.timeout.read == 3.5
    assert adapter.name == "hackerrank" and adapter.capabilities.push == Push.PER_ORDER_URL
    custom = hackerrank.from_account(
        Settings(), {"api_key": "k", "base_url": "http://127.0.0.1:9/"}
    )
    assert str(custom._http.base_url) == "http://127.0.0.1:9/x/api/v3/"


# Catalog


async def test_packages_are_the_published_tests_read_page_by_page(
    sim: Sim, vendor: HackerRankVendor, monkeypatch
):
    monkeypatch.setattr(hackerrank, "PAGE_SIZE", 2)
    before = len(await sim.exchanges())
    packages = await vendor.list_packages()
    assert [p.id for p in packages] == [
        TEST_WITH_CUTOFF,
        TEST_WITHOUT_CUTOFF,
    ]  # the draft is left out
    python = packages[0]
    assert (python.name, python.type) == ("Python Developer Screen", AssessmentType.SKILL_TEST)
    assert python.description == "HackerRank test (60 minutes, Python, Backend)"
    assert [(t.id, t.name) for t in python.tests] == [(TEST_WITH_CUTOFF, "Python Developer Screen")]
    pages = [e["query"] for e in (await sim.exchanges())[before:]]
    assert pages == [{"limit": "2", "offset": "0"}, {"limit": "2", "offset": "2"}]


# Invitations


async def test_invitation_sends_one_email_even_when_asked_twice(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order(return_url="https://sr.example/back")
    first = await vendor.create_invitation(order, receiver.callback(order.order_id))
    again = await vendor.create_invitation(order, receiver.callback(order.order_id))

    assert first == again
    assert first.vendor_ref.startswith(f"{TEST_WITH_CUTOFF}:") and first.results_revisable
    assert first.test_url.startswith(f"{sim.url}/tests/")
    assert await sim.emails_to(order.candidate.email) == 1
    [candidate] = await sim.control("GET", "/candidates", params={"email": order.candidate.email})
    assert candidate["id"] == candidate_id(first.vendor_ref)
    assert candidate["invite_metadata"] == {
        "order_id": order.order_id,
        "reference": order.reference,
    }
    assert (candidate["test_finish_url"], candidate["test_result_url"]) == (
        "https://sr.example/back",
        receiver.callback(order.order_id).url,
    )
    assert candidate["accept_result_updates"] is True
    assert candidate["full_name"] == "Ada Lovelace"
    assert candidate["invite_valid_to"] == (order.received_at + timedelta(days=7)).strftime(
        "%Y-%m-%dT%H:%M:%S+0000"
    )


async def test_another_companys_order_with_the_same_order_id_never_gets_its_invitation(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    """SR's order ids are not secrets: an order of another company naming the same id (and the
    same candidate address) is not taken for the first order's retry."""
    email = unique_email()
    owners = make_order(email=email)
    intruders = owners.model_copy(
        update={"company_id": "company-2", "reference": f"{owners.order_id}:company-2"}
    )
    first = await vendor.create_invitation(owners, receiver.callback(owners.reference))
    with pytest.raises(PeerError) as refused:
        await vendor.create_invitation(intruders, receiver.callback(intruders.reference))
    assert refused.value.status == 422 and first.test_url not in str(refused.value)
    assert await sim.emails_to(email) == 1


async def test_an_invitation_made_before_references_named_the_company_is_still_found(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    """An order received before (its reference is its order id) finds its own invitation again,
    though that invitation's metadata names only the order id."""
    older = make_order(reference="")
    assert older.reference == older.order_id
    made = (
        await sim.invite(
            email=older.candidate.email,
            send_email=True,
            invite_metadata={"order_id": older.order_id},
        )
    ).json()
    again = await vendor.create_invitation(older, receiver.callback(older.reference))
    assert again.vendor_ref.endswith(str(made["id"])) and again.test_url == made["test_link"]
    assert await sim.emails_to(older.candidate.email) == 1


async def test_a_new_order_for_an_address_holding_another_orders_invitation_is_refused(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    """`force` would re-send and take over the earlier order's invitation:
    its result would be lost."""
    email = unique_email()
    earlier, later = make_order(email=email), make_order(email=email)
    first = await vendor.create_invitation(earlier, receiver.callback(earlier.order_id))
    with pytest.raises(PeerError) as refused:
        await vendor.create_invitation(later, receiver.callback(later.order_id))
    assert (refused.value.status, refused.value.retryable) == (422, False) and email not in str(
        refused.value
    )
    assert await sim.emails_to(email) == 1
    [candidate] = await sim.control("GET", "/candidates", params={"email": email})
    assert candidate["id"] == candidate_id(first.vendor_ref) and candidate["invite_metadata"] == {
        "order_id": earlier.order_id,
        "reference": earlier.reference,
    }
    # The earlier order's own retry still finds its invitation: no second email.
    assert await vendor.create_invitation(earlier, receiver.callback(earlier.order_id)) == first
    assert await sim.emails_to(email) == 1


async def test_a_new_order_after_an_attempt_gets_a_new_attempt(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    email = unique_email()
    earlier, later = make_order(email=email), make_order(email=email)
    first = await vendor.create_invitation(earlier, receiver.callback(earlier.order_id))
    await sim.start(candidate_id(first.vendor_ref))
    second = await vendor.create_invitation(later, receiver.callback(later.order_id))
    assert second.vendor_ref != first.vendor_ref
    assert (await vendor.get_status(first.vendor_ref)).status == VendorStatus.STARTED
    assert (await vendor.get_status(second.vendor_ref)).status == VendorStatus.INVITED


# What the candidate search's rows carry is not published:
# each variant must lead to the same outcome.
ROW_VARIANTS = {
    "full rows": [],
    "rows without the start time": ["attempt_starttime"],
    "rows without the attempt's times": ["attempt_starttime", "attempt_endtime"],
    "rows without the metadata": ["invite_metadata"],
    "bare rows": ["invite_metadata", "attempt_starttime", "attempt_endtime", "status"],
}


@pytest.mark.parametrize("omits", ROW_VARIANTS.values(), ids=ROW_VARIANTS.keys())
async def test_a_new_order_after_a_finished_attempt_gets_a_new_attempt_whatever_the_rows_carry(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver, omits: list[str]
):
    email = unique_email()
    earlier, later = make_order(email=email), make_order(email=email)
    first = await vendor.create_invitation(earlier, receiver.callback(earlier.order_id))
    await sim.complete(candidate_id(first.vendor_ref), 80)
    await sim.faults(search_row_omits=omits)

    second = await vendor.create_invitation(later, receiver.callback(later.order_id))

    assert second.vendor_ref != first.vendor_ref
    assert await sim.emails_to(email) == 2
    [_, retaken] = await sim.control("GET", "/candidates", params={"email": email})
    assert (
        retaken["id"] == candidate_id(second.vendor_ref)
        and retaken["invite_metadata"]["reference"] == later.reference
    )
    # The later order's retry finds its own invitation: no third email.
    assert await vendor.create_invitation(later, receiver.callback(later.order_id)) == second
    assert await sim.emails_to(email) == 2


@pytest.mark.parametrize("omits", ROW_VARIANTS.values(), ids=ROW_VARIANTS.keys())
async def test_a_retried_invitation_finds_its_own_whatever_the_rows_carry(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver, omits: list[str]
):
    order = make_order()
    first = await vendor.create_invitation(order, receiver.callback(order.order_id))
    await sim.faults(search_row_omits=omits)
    assert await vendor.create_invitation(order, receiver.callback(order.order_id)) == first
    assert await sim.emails_to(order.candidate.email) == 1


@pytest.mark.parametrize("omits", ROW_VARIANTS.values(), ids=ROW_VARIANTS.keys())
async def test_another_orders_open_invitation_is_never_taken_over_whatever_the_rows_carry(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver, omits: list[str]
):
    email = unique_email()
    earlier, later = make_order(email=email), make_order(email=email)
    await vendor.create_invitation(earlier, receiver.callback(earlier.order_id))
    await sim.faults(search_row_omits=omits)
    with pytest.raises(PeerError) as refused:
        await vendor.create_invitation(later, receiver.callback(later.order_id))
    assert (refused.value.status, refused.value.retryable) == (422, False)
    assert await sim.emails_to(email) == 1


async def test_an_open_reattempt_beside_an_attempted_invite_is_never_taken_over(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    """A took the test, B got a reattempt still open: C is refused, not handed B's invitation."""
    email = unique_email()
    a, b, c = (make_order(email=email) for _ in range(3))
    first = await vendor.create_invitation(a, receiver.callback(a.order_id))
    await sim.start(candidate_id(first.vendor_ref))
    second = await vendor.create_invitation(b, receiver.callback(b.order_id))
    assert second.vendor_ref != first.vendor_ref
    with pytest.raises(PeerError) as refused:
        await vendor.create_invitation(c, receiver.callback(c.order_id))
    assert (refused.value.status, refused.value.retryable) == (422, False)
    rows = await sim.control("GET", "/candidates", params={"email": email})
    assert sorted(row["invite_metadata"]["order_id"] for row in rows) == sorted(
        [a.order_id, b.order_id]
    )


async def test_an_invitation_to_a_draft_test_fails_for_good(
    vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order(package_id=DRAFT_TEST)
    with pytest.raises(PeerError) as raised:
        await vendor.create_invitation(order, receiver.callback(order.order_id))
    assert (raised.value.status, raised.value.retryable) == (422, False)
    assert order.candidate.email not in str(raised.value)


async def test_a_resend_emails_the_same_invite_again_and_keeps_its_settings(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order(return_url="https://sr.example/back")
    callback = receiver.callback(order.order_id)
    invitation = await vendor.create_invitation(order, callback)
    [before] = await sim.control("GET", "/candidates", params={"email": order.candidate.email})

    await vendor.resend_invitation(invitation.vendor_ref, callback)

    assert vendor.capabilities.resend
    assert await sim.emails_to(order.candidate.email) == 2
    [after] = await sim.control("GET", "/candidates", params={"email": order.candidate.email})
    assert after == before  # the same candidate, link, metadata, validity and URLs
    resent = (await sim.exchanges())[-1]
    assert resent["request"]["force"] is True
    assert resent["request"]["webhook_authentication"] == {
        "type": "bearer_token",
        "data": {"token": callback.token},
    }


@pytest.mark.parametrize(
    ("close", "refusal"),
    [
        ("start", "the invite is no longer open (it reads STARTED)"),
        ("expire", "the invite is no longer open (it reads EXPIRED)"),
        ("cancel", "the invite was cancelled"),
    ],
)
async def test_a_resend_is_refused_for_good_once_the_invite_is_not_open(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver, close: str, refusal: str
):
    order = make_order()
    callback = receiver.callback(order.order_id)
    ref = (await vendor.create_invitation(order, callback)).vendor_ref
    if close == "cancel":
        await vendor.cancel_invitation(ref)
    else:
        await sim.control("POST", f"/candidates/{candidate_id(ref)}/{close}")

    with pytest.raises(PeerError) as refused:
        await vendor.resend_invitation(ref, callback)

    assert (
        not refused.value.retryable
        and str(refused.value) == f"HackerRank: invitation resend refused: {refusal}"
    )
    assert await sim.emails_to(order.candidate.email) == 1


# Status, results, report


async def test_status_follows_the_journey_and_the_revision_follows_the_score(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order()
    ref = (await vendor.create_invitation(order, receiver.callback(order.order_id))).vendor_ref
    candidate = candidate_id(ref)

    async def reading():
        return await vendor.get_status(ref)

    assert (await reading()).status == VendorStatus.INVITED
    await sim.start(candidate)
    assert (await reading()).status == VendorStatus.STARTED
    await sim.submit(candidate, 70)
    assert (await reading()).status == VendorStatus.PROCESSING
    await sim.finish_report(candidate)
    completed = await reading()
    assert completed.status == VendorStatus.COMPLETED and completed.revision
    await sim.control("POST", f"/candidates/{candidate}/rescore", json={"score": 75})
    revised = await reading()
    assert revised.status == VendorStatus.COMPLETED and revised.revision != completed.revision


async def test_expired_invites_read_as_expired(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order()
    ref = (await vendor.create_invitation(order, receiver.callback(order.order_id))).vendor_ref
    await sim.control("POST", f"/candidates/{candidate_id(ref)}/expire")
    assert (await vendor.get_status(ref)).status == VendorStatus.EXPIRED

    past = make_order(received_at=datetime.now(UTC) - timedelta(days=3), deadline_days=1)
    past_ref = (await vendor.create_invitation(past, receiver.callback(past.order_id))).vendor_ref
    assert (await vendor.get_status(past_ref)).status == VendorStatus.EXPIRED


async def test_result_with_a_cutoff_says_passed_or_failed(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    for score, outcome in ((72.5, "passed"), (41, "failed")):
        order = make_order()
        ref = (await vendor.create_invitation(order, receiver.callback(order.order_id))).vendor_ref
        await sim.start(candidate_id(ref))
        view = await sim.complete(candidate_id(ref), score, integrity_status="High")
        result = await vendor.get_result(ref)
        assert (result.score, result.max_score, result.outcome) == (score, 100.0, outcome)
        cutoff = (
            "Reached the cutoff score of 60."
            if outcome == "passed"
            else "Below the cutoff score of 60."
        )
        assert (
            result.summary
            == f"Scored {score:g} of 100 ({round(score):.0f}%). {cutoff} Integrity: High."
        )
        assert result.submitted_at == datetime.fromisoformat(view["attempt_endtime"])
        assert result.report_url == view["authenticated_report_url"]
        # One score per skill, distinct, whose points-weighted mean (40 and 60 points in the
        # simulator's catalog) is the candidate's percentage.
        [solving, python] = result.tests
        assert [(t.test_id, t.name, t.max_score) for t in result.tests] == [
            ("skill:Problem Solving (Basic)", "Problem Solving (Basic)", 100.0),
            ("skill:Python (Intermediate)", "Python (Intermediate)", 100.0),
        ]
        assert solving.score != python.score
        assert 0.4 * solving.score + 0.6 * python.score == pytest.approx(score, abs=0.01)
    # Both opt-in fields were asked for: the simulator sends neither unless named.
    [asked] = [
        e["query"]["additional_fields"]
        for e in (await sim.exchanges())[-3:]
        if e["path"] == f"/x/api/v3/tests/{TEST_WITH_CUTOFF}"
    ]
    assert {"max_score", "cutoff_score"} <= set(asked.split(","))


async def test_each_skill_keeps_its_own_score_in_the_result(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    """Sections on SR's profile come from `scores_skills_split`: each skill's own score, never
    the candidate's overall one repeated."""
    order = make_order()
    ref = (await vendor.create_invitation(order, receiver.callback(order.order_id))).vendor_ref
    split = {"Problem Solving (Basic)": 100, "Python (Intermediate)": 25}
    await sim.complete(candidate_id(ref), 55, skill_scores=split)
    result = await vendor.get_result(ref)
    assert (result.score, result.max_score, result.outcome) == (55.0, 100.0, "failed")
    assert [(t.name, t.score) for t in result.tests] == [
        ("Problem Solving (Basic)", 100.0),
        ("Python (Intermediate)", 25.0),
    ]


async def test_result_without_a_cutoff_has_no_outcome(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order(package_id=TEST_WITHOUT_CUTOFF)
    ref = (await vendor.create_invitation(order, receiver.callback(order.order_id))).vendor_ref
    await sim.complete(candidate_id(ref), 42)
    result = await vendor.get_result(ref)
    assert (result.score, result.max_score, result.outcome) == (42.0, 60.0, None)
    assert result.summary == "Scored 42 of 60 (70%)."


async def test_report_is_retryable_until_ready_then_downloaded(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order()
    ref = (await vendor.create_invitation(order, receiver.callback(order.order_id))).vendor_ref
    await sim.submit(candidate_id(ref), 64)
    for _ in range(2):
        with pytest.raises(PeerError) as raised:
            await vendor.download_report(ref)
        assert (raised.value.status, raised.value.retryable) == (503, True)
    await sim.finish_report(candidate_id(ref))
    report = await vendor.download_report(ref)
    assert report is not None and report.content.startswith(b"%PDF")
    assert report.filename == f"hackerrank-report-{ref.replace(':', '-')}.pdf"


async def test_an_expired_pdf_link_is_a_retryable_failure(start_sim, receiver: Receiver):
    sim = await start_sim(pdf_link_seconds=0)
    vendor = sim.vendor()
    try:
        order = make_order()
        ref = (await vendor.create_invitation(order, receiver.callback(order.order_id))).vendor_ref
        await sim.complete(candidate_id(ref), 64)
        with pytest.raises(PeerError) as raised:
            await vendor.download_report(ref)
        assert (raised.value.status, raised.value.retryable) == (403, True)
    finally:
        await vendor.aclose()


async def test_a_candidate_hackerrank_does_not_know_is_never_read_as_cancelled(
    sim: Sim, vendor: HackerRankVendor
):
    # HackerRank documents no cancelled state;
    # its 404 can mean lost records or another account's key.
    with pytest.raises(PeerError) as unknown:
        await vendor.get_status(f"{TEST_WITH_CUTOFF}:99999999")
    assert (unknown.value.status, unknown.value.retryable, str(unknown.value)) == (
        404,
        False,
        "HackerRank: status answered HTTP 404",
    )


async def test_cancel_then_cancelled_and_cancelling_again_or_after_an_attempt_is_fine(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order()
    ref = (await vendor.create_invitation(order, receiver.callback(order.order_id))).vendor_ref
    await vendor.cancel_invitation(ref)
    # The simulator forgets a cancelled invite: a 404,
    # which only the order that withdrew it may read as cancelled.
    with pytest.raises(PeerError) as gone:
        await vendor.get_status(ref)
    assert (gone.value.status, gone.value.retryable, str(gone.value)) == (
        404,
        False,
        "HackerRank: status answered HTTP 404",
    )
    await vendor.cancel_invitation(ref)  # already gone

    attempted = make_order()
    attempted_ref = (
        await vendor.create_invitation(attempted, receiver.callback(attempted.order_id))
    ).vendor_ref
    await sim.complete(candidate_id(attempted_ref), 90)
    await vendor.cancel_invitation(attempted_ref)
    assert (await vendor.get_status(attempted_ref)).status == VendorStatus.COMPLETED


async def test_the_result_push_reaches_our_callback_with_our_token(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order()
    callback = receiver.callback(order.order_id)
    ref = (await vendor.create_invitation(order, callback)).vendor_ref
    await sim.complete(candidate_id(ref), 50)

    async def pushed():
        return receiver.received(candidate_id(ref))

    [(headers, body)] = await eventually(pushed, timeout=5, what="the result push", interval=0.05)
    assert headers["authorization"] == f"Bearer {callback.token}"
    assert body["invite_metadata"] == {"order_id": order.order_id, "reference": order.reference}


def test_parse_webhook_refuses_because_pushes_go_to_per_order_urls(vendor: HackerRankVendor):
    with pytest.raises(WebhookUnreadable):
        vendor.parse_webhook({}, b"{}")


# Failures


async def test_429_is_retryable_with_the_wait_hint(sim: Sim, vendor: HackerRankVendor):
    await sim.faults(rate_limit_next=1)
    with pytest.raises(PeerError) as raised:
        await vendor.list_packages()
    assert (raised.value.status, raised.value.retryable, raised.value.retry_after) == (
        429,
        True,
        1.0,
    )

    await sim.faults(
        rate_limit_next=1, retry_after=False
    )  # the wait then comes from X-RateLimit-Reset
    with pytest.raises(PeerError) as raised:
        await vendor.list_packages()
    assert (raised.value.status, raised.value.retry_after) == (429, 1.0)
    assert len(await vendor.list_packages()) == 2


async def test_the_adapter_spaces_calls_beyond_its_rate(sim: Sim):
    """The limiter lets a burst of `rate` calls through, then one call per 1/rate seconds."""
    vendor = HackerRankVendor(
        api_key=API_KEY, base_url=sim.url, timeout_seconds=5, requests_per_second=20
    )
    started = time.monotonic()
    try:
        for _ in range(25):
            with pytest.raises(PeerError):  # an unknown candidate: a 404 is as good a call as any
                await vendor.get_status(f"{TEST_WITH_CUTOFF}:1")
    finally:
        await vendor.aclose()
    assert time.monotonic() - started >= 0.2  # five calls past the burst, 50 ms apart
    assert hackerrank.REQUESTS_PER_SECOND == 10


async def test_wrong_api_key_is_not_retryable(sim: Sim):
    vendor = HackerRankVendor(api_key="wrong", base_url=sim.url, timeout_seconds=5)
    try:
        with pytest.raises(PeerError) as raised:
            await vendor.list_packages()
    finally:
        await vendor.aclose()
    assert (raised.value.status, raised.value.retryable) == (401, False)
    assert API_KEY not in str(raised.value)


async def test_server_errors_and_timeouts_are_retryable(sim: Sim):
    vendor = sim.vendor(timeout_seconds=0.2)
    try:
        await sim.faults(server_error_next=1)
        with pytest.raises(PeerError) as raised:
            await vendor.list_packages()
        assert (raised.value.status, raised.value.retryable) == (500, True)

        await sim.faults(slow_seconds=0.5)
        with pytest.raises(PeerError) as raised:
            await vendor.list_packages()
        assert (raised.value.status, raised.value.retryable) == (None, True)
    finally:
        await vendor.aclose()


async def test_nothing_listening_is_retryable_and_names_no_secret():
    from embedded import free_port

    vendor = HackerRankVendor(
        api_key=API_KEY, base_url=f"http://127.0.0.1:{free_port()}", timeout_seconds=2
    )
    try:
        for call in (
            vendor.list_packages(),
            vendor.get_status(f"{TEST_WITH_CUTOFF}:1"),
            vendor.get_result(f"{TEST_WITH_CUTOFF}:1"),
        ):
            with pytest.raises(PeerError) as raised:
                await call
            assert (raised.value.status, raised.value.retryable) == (None, True)
            assert "ConnectError" in str(raised.value) and API_KEY not in str(raised.value)
    finally:
        await vendor.aclose()


async def test_a_429_or_an_outage_on_an_invitation_sends_no_email_and_the_retry_sends_one(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order()
    for fault, status in (({"rate_limit_next": 1}, 429), ({"server_error_next": 1}, 500)):
        await sim.faults(**fault)
        with pytest.raises(PeerError) as raised:
            await vendor.create_invitation(order, receiver.callback(order.order_id))
        assert (raised.value.status, raised.value.retryable) == (status, True)
        assert await sim.emails_to(order.candidate.email) == 0
    invitation = await vendor.create_invitation(order, receiver.callback(order.order_id))
    assert (
        invitation.vendor_ref.startswith(f"{TEST_WITH_CUTOFF}:")
        and await sim.emails_to(order.candidate.email) == 1
    )


async def test_a_429_or_an_outage_while_polling_is_retried_never_read_as_a_status(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    order = make_order()
    ref = (await vendor.create_invitation(order, receiver.callback(order.order_id))).vendor_ref
    await sim.complete(candidate_id(ref), 70)
    for fault, status in (({"rate_limit_next": 1}, 429), ({"server_error_next": 1}, 500)):
        for call in (vendor.get_status(ref), vendor.get_result(ref), vendor.download_report(ref)):
            await sim.faults(**fault)
            with pytest.raises(PeerError) as raised:
                await call
            assert (raised.value.status, raised.value.retryable) == (status, True)
    assert (await vendor.get_status(ref)).status == VendorStatus.COMPLETED
