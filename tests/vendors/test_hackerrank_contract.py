"""What the adapter sends and what the simulator answers, checked against HackerRank's spec.

The simulator records every partner API exchange. After a journey through every adapter
method, each request must name a documented operation and fit its request schema, and each
answer with a documented status must fit that status's response schema. simulators/hackerrank/
spec.py says how the published file is read (a property may be null where the spec itself
documents null); the negative tests prove the check still catches wrong bodies.
"""

from __future__ import annotations

import copy

import pytest

from peers import PeerError
from simulators.hackerrank.spec import SPEC_FILE, hackerrank_api
from simulators.openapi import ApiDescription
from tests.vendors.test_hackerrank_fixtures import (  # noqa: F401 - fixtures
    TEST_WITH_CUTOFF,
    TEST_WITHOUT_CUTOFF,
    Receiver,
    Sim,
    candidate_id,
    make_order,
    receiver,
    shared_sim,
    sim,
    unique_email,
    vendor,
)
from vendors.hackerrank import HackerRankVendor

CANDIDATE_PATH = f"/x/api/v3/tests/{TEST_WITH_CUTOFF}/candidates/1"


async def _journey(sim: Sim, vendor: HackerRankVendor, receiver: Receiver) -> None:
    """Every adapter method, including the duplicate, resend, force and not-ready paths."""
    await vendor.list_packages()
    email = unique_email()
    first, second = (
        make_order(email=email, return_url="https://sr.example/back"),
        make_order(email=email),
    )
    ref = (await vendor.create_invitation(first, receiver.callback(first.order_id))).vendor_ref
    await vendor.create_invitation(first, receiver.callback(first.order_id))  # 422, then search
    await vendor.get_status(ref)
    await vendor.resend_invitation(
        ref, receiver.callback(first.order_id)
    )  # the same invite, with force
    await sim.start(candidate_id(ref))
    await sim.submit(candidate_id(ref), 77)
    await vendor.get_status(ref)
    with pytest.raises(PeerError):
        await vendor.download_report(ref)  # 503: not ready
    await sim.finish_report(candidate_id(ref))
    await vendor.get_status(ref)
    await vendor.get_result(ref)
    await vendor.download_report(ref)
    await vendor.create_invitation(
        second, receiver.callback(second.order_id)
    )  # 422, search, force_reattempt
    other = make_order(package_id=TEST_WITHOUT_CUTOFF)
    other_ref = (
        await vendor.create_invitation(other, receiver.callback(other.order_id))
    ).vendor_ref
    await vendor.cancel_invitation(other_ref)
    with pytest.raises(PeerError):
        await vendor.get_status(other_ref)  # 404 once cancelled


async def test_every_exchange_of_a_journey_fits_the_spec(
    sim: Sim, vendor: HackerRankVendor, receiver: Receiver
):
    before = len(await sim.exchanges())
    await _journey(sim, vendor, receiver)
    exchanges = (await sim.exchanges())[before:]
    api = hackerrank_api()

    problems, requests_checked, responses_checked = [], 0, 0
    for exchange in exchanges:
        method, path, status = exchange["method"], exchange["path"], exchange["status"]
        operation = api.operation(method, path)  # raises for an undocumented endpoint
        if exchange["request"] is not None:
            problems += [
                f"{method} {path} request: {e}"
                for e in api.request_errors(method, path, exchange["request"])
            ]
            requests_checked += 1
        if str(status) in operation.spec.get("responses", {}):
            problems += [
                f"{method} {path} {status}: {e}"
                for e in api.response_errors(method, path, status, exchange["response"])
            ]
            responses_checked += 1

    assert problems == []
    seen = {
        (e["method"], api.operation(e["method"], e["path"]).template, e["status"])
        for e in exchanges
    }
    for expected in [
        ("GET", "/x/api/v3/tests", 200),
        ("GET", "/x/api/v3/tests/{id}", 200),
        ("POST", "/x/api/v3/tests/{test_id}/candidates", 200),
        ("POST", "/x/api/v3/tests/{test_id}/candidates", 422),
        ("GET", "/x/api/v3/tests/{test_id}/candidates/search", 200),
        ("GET", "/x/api/v3/tests/{test_id}/candidates/{candidate_id}", 200),
        ("GET", "/x/api/v3/tests/{test_id}/candidates/{candidate_id}", 404),
        ("GET", "/x/api/v3/tests/{test_id}/candidates/{candidate_id}/pdf", 503),
        ("GET", "/x/api/v3/tests/{test_id}/candidates/{candidate_id}/pdf", 200),
        ("DELETE", "/x/api/v3/tests/{test_id}/candidates/{candidate_id}/invite", 200),
    ]:
        assert expected in seen, expected
    # Six invites (the first, its retry, its resend, the second order's refused and forced ones, the
    # other order's) and every documented answer.
    assert requests_checked == 6
    assert responses_checked >= 11


async def test_candidate_views_at_every_stage_fit_the_spec(sim: Sim):
    """Invited, started, processing, completed, expired: complete objects, right types."""
    api = hackerrank_api()
    response = await sim.invite(
        email=unique_email(), send_email=True, invite_metadata={"order_id": "o"}
    )
    candidate = str(response.json()["id"])
    path = f"/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}"
    stages = [
        lambda: sim.start(candidate),
        lambda: sim.submit(
            candidate, 33, integrity_status="Medium", integrity_summary="Tab switches"
        ),
        lambda: sim.finish_report(candidate),
        lambda: sim.control("POST", f"/candidates/{candidate}/expire"),
    ]
    for advance in [None, *stages]:
        if advance:
            await advance()
        response = await sim.api.get(path)
        assert response.status_code == 200, response.text
        assert api.response_errors("GET", f"/x/api/v3{path}", 200, response.json()) == [], (
            response.json()["status"]
        )


def test_the_check_catches_wrong_bodies():
    api = hackerrank_api()
    good_invite = {
        "email": "a@example.com",
        "webhook_authentication": {"type": "bearer_token", "data": {"token": "t"}},
    }
    path = f"/x/api/v3/tests/{TEST_WITH_CUTOFF}/candidates"
    assert api.request_errors("POST", path, good_invite) == []
    assert api.request_errors("POST", path, {**good_invite, "email": 7}) == [
        "email: 7 is not of type 'string'"
    ]
    assert api.request_errors("POST", path, {**good_invite, "accept_result_updates": "yes"})
    assert api.request_errors(
        "POST", path, {**good_invite, "webhook_authentication": {"type": "signature", "data": {}}}
    )
    assert api.request_errors("POST", path, {"full_name": "no email"})
    assert api.response_errors(
        "POST", path, 200, {"id": "not-an-integer", "email": "a@example.com", "test_link": "x"}
    )


def test_nulls_are_allowed_only_where_the_spec_documents_them():
    view = _completed_candidate_view()
    api = hackerrank_api()
    assert api.response_errors("GET", CANDIDATE_PATH, 200, view) == []
    # The published file, read literally, refuses the nulls its own descriptions promise ...
    literal = ApiDescription.packaged(SPEC_FILE)
    assert any(
        "attempt_starttime: None is not of type 'string'" in e
        for e in literal.response_errors(
            "GET", CANDIDATE_PATH, 200, {**view, "attempt_starttime": None}
        )
    )
    # ... and our reading still refuses a null the spec never mentions,
    # a wrong type or a missing property.
    assert api.response_errors("GET", CANDIDATE_PATH, 200, {**view, "status": None}) == [
        "status: None is not of type 'integer'"
    ]
    assert api.response_errors("GET", CANDIDATE_PATH, 200, {**view, "attempt_starttime": 5}) == [
        "attempt_starttime: 5 is not of type 'string', 'null'"
    ]
    missing = copy.deepcopy(view)
    del missing["invite_valid"]
    assert api.response_errors("GET", CANDIDATE_PATH, 200, missing) == [
        "(body): 'invite_valid' is a required property"
    ]


def _completed_candidate_view() -> dict:
    """A candidate body as the simulator builds it, without a running server."""
    from simulators.docstore import DocumentStore
    from simulators.hackerrank.catalog import TESTS
    from simulators.hackerrank.service import REPORT_READY, Account, Candidate, utc_now
    from simulators.hackerrank.webhooks import WebhookSender

    account = Account(
        report_delay_seconds=None,
        pdf_link_seconds=60,
        webhooks=WebhookSender((), 1),
        store=DocumentStore(":memory:"),
    )
    now = utc_now()
    record = Candidate(
        id=1,
        test=TESTS[TEST_WITH_CUTOFF],
        email="a@example.com",
        full_name="A",
        token="t",
        invited_on=now,
        invite={},
        status=REPORT_READY,
        attempt_starttime=now,
        attempt_endtime=now,
        score=50.0,
    )
    return account.view(record, "http://sim")
