"""The sandbox adapter's resend against the sandbox vendor's simulator over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest

from orders.models import Candidate, Order
from peers import PeerError
from simulators.sandbox_vendor.config import SandboxVendorConfig
from tests.simulators.test_sandbox_vendor import API_KEY, WEBHOOK_SECRET, config, receiver, running  # noqa: F401 - fixtures
from tests.support.servers import free_port
from vendors.base import OrderCallback
from vendors.sandbox import SandboxVendor

CALLBACK = OrderCallback(
    url="http://us.invalid/webhooks/sandbox", token="unused"
)  # the sandbox pushes per account


@pytest.fixture
def sim(config: SandboxVendorConfig) -> Iterator[httpx.Client]:
    with running(config) as client:
        yield client


def adapter_at(base_url: str) -> SandboxVendor:
    return SandboxVendor(
        base_url=base_url,
        api_key=API_KEY,
        webhook_secret=WEBHOOK_SECRET,
        timeout_seconds=5,
        webhook_tolerance_seconds=300,
    )


@pytest.fixture
async def adapter(sim: httpx.Client):
    adapter = adapter_at(str(sim.base_url))
    yield adapter
    await adapter.aclose()


def an_order() -> Order:
    return Order(
        order_id=f"order-{uuid.uuid4().hex[:12]}",
        company_id="acme",
        package_id="skills-fullstack",
        package_name="Full-stack skills",
        vendor="sandbox",
        result_callback_url="http://sr.invalid/result",
        candidate=Candidate(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
        deadline_days=3,
        poll_interval_seconds=60,
        received_at=datetime.now(UTC),
    )


def emails_for(sim: httpx.Client, order: Order) -> int:
    return len(
        sim.get("/control/outbox", params={"reference": order.order_id}).raise_for_status().json()
    )


async def test_resending_has_the_vendor_email_the_same_link_again(
    sim: httpx.Client, adapter: SandboxVendor
) -> None:
    assert adapter.capabilities.resend
    order = an_order()
    invitation = await adapter.create_invitation(order, CALLBACK)

    await adapter.resend_invitation(invitation.vendor_ref, CALLBACK)

    assert emails_for(sim, order) == 2
    links = {
        e["link"] for e in sim.get("/control/outbox", params={"reference": order.order_id}).json()
    }
    assert links == {invitation.test_url}


async def test_a_resend_once_the_candidate_started_is_refused_for_good(
    sim: httpx.Client, adapter: SandboxVendor
) -> None:
    order = an_order()
    invitation = await adapter.create_invitation(order, CALLBACK)
    sim.post(f"/control/orders/{order.order_id}/start").raise_for_status()

    with pytest.raises(PeerError) as refused:
        await adapter.resend_invitation(invitation.vendor_ref, CALLBACK)

    assert (refused.value.status, refused.value.retryable) == (409, False)
    assert str(refused.value) == (
        "sandbox vendor: invitation resend refused: the candidate opened it already, or it "
        "is closed"
    )
    assert emails_for(sim, order) == 1


async def test_resend_failures_keep_the_adapters_error_mapping(adapter: SandboxVendor) -> None:
    with pytest.raises(PeerError) as unknown:
        await adapter.resend_invitation("inv_unknown", CALLBACK)
    assert (unknown.value.status, unknown.value.retryable) == (404, False)

    unreachable = adapter_at(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(PeerError) as failed:
            await unreachable.resend_invitation("inv_1", CALLBACK)
    finally:
        await unreachable.aclose()
    assert (
        failed.value.retryable
        and str(failed.value) == "sandbox vendor: invitation resend failed: ConnectError"
    )


async def test_an_invitation_the_sandbox_does_not_know_is_never_read_as_cancelled(
    adapter: SandboxVendor,
) -> None:
    with pytest.raises(PeerError) as unknown:
        await adapter.get_status("inv_unknown")
    assert (unknown.value.status, unknown.value.retryable, str(unknown.value)) == (
        404,
        False,
        "sandbox vendor: status answered HTTP 404",
    )


@pytest.mark.parametrize(
    ("candidate", "refused"),
    [
        ({"first_name": "Ada" * 34}, "the candidate's first name"),
        (
            {"first_name": "", "last_name": "L" * 101},
            "the candidate's first name and the candidate's last name",
        ),
        ({"email": "no address"}, "the candidate's email address"),
    ],
)
async def test_a_refused_invitation_names_the_fields_the_vendor_refused_never_their_values(
    adapter: SandboxVendor, candidate, refused
) -> None:
    order = an_order()
    order = order.model_copy(update={"candidate": order.candidate.model_copy(update=candidate)})
    with pytest.raises(PeerError) as refusal:
        await adapter.create_invitation(order, CALLBACK)
    assert (
        str(refusal.value) == f"sandbox vendor: invitation answered HTTP 422: it refused {refused}"
    )
    assert refusal.value.status == 422 and not refusal.value.retryable


async def test_the_declared_candidate_limits_are_the_vendors(adapter: SandboxVendor) -> None:
    """At the limits the vendor invites; one character past them it refuses (intake checks them)."""
    limits = adapter.capabilities.candidate_limits
    order = an_order()
    longest = order.candidate.model_copy(
        update={
            "first_name": "F" * limits.first_name.most,
            "last_name": "L" * limits.last_name.most,
        }
    )
    assert await adapter.create_invitation(
        order.model_copy(update={"candidate": longest}), CALLBACK
    )
    past = order.candidate.model_copy(update={"first_name": "F" * (limits.first_name.most + 1)})
    with pytest.raises(PeerError, match="first name"):
        await adapter.create_invitation(an_order().model_copy(update={"candidate": past}), CALLBACK)


async def test_the_report_names_the_job_the_candidate_applied_to(
    sim: httpx.Client, adapter: SandboxVendor
) -> None:
    order = an_order().model_copy(update={"job_title": "Backend Engineer"})
    invitation = await adapter.create_invitation(order, CALLBACK)
    sim.post(f"/control/orders/{order.order_id}/complete", json={"score": 80}).raise_for_status()

    report = await adapter.download_report(invitation.vendor_ref)

    assert report is not None
    text = pdfium.PdfDocument(report.content)[0].get_textpage().get_text_range()
    assert "Backend Engineer" in text
