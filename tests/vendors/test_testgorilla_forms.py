"""Our TestGorilla adapter against every form TestGorilla's answers may take, over real HTTP.

TestGorilla's docs are silent on several answers (the invite's, the duplicate invite's, a
candidature's GET) and public consumers disagree on others; the simulator has a variant for
each form (simulators/testgorilla/config.py Variants) and these tests prove a whole order's
calls work under every one of them, and that no form makes us conclude what it does not say.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from orders.models import VendorStatus
from peers import PeerError
from settings import Settings
from tests.support.servers import free_port
from tests.vendors.test_testgorilla_support import (
    adapter_for,
    candidature_id,
    new_email,
    order_for,
    running_sim,
)
from vendors import testgorilla
from vendors.base import CredentialsUnusable, OrderCallback

CALLBACK = OrderCallback(url="http://127.0.0.1:1/unused", token="unused")


@pytest.mark.parametrize("candidature_get", ["405", "404", "exists"])
@pytest.mark.parametrize("candidate_detail", ["nested", "flat"])
async def test_a_whole_order_reads_its_candidature_through_the_documented_endpoints(
    candidature_get, candidate_detail
) -> None:
    async with running_sim(
        candidature_get=candidature_get, candidate_detail=candidate_detail
    ) as sim:
        vendor = adapter_for(sim)
        try:
            order = order_for(101)
            ref = (await vendor.create_invitation(order, CALLBACK)).vendor_ref
            cid = candidature_id(ref)
            assert (await vendor.get_status(ref)).status == VendorStatus.INVITED
            await vendor.resend_invitation(ref, CALLBACK)
            await sim.control("POST", f"/candidatures/{cid}/start")
            assert (await vendor.get_status(ref)).status == VendorStatus.STARTED
            await sim.complete(cid, {"7244": 90, "311": 70})
            assert (await vendor.get_status(ref)).status == VendorStatus.COMPLETED
            assert (await vendor.get_result(ref)).score == 80
            report = await vendor.download_report(ref)
            assert report is not None and report.content.startswith(b"%PDF")
            await vendor.cancel_invitation(ref)  # completed: left alone
            assert [c["status"] for c in await sim.candidatures(order.candidate.email)] == [
                "completed"
            ]

            other = await vendor.create_invitation(order_for(103), CALLBACK)
            await vendor.cancel_invitation(other.vendor_ref)
            assert await sim.candidatures_of(other.vendor_ref) == []
            with pytest.raises(
                PeerError
            ) as gone:  # unknown, which only the order that deleted it reads as cancelled
                await vendor.get_status(other.vendor_ref)
            assert (gone.value.status, gone.value.retryable) == (404, False)

            assert (await sim.endpoint_stats("candidature"))[
                "allowed"
            ] == 0  # the undocumented GET was never needed
            assert (
                await sim.emails_to(order.candidate.email) == 2
            )  # the invitation and the one resend
        finally:
            await vendor.aclose()


@pytest.mark.parametrize("candidature_get", ["405", "404", "exists"])
async def test_an_invitation_made_before_reads_its_status_whatever_the_undocumented_get_answers(
    candidature_get,
) -> None:
    """Orders invited by earlier versions hold `<assessment>:<candidature>` (no test-taker id)."""
    async with running_sim(candidature_get=candidature_get, max_page_size=2) as sim:
        inviting = adapter_for(sim)
        try:
            for _ in range(3):  # others first, so the documented list is read page by page
                await inviting.create_invitation(order_for(101), CALLBACK)
            ref = (await inviting.create_invitation(order_for(101), CALLBACK)).vendor_ref
        finally:
            await inviting.aclose()
        # A process that never saw the invitation (the one that made it knows its test taker).
        vendor = adapter_for(sim)
        try:
            old_ref = ":".join(ref.split(":")[:2])
            assert (await vendor.get_status(old_ref)).status == VendorStatus.INVITED
            await sim.complete(candidature_id(ref), {"7244": 60, "311": 80})
            assert (await vendor.get_status(old_ref)).status == VendorStatus.COMPLETED
            assert (await vendor.get_result(old_ref)).score == 70
            assert await vendor.download_report(old_ref) is not None

            cancelled = ":".join(
                (await vendor.create_invitation(order_for(103), CALLBACK)).vendor_ref.split(":")[:2]
            )
            await vendor.cancel_invitation(cancelled)
            with pytest.raises(PeerError) as gone:
                await vendor.get_status(cancelled)
            assert (gone.value.status, gone.value.retryable) == (404, False)
        finally:
            await vendor.aclose()


@pytest.mark.parametrize("invite_answer", ["candidature", "uuid_only", "empty"])
async def test_every_form_of_the_invites_answer_gives_the_candidature_and_its_own_link(
    invite_answer,
) -> None:
    async with running_sim(invite_answer=invite_answer) as sim:
        vendor = adapter_for(sim)
        try:
            order = order_for(101)
            invitation = await vendor.create_invitation(order, CALLBACK)
            [candidature] = await sim.candidatures(order.candidate.email)
            assert invitation.vendor_ref == f"101:{candidature['id']}:{candidature['test_taker']}"
            assert invitation.test_url == candidature["invitation_link"]
            assert (
                await sim.http.get(invitation.test_url)
            ).status_code == 200  # the candidate's page
            assert await sim.emails_to(order.candidate.email) == 1
            assert (
                await vendor.get_status(invitation.vendor_ref)
            ).status == VendorStatus.STARTED  # opened just now
        finally:
            await vendor.aclose()


async def test_without_a_link_in_any_answer_the_link_is_built_from_the_accounts_template() -> None:
    async with running_sim(invitation_links=False, invite_answer="uuid_only") as sim:
        vendor = adapter_for(
            sim, invitation_url_template=f"{sim.url}/testtaker/welcome/{{invitation_uuid}}"
        )
        try:
            order = order_for(102)
            invitation = await vendor.create_invitation(order, CALLBACK)
            [candidature] = await sim.candidatures(order.candidate.email)
            assert (
                invitation.test_url
                == f"{sim.url}/testtaker/welcome/{candidature['invitation_uuid']}"
            )
            assert invitation.test_url == candidature["invitation_link"]
        finally:
            await vendor.aclose()


@pytest.mark.parametrize("duplicate_invite", ["errors", "detail"])
@pytest.mark.parametrize("test_taker_field", ["testtaker_id", "test_taker"])
async def test_a_second_invitation_in_either_refusal_form_returns_the_first(
    duplicate_invite, test_taker_field
) -> None:
    async with running_sim(
        duplicate_invite=duplicate_invite, test_taker_field=test_taker_field
    ) as sim:
        vendor = adapter_for(sim)
        try:
            order = order_for(101)
            first = await vendor.create_invitation(order, CALLBACK)
            assert await vendor.create_invitation(order, CALLBACK) == first
            assert await sim.emails_to(order.candidate.email) == 1
            await sim.complete(candidature_id(first.vendor_ref), {"7244": 50, "311": 50})
            assert (await vendor.get_result(first.vendor_ref)).score == 50
        finally:
            await vendor.aclose()


async def test_a_refusal_no_candidature_explains_names_its_reason() -> None:
    async with running_sim() as sim:
        vendor = adapter_for(sim)
        try:
            with pytest.raises(PeerError) as refused:  # an archived assessment takes no candidate
                await vendor.create_invitation(order_for(104), CALLBACK)
            assert (refused.value.status, refused.value.retryable) == (400, False)
        finally:
            await vendor.aclose()


async def test_rate_limits_and_outages_of_every_call_are_retryable() -> None:
    async with running_sim() as sim:
        vendor = adapter_for(sim)
        try:
            ref = (await vendor.create_invitation(order_for(101), CALLBACK)).vendor_ref
            await sim.complete(candidature_id(ref))
            for endpoint, call in (("results", vendor.get_result), ("pdf", vendor.download_report)):
                await sim.fault("error", status=502, endpoint=endpoint)
                with pytest.raises(PeerError) as failed:
                    await call(ref)
                assert (failed.value.status, failed.value.retryable) == (502, True), endpoint

            # A 429 closes the endpoint (here: the status read) for the X-RateLimit-Reset it names.
            await sim.fault("throttle", endpoint="candidate", reset_seconds=7)
            with pytest.raises(PeerError) as throttled:
                await vendor.get_status(ref)
            assert (
                throttled.value.status,
                throttled.value.retryable,
                throttled.value.retry_after,
            ) == (429, True, 7)

            await sim.fault("throttle", endpoint="invite", reset_seconds=3)
            with pytest.raises(PeerError) as invite_throttled:
                await vendor.create_invitation(order_for(102, email=new_email()), CALLBACK)
            assert (
                invite_throttled.value.status,
                invite_throttled.value.retryable,
                invite_throttled.value.retry_after,
            ) == (429, True, 3)
        finally:
            await vendor.aclose()

    unreachable = adapter_for(sim)  # the simulator has stopped: nobody listens on its port
    try:
        operations: tuple[Callable[[str], Awaitable[object]], ...] = (
            unreachable.get_status,
            unreachable.get_result,
            unreachable.cancel_invitation,
        )
        for operation in operations:
            with pytest.raises(PeerError) as refused:
                await operation(ref)
            assert refused.value.retryable and refused.value.status is None
    finally:
        await unreachable.aclose()


async def test_no_server_at_the_accounts_address_is_retryable() -> None:
    async with running_sim() as sim:
        vendor = adapter_for(sim, base_url=f"http://127.0.0.1:{free_port()}")
        try:
            with pytest.raises(PeerError) as refused:
                await vendor.create_invitation(order_for(101), CALLBACK)
            assert refused.value.retryable and "ConnectError" in str(refused.value)
        finally:
            await vendor.aclose()


@pytest.mark.parametrize(
    "template", ["https://tg.example/{uuid}", "https://tg.example/{invitation_uuid}/{0}", 42]
)
def test_an_invitation_url_template_that_cannot_give_a_link_is_refused_with_the_account(
    template,
) -> None:
    with pytest.raises(CredentialsUnusable) as refused:
        testgorilla.from_account(
            Settings(), {"api_token": "key", "invitation_url_template": template}
        )
    assert "invitation_url_template" in str(refused.value)


@pytest.mark.parametrize("assessment_tests", ["tests", "tests_detail"])
async def test_the_catalog_names_each_assessments_tests_in_either_form_of_its_detail(
    assessment_tests,
) -> None:
    async with running_sim(assessment_tests=assessment_tests) as sim:
        vendor = adapter_for(sim)
        try:
            packages = {p.id: p for p in await vendor.list_packages()}
            assert [(t.id, t.name) for t in packages["101"].tests] == [
                ("7244", "Python (coding): data structures"),
                ("311", "Problem solving"),
                ("494", "Big 5 (OCEAN)"),
            ]
        finally:
            await vendor.aclose()
