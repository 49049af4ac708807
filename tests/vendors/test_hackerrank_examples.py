"""HackerRank's published examples (tests/vendors/examples/hackerrank, see its README) replayed
against the adapter over real HTTP: what we make of the objects HackerRank documents."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from orders.models import VendorStatus
from tests.support.servers import serve
from tests.vendors.test_hackerrank_fixtures import make_order
from vendors.base import OrderCallback
from vendors.hackerrank import HackerRankVendor

EXAMPLES = Path(__file__).parent / "examples" / "hackerrank"
TEST_ID, CANDIDATE_ID = "1PxfG1348", "98Sjnbj12"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


class Replay:
    """Answers each call with the published example; `overrides` change one for a test."""

    def __init__(self) -> None:
        self.examples: dict[str, Any] = {}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.invites_refused = 0
        self.app = FastAPI()
        self.app.add_api_route("/x/api/v3/{path:path}", self._answer, methods=["GET", "POST"])

    def reset(self) -> None:
        self.examples = {
            name: example(f"{name}.json")
            for name in ("tests-page", "test", "test-candidate", "search-page", "invite-answer")
        }
        self.requests.clear()
        self.invites_refused = 0

    async def _answer(self, path: str, request: Request) -> JSONResponse:
        body = json.loads(await request.body() or b"null")
        self.requests.append((request.method, path, dict(request.query_params), body))
        paged = request.query_params.get("offset", "0") != "0"
        if path == "tests":
            return JSONResponse(self._later_page() if paged else self.examples["tests-page"])
        if path == f"tests/{TEST_ID}":
            return JSONResponse(self.examples["test"])
        if path == f"tests/{TEST_ID}/candidates/search":
            return JSONResponse(self._later_page() if paged else self.examples["search-page"])
        if (
            path == f"tests/{TEST_ID}/candidates/{CANDIDATE_ID}"
            and self.examples["test-candidate"] is not None
        ):
            return JSONResponse(self.examples["test-candidate"])
        if path == f"tests/{TEST_ID}/candidates" and request.method == "POST":
            if not (body.get("force") or body.get("force_reattempt")):
                self.invites_refused += 1  # the candidate of the examples was invited already
                return JSONResponse(
                    {"message": "Candidate has already been invited"}, status_code=422
                )
            return JSONResponse(self.examples["invite-answer"])
        return JSONResponse({"message": "not in the examples"}, status_code=404)

    @staticmethod
    def _later_page() -> dict[str, Any]:
        """Our assumption: pages past the examples' `next` are empty
        (the examples show one page)."""
        return {
            "data": [],
            "page_total": 0,
            "offset": 1,
            "previous": "",
            "next": "",
            "first": "",
            "last": "",
            "total": "1",
        }


@pytest.fixture(scope="module")
def replay_server():
    replay = Replay()
    with serve(replay.app) as url:
        yield replay, url


@pytest.fixture
async def replayed(replay_server):
    replay, url = replay_server
    replay.reset()
    vendor = HackerRankVendor(api_key="example-key", base_url=url, timeout_seconds=5)
    yield replay, vendor
    await vendor.aclose()


async def test_the_published_test_is_a_draft_so_no_package_and_published_it_is_one(replayed):
    replay, vendor = replayed
    assert await vendor.list_packages() == []  # the example's `draft` is true
    replay.examples["tests-page"]["data"][0]["draft"] = False
    [package] = await vendor.list_packages()
    assert (package.id, package.name, package.description) == (
        TEST_ID,
        "Java Challenge",
        "HackerRank test (60 minutes, Java, Hard, Senior)",
    )


async def test_the_published_candidate_and_test_make_a_result(replayed):
    replay, vendor = replayed
    result = await vendor.get_result(f"{TEST_ID}:{CANDIDATE_ID}")
    # score 32.5, percentage_score 50, cutoff_score 85; the published test has no max_score.
    assert (result.score, result.max_score, result.outcome) == (32.5, None, "failed")
    assert result.summary == "Scored 32.5 (50%). Below the cutoff score of 85."
    assert [(t.name, t.score) for t in result.tests] == [
        ("Problem Solving (Basic)", 100.0),
        (".NET (Intermediate)", 0.0),
    ]
    assert result.submitted_at == datetime(2016, 5, 24, 11, 57, 25, tzinfo=UTC)
    assert result.report_url == replay.examples["test-candidate"]["authenticated_report_url"]
    [asked] = [
        query["additional_fields"]
        for method, path, query, _ in replay.requests
        if path == f"tests/{TEST_ID}"
    ]
    assert set(asked.split(",")) == {"max_score", "cutoff_score", "cutoff_score_percentage"}


async def test_a_cutoff_given_only_as_a_percentage_still_makes_an_outcome(replayed):
    """Our assumption: `cutoff_score_percentage`
    (listed among the opt-in fields) without a `cutoff_score`."""
    replay, vendor = replayed
    test = replay.examples["test"]
    del test["cutoff_score"]
    test["cutoff_score_percentage"] = 40
    result = await vendor.get_result(f"{TEST_ID}:{CANDIDATE_ID}")
    assert (
        result.outcome == "passed"
        and result.summary == "Scored 32.5 (50%). Reached the cutoff of 40%."
    )


async def test_the_published_candidate_reads_as_processing(replayed):
    """The example says status -1 (invited) yet carries an ended attempt: the attempt wins, and the
    result waits for status 7."""
    _, vendor = replayed
    assert (await vendor.get_status(f"{TEST_ID}:{CANDIDATE_ID}")).status == VendorStatus.PROCESSING


async def test_a_duplicate_of_the_published_candidate_reattempts_once(replayed):
    replay, vendor = replayed
    order = make_order(package_id=TEST_ID, email="alice.wonders@email.com")
    invitation = await vendor.create_invitation(
        order, OrderCallback(url="https://partner.example/hook", token="t")
    )
    answer = replay.examples["invite-answer"]
    assert (
        invitation.vendor_ref == f"{TEST_ID}:{answer['id']}"
        and invitation.test_url == answer["test_link"]
    )
    posts = [body for method, _, _, body in replay.requests if method == "POST"]
    assert replay.invites_refused == 1 and [
        bool(body.get("force_reattempt")) for body in posts
    ] == [False, True]


async def test_our_own_earlier_invite_in_the_published_row_is_found_with_its_schemeless_link(
    replayed,
):
    replay, vendor = replayed
    order = make_order(package_id=TEST_ID, email="alice.wonders@email.com")
    row = replay.examples["search-page"]["data"][0]
    row.update(
        invite_metadata={"order_id": order.order_id, "reference": order.reference},
        attempt_starttime=None,
        attempt_endtime=None,
    )
    invitation = await vendor.create_invitation(
        order, OrderCallback(url="https://partner.example/hook", token="t")
    )
    assert invitation.vendor_ref == f"{TEST_ID}:{CANDIDATE_ID}"
    assert (
        invitation.test_url == "https://hackerrank.com/test/sample/auth_string"
    )  # published without a scheme
    assert [method for method, *_ in replay.requests].count("POST") == 1


async def test_a_row_without_metadata_whose_candidate_is_gone_is_read_as_it_is(replayed):
    """The row lacks `invite_metadata`, and reading the candidate in full answers 404 (its invite
    was cancelled since the search): the row's ended attempt still allows one new attempt."""
    replay, vendor = replayed
    del replay.examples["search-page"]["data"][0]["invite_metadata"]
    replay.examples["test-candidate"] = None
    order = make_order(package_id=TEST_ID, email="alice.wonders@email.com")
    invitation = await vendor.create_invitation(
        order, OrderCallback(url="https://partner.example/hook", token="t")
    )
    assert invitation.vendor_ref == f"{TEST_ID}:{replay.examples['invite-answer']['id']}"
    assert (f"tests/{TEST_ID}/candidates/{CANDIDATE_ID}") in [
        path for _, path, _, _ in replay.requests
    ]


def test_the_examples_are_the_published_defaults():
    """Each file is the `default` of every property of one published object
    (README.md says which)."""
    spec = json.loads(
        (Path(__file__).parents[2] / "simulators" / "hackerrank-v3-swagger.json").read_text("utf-8")
    )
    shown = spec["definitions"]["TestCandidateShow"]["properties"]
    assert example("test-candidate.json") == {
        name: copy.deepcopy(schema["default"])
        for name, schema in shown.items()
        if "default" in schema
    }
