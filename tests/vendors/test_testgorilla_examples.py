"""TestGorilla's published example payloads (tests/vendors/examples/testgorilla, sources in its
README) replayed to our adapter over real HTTP: a server answers each request our adapter sends
with the example for its path, and the tests check what the adapter made of it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from orders.models import VendorStatus
from peers import PeerError
from settings import Settings
from tests.support.servers import serve
from tests.vendors.test_testgorilla_support import order_for
from vendors import testgorilla
from vendors.base import OrderCallback

EXAMPLES = Path(__file__).parent / "examples" / "testgorilla"
CALLBACK = OrderCallback(url="http://127.0.0.1:1/unused", token="unused")
LINKS = "https://candidates.example/{invitation_uuid}"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


@contextlib.contextmanager
def replaying(
    answers: dict[tuple[str, str], tuple[int, Any]],
) -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """A server answering (method, path) with (status, JSON body); every other request is a 404.
    Yields its URL and the requests it received (method, path, query)."""
    received: list[tuple[str, str, str]] = []
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
    async def answer(path: str, request: Request) -> Response:
        received.append((request.method, f"/{path}", request.url.query))
        status, body = answers.get((request.method, f"/{path}"), (404, {"detail": "Not found."}))
        return JSONResponse(body, status_code=status)

    with serve(app) as url:
        yield url, received


def vendor_at(url: str):
    credentials = {"api_token": "example-token", "base_url": url, "invitation_url_template": LINKS}
    return testgorilla.from_account(Settings(vendor_timeout_seconds=5), credentials)


async def test_a_repeated_invitation_finds_the_candidature_in_the_docs_list_example() -> None:
    answers = {
        ("POST", "/api/assessments/32/invite_candidate/"): (
            400,
            example("repeating-invitation.json"),
        ),
        ("GET", "/api/assessments/candidature/"): (200, example("candidature-list.json")),
    }
    with replaying(answers) as (url, received):
        vendor = vendor_at(url)
        try:
            invitation = await vendor.create_invitation(
                order_for(32, email="john@example.com"), CALLBACK
            )
        finally:
            await vendor.aclose()
    # The docs' row has no test-taker id and no link: the reference has none, the link is built.
    assert invitation.vendor_ref == "32:8000"
    assert invitation.test_url == "https://candidates.example/edb70e44-271d-4e6a-8533-901fdc95f230"
    assert [(m, p) for m, p, _ in received] == [
        ("POST", "/api/assessments/32/invite_candidate/"),
        ("GET", "/api/assessments/candidature/"),
    ]


async def test_a_refusal_the_list_does_not_explain_names_its_error_key() -> None:
    answers = {
        ("POST", "/api/assessments/32/invite_candidate/"): (
            400,
            example("repeating-invitation.json"),
        ),
        ("GET", "/api/assessments/candidature/"): (200, example("candidature-list.json")),
    }
    with replaying(answers) as (url, _):
        vendor = vendor_at(url)
        try:
            with pytest.raises(PeerError) as refused:
                await vendor.create_invitation(
                    order_for(32, email="someone.else@example.com"), CALLBACK
                )
            assert (refused.value.status, refused.value.retryable) == (400, False)
            assert (
                str(refused.value)
                == "TestGorilla: invitation answered HTTP 400 (REPEATING_INVITATION)"
            )
            assert "example.com" not in str(refused.value)
        finally:
            await vendor.aclose()


async def test_the_docs_results_example_with_the_candidate_detail_gives_the_result() -> None:
    answers = {
        ("GET", "/api/assessments/candidates/6386717/"): (200, example("candidate-detail.json")),
        ("GET", "/api/assessments/results/"): (200, example("results.json")),
    }
    with replaying(answers) as (url, received):
        vendor = vendor_at(url)
        try:
            assert (await vendor.get_status("32:8000:6386717")).status == VendorStatus.COMPLETED
            result = await vendor.get_result("32:8000:6386717")
        finally:
            await vendor.aclose()
    assert (result.score, result.max_score) == (85, 100)
    tests = {t.test_id: t for t in result.tests}
    assert (tests["7244"].name, tests["7244"].score, tests["7244"].summary) == (
        "Problem solving",
        85,
        "85 out of 100.",
    )
    assert (tests["494"].score, tests["494"].outcome) == (
        None,
        "2-1-1-2-1_32.0-34.0-33.0-35.0-32.0",
    )
    assert ("GET", "/api/assessments/candidates/6386717/", "candidature=8000") in received
    assert (
        "GET",
        "/api/assessments/results/",
        "candidature__assessment=32&candidature__test_taker=6386717",
    ) in received


async def test_the_docs_list_example_without_a_status_reads_as_unknown_not_as_anything_else() -> (
    None
):
    """The docs' row shows no `status`: nothing is concluded from it (the poll sees no change)."""
    answers = {
        ("GET", "/api/assessments/candidature/"): (200, example("candidature-list.json")),
        ("GET", "/api/assessments/candidature/8000/"): (
            405,
            {"detail": 'Method "GET" not allowed.'},
        ),
    }
    with replaying(answers) as (url, received):
        vendor = vendor_at(url)
        try:
            assert (await vendor.get_status("32:8000")).status == VendorStatus.UNKNOWN
        finally:
            await vendor.aclose()
    assert [(m, p) for m, p, _ in received] == [
        ("GET", "/api/assessments/candidature/8000/"),
        ("GET", "/api/assessments/candidature/"),
    ]


async def test_the_docs_assessments_example_is_a_package() -> None:
    answers = {
        ("GET", "/api/assessments/"): (200, example("assessments.json")),
        ("GET", "/api/assessments/32/"): (
            200,
            {"id": 32, "name": "Python developer", "status": "active", "tests": []},
        ),
    }
    with replaying(answers) as (url, _):
        vendor = vendor_at(url)
        try:
            [package] = await vendor.list_packages()
        finally:
            await vendor.aclose()
    assert (package.id, package.name) == ("32", "Python developer")
