"""Our TestGorilla adapter against the simulator over real HTTP.

The budget tests run the simulator with short windows and small limits and read its own
per-window counts, so they prove the vendor never saw more than its limit, whatever the crowd
of callers. Waits for a window to pass use `eventually`, never a fixed sleep.
"""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet

from orders.models import StatusReading, VendorStatus
from peers import PeerError
from settings import Settings
from smartrecruiters.models import AssessmentType
from store import Store
from tests.support.waiting import eventually
from tests.vendors.test_testgorilla_support import (
    PASSWORD,
    USERNAME,
    adapter_for,
    candidature_id,
    new_email,
    order_for,
    running_sim,
)
from vendors import testgorilla
from vendors.base import OrderCallback, Push, WebhookUnreadable
from vendors.testgorilla import NoBudget

CALLBACK = OrderCallback(url="http://127.0.0.1:1/unused", token="unused")
KEY = Fernet.generate_key().decode()


@pytest.fixture
async def sim():
    async with running_sim(max_page_size=2) as running:
        yield running


@pytest.fixture
async def vendor(sim):
    adapter = adapter_for(sim)
    yield adapter
    await adapter.aclose()


async def test_capabilities_and_no_webhooks(vendor) -> None:
    assert vendor.name == "testgorilla"
    assert vendor.capabilities.push == Push.NONE and vendor.capabilities.cancel
    assert vendor.capabilities.idempotency == "natural_key_conflict_then_lookup"
    with pytest.raises(WebhookUnreadable):
        vendor.parse_webhook({}, b"{}")


async def test_packages_are_the_assessments_open_to_invitations_with_their_tests(
    sim, vendor
) -> None:
    packages = {p.id: p for p in await vendor.list_packages()}  # four assessments, two per page
    assert sorted(packages) == ["101", "102", "103", "105"]  # 104 is archived
    python = packages["101"]
    assert python.name == "Python developer" and python.type == AssessmentType.SKILL_TEST
    assert [(t.id, t.name) for t in python.tests] == [
        ("7244", "Python (coding): data structures"),
        ("311", "Problem solving"),
        ("494", "Big 5 (OCEAN)"),
    ]
    assert "3 tests" in python.description
    assert (await sim.endpoint_stats("assessments"))["allowed"] == 2

    # Details are read again only after a while: a second catalog read costs list pages only.
    await vendor.list_packages()
    assert (await sim.endpoint_stats("assessment"))["allowed"] == 4


async def test_inviting_twice_for_one_order_makes_one_candidature_and_one_email(
    sim, vendor
) -> None:
    order = order_for(101)
    first = await vendor.create_invitation(order, CALLBACK)
    again = await vendor.create_invitation(order, CALLBACK)
    assert again == first
    assert first.vendor_ref.startswith("101:")
    candidatures = await sim.candidatures(order.candidate.email)
    assert [str(c["id"]) for c in candidatures] == [candidature_id(first.vendor_ref)]
    assert first.test_url == candidatures[0]["invitation_link"]
    assert await sim.emails_to(order.candidate.email) == 1

    with pytest.raises(PeerError) as unknown:
        await vendor.create_invitation(order_for(999), CALLBACK)
    assert (unknown.value.status, unknown.value.retryable) == (404, False)
    with pytest.raises(PeerError) as refused:  # a 400 that no candidature explains stays a refusal
        await vendor.create_invitation(order_for(104), CALLBACK)
    assert (refused.value.status, refused.value.retryable) == (400, False)


async def test_one_login_serves_all_callers_and_an_expired_token_is_renewed_once(
    sim, vendor
) -> None:
    first_calls = await asyncio.gather(
        *(vendor.get_status("101:1") for _ in range(5)), return_exceptions=True
    )  # no such candidature
    assert {(type(r), getattr(r, "status", None)) for r in first_calls} == {(PeerError, 404)}
    assert await sim.logins() == 1
    invitation = await vendor.create_invitation(order_for(101), CALLBACK)
    await sim.control("POST", "/tokens/expire")
    readings = await asyncio.gather(*(vendor.get_status(invitation.vendor_ref) for _ in range(5)))
    assert {r.status for r in readings} == {VendorStatus.INVITED}
    assert await sim.logins() == 2


async def test_credentials_the_vendor_refuses_are_final(sim) -> None:
    for credentials in (
        {"password": "wrong"},
        {"username": None, "password": None, "api_token": "not-a-key"},
    ):
        adapter = adapter_for(sim, **credentials)
        with pytest.raises(PeerError) as refused:
            await adapter.get_status("101:1")
        assert refused.value.retryable is False and refused.value.status in (400, 401)
        await adapter.aclose()


async def test_status_journey_and_cancellation(sim, vendor) -> None:
    invitation = await vendor.create_invitation(order_for(101), CALLBACK)
    ref, cid = invitation.vendor_ref, candidature_id(invitation.vendor_ref)
    assert (await vendor.get_status(ref)).status == VendorStatus.INVITED
    await sim.control("POST", f"/candidatures/{cid}/start")
    assert (await vendor.get_status(ref)).status == VendorStatus.STARTED
    await sim.complete(cid)
    assert (await vendor.get_status(ref)).status == VendorStatus.COMPLETED

    await vendor.cancel_invitation(ref)  # completed: left alone
    assert (await vendor.get_status(ref)).status == VendorStatus.COMPLETED

    other = await vendor.create_invitation(order_for(103), CALLBACK)
    await vendor.cancel_invitation(other.vendor_ref)
    # A deleted candidature is a 404, which only the order that deleted it may read as cancelled.
    with pytest.raises(PeerError) as gone:
        await vendor.get_status(other.vendor_ref)
    assert (gone.value.status, gone.value.retryable, str(gone.value)) == (
        404,
        False,
        "TestGorilla: status: the vendor does not know the candidature",
    )
    await vendor.cancel_invitation(other.vendor_ref)  # already gone: nothing to do
    assert (await sim.endpoint_stats("delete"))["allowed"] == 1


async def test_result_with_scored_and_personality_tests(sim, vendor) -> None:
    invitation = await vendor.create_invitation(order_for(101), CALLBACK)
    with pytest.raises(PeerError) as early:
        await vendor.get_result(invitation.vendor_ref)
    assert early.value.retryable
    await sim.complete(
        candidature_id(invitation.vendor_ref),
        {"7244": 90, "311": 61, "494": "2-1-1-2-1_32.0-34.0-33.0-35.0-32.0"},
        {"7244": 83},
    )

    result = await vendor.get_result(invitation.vendor_ref)
    assert (result.score, result.max_score, result.outcome) == (75.5, 100, None)
    tests = {t.test_id: t for t in result.tests}
    assert (tests["7244"].score, tests["7244"].max_score, tests["7244"].summary) == (
        90,
        100,
        "90 out of 100, 83rd percentile.",
    )
    assert (tests["311"].score, tests["311"].summary) == (61, "61 out of 100, 61st percentile.")
    personality = tests["494"]
    assert (personality.score, personality.max_score) == (None, None)
    assert personality.outcome == "2-1-1-2-1_32.0-34.0-33.0-35.0-32.0"
    assert personality.summary == "Big 5 profile: 2-1-1-2-1_32.0-34.0-33.0-35.0-32.0."
    assert result.summary == (
        "Average score 75.5 out of 100 over 2 scored tests. "
        "Personality results: Big 5 (OCEAN): 2-1-1-2-1_32.0-34.0-33.0-35.0-32.0."
    )


async def test_a_resend_re_invites_only_a_candidate_who_has_not_started(sim, vendor) -> None:
    assert vendor.capabilities.resend
    order = order_for(101)
    ref = (await vendor.create_invitation(order, CALLBACK)).vendor_ref

    await vendor.resend_invitation(ref, CALLBACK)
    assert await sim.emails_to(order.candidate.email) == 2
    assert (await sim.endpoint_stats("reinvite"))["allowed"] == 1

    await sim.control("POST", f"/candidatures/{candidature_id(ref)}/start")
    with pytest.raises(PeerError) as started:
        await vendor.resend_invitation(ref, CALLBACK)
    assert (started.value.status, started.value.retryable) == (409, False)
    assert str(started.value) == (
        "TestGorilla: invitation resend refused: the invitation is no longer open (it "
        "reads STARTED)"
    )
    cancelled = (
        await vendor.create_invitation(order_for(102, email=order.candidate.email), CALLBACK)
    ).vendor_ref
    await vendor.cancel_invitation(cancelled)
    with pytest.raises(PeerError) as deleted:
        await vendor.resend_invitation(cancelled, CALLBACK)
    assert (
        str(deleted.value) == "TestGorilla: invitation resend refused: the candidature was deleted"
        and not deleted.value.retryable
    )
    assert await sim.emails_to(order.candidate.email) == 3  # the two invitations and the one resend
    assert (await sim.endpoint_stats("reinvite"))["allowed"] == 1


async def test_report_is_the_pdf_stream(sim, vendor) -> None:
    invitation = await vendor.create_invitation(order_for(105), CALLBACK)
    await sim.complete(candidature_id(invitation.vendor_ref))
    report = await vendor.download_report(invitation.vendor_ref)
    assert report is not None
    assert report.content.startswith(b"%PDF") and report.content_type == "application/pdf"
    assert report.filename == f"testgorilla-candidature-{candidature_id(invitation.vendor_ref)}.pdf"


async def test_a_thousand_concurrent_polls_never_exceed_the_limit() -> None:
    async with running_sim(window_seconds=1.0, limits={"candidate": 10}) as sim:
        vendor = adapter_for(sim)
        try:
            ref = (await vendor.create_invitation(order_for(101), CALLBACK)).vendor_ref
            outcomes = await asyncio.gather(
                *(vendor.get_status(ref) for _ in range(1000)), return_exceptions=True
            )
            refused = [o for o in outcomes if isinstance(o, Exception)]
            assert len(outcomes) - len(refused) == vendor.budget.allowance("candidate") == 8
            assert all(
                isinstance(e, NoBudget) and e.retryable and 0 < e.retry_after <= 2 for e in refused
            )

            async def budget_used_in_three_windows():
                rounds = await asyncio.gather(
                    *(vendor.get_status(ref) for _ in range(50)), return_exceptions=True
                )
                assert all(
                    isinstance(r, NoBudget)
                    or (isinstance(r, StatusReading) and r.status == VendorStatus.INVITED)
                    for r in rounds
                )
                stats = await sim.endpoint_stats("candidate")
                # The budget used, not just refused: 8 a window, less one window's share for the
                # window just begun (on a busy machine, a round may come late in a window).
                return len(stats["windows"]) >= 3 and stats["allowed"] >= 3 * 8 - 8

            await eventually(
                budget_used_in_three_windows,
                timeout=10,
                what="the budget used in three windows",
                interval=0.05,
            )
            stats = await sim.endpoint_stats("candidate")
            assert stats["max_in_window"] <= 10 and stats["throttled"] == 0
        finally:
            await vendor.aclose()


async def test_calls_that_matter_wait_for_budget_and_polls_leave_them_a_reserve() -> None:
    async with running_sim(window_seconds=1.0, limits={"candidate": 20}) as sim:
        vendor = adapter_for(sim)
        try:
            ref = (await vendor.create_invitation(order_for(101), CALLBACK)).vendor_ref
            await sim.complete(candidature_id(ref))
            polled = await asyncio.gather(
                *(vendor.get_status(ref) for _ in range(40)), return_exceptions=True
            )
            assert (
                sum(not isinstance(p, Exception) for p in polled) == 15
            )  # 16 allowed, 1 kept back
            # The result takes the request polls left; the report then waits for the next window.
            result = await vendor.get_result(ref)
            assert result.score == 75
            report = await vendor.download_report(ref)
            assert report is not None
            stats = await sim.endpoint_stats("candidate")
            assert stats["max_in_window"] <= 20 and stats["throttled"] == 0
        finally:
            await vendor.aclose()


async def test_a_429_closes_the_endpoint_until_the_reset_it_names(sim, vendor) -> None:
    ref = (await vendor.create_invitation(order_for(101), CALLBACK)).vendor_ref
    await sim.fault("throttle", endpoint="candidate", reset_seconds=42)
    with pytest.raises(PeerError) as throttled:
        await vendor.get_status(ref)
    assert (throttled.value.status, throttled.value.retryable, throttled.value.retry_after) == (
        429,
        True,
        42,
    )

    before = await sim.endpoint_stats("candidate")
    with pytest.raises(NoBudget) as closed:
        await vendor.get_status(ref)
    assert 41 < closed.value.retry_after <= 42 + 60
    with pytest.raises(NoBudget):  # a call that waits gives up at once: 42 s is beyond its bound
        await vendor.get_result(ref)
    assert await sim.endpoint_stats("candidate") == before  # the vendor was not asked


async def test_the_vendors_own_count_closes_the_endpoint_before_a_429() -> None:
    async with running_sim(window_seconds=30, limits={"candidate": 3}) as sim:
        # We think the limit is 100 and may use all of it; the vendor says 3.
        vendor = adapter_for(sim, budget_share=1.0, rate_limits={"candidate": 100})
        try:
            ref = (await vendor.create_invitation(order_for(101), CALLBACK)).vendor_ref
            token = await sim.login()  # another process of the same account uses two requests
            test_taker = ref.split(":")[2]
            for _ in range(2):
                read = await sim.api(
                    "GET",
                    f"/assessments/candidates/{test_taker}/",
                    token,
                    params={"candidature": candidature_id(ref)},
                )
                assert read.status_code == 200
            assert (
                await vendor.get_status(ref)
            ).status == VendorStatus.INVITED  # the vendor's last one
            assert vendor.budget.allowance("candidate") == 3  # learnt from X-RateLimit-Limit
            with pytest.raises(
                NoBudget
            ) as closed:  # X-RateLimit-Remaining was 0: closed until the reset
                await vendor.get_status(ref)
            assert closed.value.retry_after > 20
            assert (await sim.endpoint_stats("candidate"))["throttled"] == 0
        finally:
            await vendor.aclose()


async def test_server_errors_are_retryable(sim, vendor) -> None:
    await sim.fault("error", status=503, endpoint="invite")
    with pytest.raises(PeerError) as failed:
        await vendor.create_invitation(order_for(101, email=new_email()), CALLBACK)
    assert (failed.value.status, failed.value.retryable) == (503, True)
    with pytest.raises(PeerError) as malformed:
        await vendor.get_status("not-a-reference")
    assert malformed.value.retryable is False


@pytest.mark.parametrize("shared", [True, False], ids=["through the store", "each alone"])
async def test_two_processes_share_one_accounts_budget(tmp_path, shared) -> None:
    """Two workers' adapters of one account, a limit of 10 a window: through the store the
    vendor sees at most the account's 8 however the polls are split between them; each keeping
    its budget alone, they send 16 and the vendor refuses some (the second case shows the test
    can fail)."""
    async with running_sim(window_seconds=2.0, limits={"candidate": 10}) as sim:
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
        stores = [Store(url, KEY) for _ in range(2)]
        await stores[0].migrate()
        vendors = [
            testgorilla.from_account(
                Settings(vendor_timeout_seconds=5),
                {
                    "base_url": sim.url,
                    "username": USERNAME,
                    "password": PASSWORD,
                    "rate_window_seconds": sim.config.window_seconds,
                    "rate_limits": sim.config.limits,
                },
                store.limits if shared else None,
            )
            for store in stores
        ]
        try:
            ref = (await vendors[0].create_invitation(order_for(101), CALLBACK)).vendor_ref
            # Both processes poll at once.
            outcomes = await asyncio.gather(
                *(vendors[n % 2].get_status(ref) for n in range(40)), return_exceptions=True
            )
            stats = await sim.endpoint_stats("candidate")
        finally:
            for vendor in vendors:
                await vendor.aclose()
            for store in stores:
                await store.dispose()

    answered = [o for o in outcomes if isinstance(o, StatusReading)]
    others = [o for o in outcomes if not isinstance(o, StatusReading)]
    if shared:
        # At most 8 a window (a tenth of 8 leaves polls no reserve); a poll that cannot get the
        # store's answer in time on a loaded machine is deferred too, never sent.
        assert 1 <= len(answered) <= 8, outcomes
        assert all(isinstance(o, NoBudget) and o.retryable and o.retry_after > 0 for o in others)
        assert stats["max_in_window"] <= 8 and stats["throttled"] == 0
    else:
        assert stats["throttled"] > 0 or stats["max_in_window"] > 10, stats
