"""The HackerRank simulator over real HTTP: auth, paging, invites, the candidate journey, PDFs,
rate limits, faults and the result webhook."""

from __future__ import annotations

import base64
import uuid

import httpx
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest

from simulators.hackerrank import HackerRankSimConfig, create_app
from tests.support.http import client as http_client
from tests.support.servers import serve
from tests.support.waiting import eventually
from tests.vendors.test_hackerrank_fixtures import (  # noqa: F401 - fixtures
    API,
    API_KEY,
    DRAFT_TEST,
    TEST_WITH_CUTOFF,
    Receiver,
    Sim,
    receiver,
    shared_sim,
    sim,
    start_sim,
    unique_email,
)


def hook(receiver: Receiver, order_id: str | None = None, **auth: str) -> dict:
    """Invite fields that point the result webhook at the receiver (one URL per order)."""
    order_id = order_id or uuid.uuid4().hex
    authentication = (
        {"type": "basic_auth", "data": auth}
        if auth
        else {"type": "bearer_token", "data": {"token": "secret-token"}}
    )
    return {
        "test_result_url": f"{receiver.url}/hooks/{order_id}",
        "webhook_authentication": authentication,
    }


async def invited(sim: Sim, receiver: Receiver | None = None, **body) -> str:
    """A new candidate of the cutoff test; returns its id."""
    body = {
        "email": unique_email(),
        "send_email": True,
        **(hook(receiver) if receiver else {}),
        **body,
    }
    response = await sim.invite(**body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


# Authentication and request ids


@pytest.mark.parametrize(
    "auth",
    [
        {"auth": (API_KEY, "")},
        {"headers": {"Authorization": f"Bearer {API_KEY}"}},
        {"params": {"access_token": API_KEY}},
    ],
    ids=["basic", "bearer", "access_token"],
)
async def test_accepts_the_api_key_three_ways(sim: Sim, auth):
    async with http_client(base_url=sim.url) as client:
        response = await client.get(f"{API}/tests", **{"params": {"limit": 1}, **auth})
    assert response.status_code == 200
    assert response.headers["X-Request-Id"]
    assert API_KEY not in response.json()["next"]


@pytest.mark.parametrize(
    "auth",
    [
        {},
        {"auth": ("wrong-key", "")},
        {"headers": {"Authorization": "Bearer wrong-key"}},
        {"headers": {"Authorization": "Basic !!"}},
    ],
    ids=["none", "basic-wrong", "bearer-wrong", "basic-garbage"],
)
async def test_refuses_a_missing_or_wrong_key(sim: Sim, auth):
    async with http_client(base_url=sim.url) as client:
        response = await client.get(f"{API}/tests", **auth)
    assert response.status_code == 401
    assert response.json()["message"]
    assert response.headers["X-Request-Id"]


async def test_request_ids_differ_and_control_answers_carry_them(sim: Sim):
    first, second = await sim.api.get("/tests"), await sim.api.get("/tests")
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    assert (await sim.http.get("/_sim/faults")).headers["X-Request-Id"]


async def test_unknown_paths_answer_in_the_error_shape(sim: Sim):
    response = await sim.api.get("/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found", "errors": []}
    assert response.headers["X-Request-Id"]


# Tests: paging and details


async def test_lists_tests_in_pages_with_hackerranks_envelope(sim: Sim):
    first = (await sim.api.get("/tests", params={"limit": 2})).json()
    assert [t["id"] for t in first["data"]] == ["1529353", "1529354"]
    assert (first["page_total"], first["offset"], first["total"], first["previous"]) == (
        2,
        0,
        "3",
        "",
    )
    assert first["next"].endswith(f"{API}/tests?limit=2&offset=2")
    assert first["last"] == first["next"]

    second = (await sim.api.get(first["next"])).json()
    assert [t["id"] for t in second["data"]] == [DRAFT_TEST]
    assert second["data"][0]["draft"] is True
    assert (second["next"], second["page_total"]) == ("", 1)
    assert second["previous"].endswith("limit=2&offset=0")

    default = (await sim.api.get("/tests")).json()
    assert len(default["data"]) == 3 and default["next"] == ""


@pytest.mark.parametrize("limit", [0, 101])
async def test_refuses_a_limit_outside_1_to_100(sim: Sim, limit: int):
    response = await sim.api.get("/tests", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["errors"]


async def test_opt_in_fields_only_when_asked_for(sim: Sim):
    """`cutoff_score` is `additional` in the schema, like `max_score` in the parameter's list."""
    plain = (await sim.api.get(f"/tests/{TEST_WITH_CUTOFF}")).json()
    max_only = (
        await sim.api.get(f"/tests/{TEST_WITH_CUTOFF}", params={"additional_fields": "max_score"})
    ).json()
    both = (
        await sim.api.get(
            f"/tests/{TEST_WITH_CUTOFF}",
            params={"additional_fields": "max_score, cutoff_score,cutoff_score_percentage"},
        )
    ).json()
    assert (
        not {"max_score", "cutoff_score", "languages"} & set(plain)
        and plain["name"] == "Python Developer Screen"
    )
    assert max_only["max_score"] == 100.0 and "cutoff_score" not in max_only
    assert (both["max_score"], both["cutoff_score"], both["cutoff_score_percentage"]) == (
        100.0,
        60,
        60.0,
    )
    listed = (await sim.api.get("/tests")).json()["data"]
    assert all("cutoff_score" not in test for test in listed)
    assert (await sim.api.get("/tests/999")).status_code == 404


async def test_candidate_opt_in_fields_only_when_asked_for(sim: Sim):
    candidate = await invited(sim)
    plain = (await sim.api.get(f"/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}")).json()
    asked = (
        await sim.api.get(
            f"/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}",
            params={"additional_fields": "ip_address,questions"},
        )
    ).json()
    assert "ip_address" not in plain and plain["status"] == -1
    assert {"ip_address", "questions"} <= set(asked) and "comments" not in asked


# Invites


async def test_invite_answers_id_email_and_link_and_sends_one_email(sim: Sim):
    email = unique_email()
    response = await sim.invite(
        email=email, send_email=True, full_name="Ada Lovelace", invite_metadata={"order_id": "o-1"}
    )
    assert response.status_code == 200
    invite = response.json()
    assert set(invite) == {"id", "email", "test_link"}
    assert isinstance(invite["id"], int) and invite["email"] == email
    assert invite["test_link"].startswith(f"{sim.url}/tests/")
    async with http_client() as browser:
        assert (await browser.get(invite["test_link"])).status_code == 200
    assert await sim.emails_to(email) == 1

    candidate = (await sim.api.get(f"/tests/{TEST_WITH_CUTOFF}/candidates/{invite['id']}")).json()
    assert (candidate["status"], candidate["invite_valid"], candidate["invite_email_done"]) == (
        -1,
        True,
        True,
    )
    assert (candidate["attempt_starttime"], candidate["attempt_endtime"]) == (None, None)
    assert candidate["invite_metadata"] == {"order_id": "o-1"}
    assert candidate["invite_link"] == invite["test_link"]


async def test_no_email_unless_send_email_is_true(sim: Sim):
    email = unique_email()
    assert (await sim.invite(email=email)).status_code == 200
    assert await sim.emails_to(email) == 0


async def test_duplicate_invite_is_422_unless_forced_and_force_sends_the_email_again(sim: Sim):
    email = unique_email()
    first = (
        await sim.invite(email=email, send_email=True, invite_metadata={"order_id": "a"})
    ).json()

    duplicate = await sim.invite(
        email=email.upper(), send_email=True, invite_metadata={"order_id": "b"}
    )
    assert duplicate.status_code == 422
    assert "already been invited" in duplicate.json()["message"]
    assert await sim.emails_to(email) == 1

    forced = await sim.invite(
        email=email, send_email=True, force=True, invite_metadata={"order_id": "b"}
    )
    assert forced.status_code == 200
    assert forced.json()["id"] == first["id"]  # the same test candidate, invited again
    assert await sim.emails_to(email) == 2
    candidate = (await sim.api.get(f"/tests/{TEST_WITH_CUTOFF}/candidates/{first['id']}")).json()
    assert candidate["invite_metadata"] == {"order_id": "b"}


async def test_an_attempted_candidate_needs_force_reattempt_and_gets_a_new_id(sim: Sim):
    email = unique_email()
    first = await invited(sim, email=email)
    await sim.start(first)
    assert (await sim.invite(email=email, force=True)).status_code == 422
    again = await sim.invite(email=email, force=True, force_reattempt=True)
    assert again.status_code == 200 and str(again.json()["id"]) != first


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"full_name": "No Email"}, "'email' is a required property"),
        ({"email": 42}, "42 is not of type 'string'"),
        (
            {"email": "a@example.com", "webhook_authentication": {"type": "hmac", "data": {}}},
            "is not one of",
        ),
        ({"email": "not-an-address"}, "not a valid email"),
        (
            {"email": "a@example.com", "invite_valid_to": "next tuesday"},
            "invite_valid_to: is not a date and time",
        ),
        (
            {"email": "a@example.com", "test_result_url": "https://x.example/hook"},
            "webhook_authentication",
        ),
    ],
    ids=["no-email", "email-type", "auth-type", "email-format", "bad-date", "hook-without-auth"],
)
async def test_refuses_invites_the_spec_forbids(sim: Sim, body: dict, error: str):
    response = await sim.invite(**body)
    assert response.status_code == 400
    assert any(error in message for message in response.json()["errors"]), response.json()


async def test_refuses_invites_to_a_draft_test_or_an_unknown_one(sim: Sim):
    assert (await sim.invite(DRAFT_TEST, email=unique_email())).status_code == 422
    assert (await sim.invite("404404", email=unique_email())).status_code == 404


async def test_search_finds_the_tests_candidates_by_email(sim: Sim):
    email = unique_email()
    candidate = await invited(sim, email=email, invite_metadata={"order_id": "o-7"})
    await invited(sim)  # someone else
    page = (
        await sim.api.get(f"/tests/{TEST_WITH_CUTOFF}/candidates/search", params={"search": email})
    ).json()
    assert [(c["id"], c["invite_metadata"]) for c in page["data"]] == [
        (candidate, {"order_id": "o-7"})
    ]
    assert (page["total"], page["next"]) == ("1", "")


async def test_search_rows_can_leave_fields_out(sim: Sim):
    """A variant: rows without the metadata and the attempt
    (the candidate itself still has them)."""
    email = unique_email()
    candidate = await invited(sim, email=email, invite_metadata={"order_id": "o-8"})
    await sim.faults(search_row_omits=["invite_metadata", "attempt_starttime"])
    [row] = (
        await sim.api.get(f"/tests/{TEST_WITH_CUTOFF}/candidates/search", params={"search": email})
    ).json()["data"]
    assert (
        row["id"] == candidate
        and not {"invite_metadata", "attempt_starttime"} & set(row)
        and "attempt_endtime" in row
    )
    shown = (await sim.api.get(f"/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}")).json()
    assert shown["invite_metadata"] == {"order_id": "o-8"}


# The candidate's journey, the report and its PDF


async def test_journey_statuses_and_the_pdf_503_until_the_report_is_ready(sim: Sim):
    candidate = await invited(sim)
    path = f"/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}"

    started = await sim.start(candidate)
    assert (
        started["status"] == 1
        and started["attempt_starttime"]
        and started["attempt_endtime"] is None
    )
    submitted = await sim.submit(candidate, 72.5, integrity_status="No Issues Detected")
    assert submitted["status"] == 5 and submitted["attempt_endtime"]
    assert submitted["integrity_status"] is None  # part of the report, not ready yet
    not_ready = await sim.api.get(f"{path}/pdf", params={"format": "url"})
    assert not_ready.status_code == 503

    await sim.finish_report(candidate)
    done = (await sim.api.get(path)).json()
    assert (done["status"], done["score"], done["percentage_score"], done["integrity_status"]) == (
        7,
        72.5,
        72.5,
        "No Issues Detected",
    )
    # Spread from the score (our assumption): distinct, and weighted by the skills' points
    # (40 and 60) they make the percentage.
    assert done["scores_skills_split"] == {
        "Problem Solving (Basic)": 86.9,
        "Python (Intermediate)": 62.9,
    }
    link = await sim.api.get(f"{path}/pdf", params={"format": "url"})
    assert link.status_code == 200 and link.headers["content-type"].startswith("text/plain")
    async with http_client() as anyone:  # a signed link: no credentials needed
        pdf = await anyone.get(link.text)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    direct = await sim.api.get(f"{path}/pdf")
    assert direct.headers["content-type"] == "application/pdf"
    # The PDF's sections are the API's skill split.
    text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(pdf.content))
    assert "Problem Solving (Basic)" in text and "Python (Intermediate)" in text
    assert "87 / 100" in text and "63 / 100" in text  # 86.9 and 62.9, as SR rounds them


@pytest.mark.parametrize("score", [0, 3, 50, 97, 100])
async def test_skill_scores_spread_from_the_score_make_the_percentage(sim: Sim, score: float):
    candidate = await invited(sim)
    done = await sim.complete(candidate, score)
    split = done["scores_skills_split"]
    assert all(0 <= value <= 100 for value in split.values())
    weighted = 0.4 * split["Problem Solving (Basic)"] + 0.6 * split["Python (Intermediate)"]
    assert weighted == pytest.approx(done["percentage_score"], abs=0.01)
    assert (len(set(split.values())) == 1) == (score in (0, 100))


async def test_a_submission_can_name_the_skill_scores(sim: Sim):
    candidate = await invited(sim)
    split = {"Problem Solving (Basic)": 100, "Python (Intermediate)": 0}
    done = await sim.complete(candidate, 40, skill_scores=split)
    assert (done["score"], done["scores_skills_split"]) == (40.0, split)

    rescored = await sim.control(
        "POST",
        f"/candidates/{candidate}/rescore",
        json={"skill_scores": {"Problem Solving (Basic)": 50, "Python (Intermediate)": 75}},
    )
    assert rescored["score"] == 65.0  # the score follows from the split when none is named
    # A score named alone spreads again.
    rescored = await sim.control("POST", f"/candidates/{candidate}/rescore", json={"score": 72.5})
    assert rescored["scores_skills_split"]["Problem Solving (Basic)"] == 86.9


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (
            {
                "score": 50,
                "skill_scores": {"Problem Solving (Basic)": 100, "Python (Intermediate)": 0},
            },
            422,
            "score: 50 is not the skill scores' weighted combination, 40",
        ),
        (
            {"skill_scores": {"Problem Solving (Basic)": 100}},
            422,
            "skill_scores: 'Python (Intermediate)' is missing",
        ),
        (
            {"skill_scores": {"Problem Solving (Basic)": 100, "Python (Intermediate)": 0, "Go": 1}},
            422,
            "skill_scores: 'Go' is not a skill of this test",
        ),
        (
            {"skill_scores": {"Problem Solving (Basic)": 101, "Python (Intermediate)": 0}},
            422,
            "skill_scores: 'Problem Solving (Basic)' must be a percentage from 0 to 100",
        ),
        ({}, 400, "score: is required without skill_scores"),
    ],
    ids=["disagreeing-score", "missing-skill", "unknown-skill", "over-100", "nothing"],
)
async def test_a_submission_with_wrong_skill_scores_is_refused_and_changes_nothing(
    sim: Sim, body: dict, status: int, error: str
):
    candidate = await invited(sim)
    response = await sim.http.post(f"/_sim/candidates/{candidate}/submit", json=body)
    assert response.status_code == status and error in response.json()["errors"]
    [view] = [c for c in await sim.control("GET", "/candidates") if c["id"] == candidate]
    assert (view["status"], view["attempt_starttime"]) == (-1, None)


async def test_report_is_ready_after_the_configured_delay(start_sim):
    sim = await start_sim(report_delay_seconds=0.2)
    candidate = await invited(sim)
    await sim.submit(candidate, 10)

    async def ready():
        return (await sim.api.get(f"/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}")).json()[
            "status"
        ] == 7

    await eventually(ready, timeout=5, what="the report to be ready", interval=0.05)


async def test_pdf_links_expire(start_sim):
    sim = await start_sim(pdf_link_seconds=0)
    candidate = await invited(sim)
    await sim.start(candidate)
    await sim.complete(candidate, 50)
    link = (
        await sim.api.get(
            f"/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}/pdf", params={"format": "url"}
        )
    ).text
    async with http_client() as anyone:
        expired = await anyone.get(link)
    assert expired.status_code == 403


async def test_expired_invite_is_no_longer_valid_and_cannot_be_started(sim: Sim):
    candidate = await invited(sim)
    assert (await sim.control("POST", f"/candidates/{candidate}/expire"))["invite_valid"] is False
    assert (await sim.http.post(f"/_sim/candidates/{candidate}/start")).status_code == 409


async def test_invite_valid_to_in_the_past_reads_as_invalid(sim: Sim):
    candidate = await invited(sim, invite_valid_to="2020-01-01T00:00:00+00:00")
    view = (await sim.api.get(f"/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}")).json()
    assert (view["invite_valid"], view["invite_valid_to"]) == (False, "2020-01-01T00:00:00+0000")


async def test_cancelled_invite_is_gone_and_an_attempted_one_cannot_be_cancelled(sim: Sim):
    candidate = await invited(sim)
    path = f"/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}"
    assert (await sim.api.delete(f"{path}/invite")).status_code == 200
    assert (await sim.api.get(path)).status_code == 404
    assert (await sim.api.delete(f"{path}/invite")).status_code == 404

    attempted = await invited(sim)
    await sim.start(attempted)
    assert (
        await sim.api.delete(f"/tests/{TEST_WITH_CUTOFF}/candidates/{attempted}/invite")
    ).status_code == 422


# Rate limit and faults


async def test_rate_limit_answers_429_with_our_headers(start_sim):
    sim = await start_sim(requests_per_second=3)
    answers = [await sim.api.get("/tests") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    limited = answers[-1]
    assert limited.headers["X-RateLimit-Limit"] == "3"
    assert limited.headers["X-RateLimit-Reset"] == "1"  # seconds until the 1-second window resets
    assert limited.headers["Retry-After"] == limited.headers["X-RateLimit-Reset"]


async def test_forced_429s_and_switching_retry_after_off(sim: Sim):
    await sim.faults(rate_limit_next=2, retry_after=False)
    first, second, third = [await sim.api.get("/tests") for _ in range(3)]
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert "Retry-After" not in first.headers and first.headers["X-RateLimit-Reset"]


async def test_forced_server_errors_then_recovery(sim: Sim):
    await sim.faults(server_error_next=2)
    codes = [(await sim.api.get("/tests")).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    assert (await sim.control("DELETE", "/faults"))["server_error_next"] == 0


async def test_slow_answers(sim: Sim):
    await sim.faults(slow_seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        await sim.api.get("/tests", timeout=0.1)


# The result webhook


async def test_webhook_carries_the_partners_bearer_token_and_the_result(
    sim: Sim, receiver: Receiver
):
    candidate = await invited(sim, receiver, invite_metadata={"order_id": "o-1"})
    await sim.start(candidate)
    await sim.complete(candidate, 80)
    await eventually(
        lambda: _pushes(receiver, candidate, 1), timeout=5, what="the result webhook", interval=0.05
    )
    [(headers, body)] = receiver.received(candidate)
    assert headers["authorization"] == "Bearer secret-token"
    assert body == {
        "id": candidate,
        "test_id": TEST_WITH_CUTOFF,
        "email": body["email"],
        "score": 80.0,
        "max_score": 100.0,
        "percentage_score": 80.0,
        "plagiarism_status": False,
        "status": 7,
        "invite_metadata": {"order_id": "o-1"},
    }


async def test_webhook_with_basic_auth(sim: Sim, receiver: Receiver):
    candidate = await invited(sim, **hook(receiver, username="hr", password="pw"))
    await sim.complete(candidate, 10)
    await eventually(
        lambda: _pushes(receiver, candidate, 1), timeout=5, what="the result webhook", interval=0.05
    )
    assert (
        receiver.received(candidate)[0][0]["authorization"]
        == "Basic " + base64.b64encode(b"hr:pw").decode()
    )


async def test_webhook_is_retried_until_accepted(sim: Sim, receiver: Receiver):
    receiver.failures["failing-twice"] = 2
    candidate = await invited(sim, **hook(receiver, "failing-twice"))
    await sim.complete(candidate, 10)

    async def delivered():
        attempts = await sim.webhook_attempts(candidate)
        return [a["outcome"] for a in attempts] == [
            "retrying",
            "retrying",
            "delivered",
        ] and attempts

    attempts = await eventually(
        delivered, timeout=5, what="two failures then a delivery", interval=0.05
    )
    assert [a["status_code"] for a in attempts] == [500, 500, 202]
    assert len(receiver.bodies(candidate)) == 3


async def test_webhook_gives_up_after_the_retries(sim: Sim, receiver: Receiver):
    receiver.failures["failing-always"] = 10
    candidate = await invited(sim, **hook(receiver, "failing-always"))
    await sim.complete(candidate, 10)

    async def given_up():
        return [a["outcome"] for a in await sim.webhook_attempts(candidate)] == ["retrying"] * 3 + [
            "gave_up"
        ]

    await eventually(given_up, timeout=5, what="the delivery to be given up", interval=0.05)


async def test_webhook_drop_fault_loses_the_push(sim: Sim, receiver: Receiver):
    await sim.faults(webhook="drop")
    candidate = await invited(sim, receiver)
    await sim.complete(candidate, 10)
    assert [a["outcome"] for a in await sim.webhook_attempts(candidate)] == ["dropped"]
    assert await sim.pushes_published(candidate) == 1
    assert receiver.bodies(candidate) == []


async def test_webhook_duplicate_fault_sends_it_twice(sim: Sim, receiver: Receiver):
    await sim.faults(webhook="duplicate")
    candidate = await invited(sim, receiver)
    await sim.complete(candidate, 10)
    bodies = await eventually(
        lambda: _pushes(receiver, candidate, 2), timeout=5, what="two copies", interval=0.05
    )
    assert bodies[0] == bodies[1]


async def test_webhook_delay_fault_sends_it_late(sim: Sim, receiver: Receiver):
    await sim.faults(webhook="delay", webhook_delay_seconds=0.5)
    candidate = await invited(sim, receiver)
    await sim.complete(candidate, 10)
    assert receiver.bodies(candidate) == []
    await eventually(
        lambda: _pushes(receiver, candidate, 1), timeout=5, what="the late webhook", interval=0.05
    )


async def test_rescore_pushes_again_only_with_accept_result_updates(sim: Sim, receiver: Receiver):
    updates = await invited(sim, receiver, accept_result_updates=True)
    await sim.complete(updates, 40)
    await sim.control("POST", f"/candidates/{updates}/rescore", json={"score": 55})
    bodies = await eventually(
        lambda: _pushes(receiver, updates, 2), timeout=5, what="the update push", interval=0.05
    )
    assert [b["score"] for b in bodies] == [40.0, 55.0]

    no_updates = await invited(sim, receiver)
    await sim.complete(no_updates, 40)
    await eventually(
        lambda: _pushes(receiver, no_updates, 1), timeout=5, what="the result push", interval=0.05
    )
    assert await sim.pushes_published(updates) == 2
    rescored = await sim.control("POST", f"/candidates/{no_updates}/rescore", json={"score": 55})
    assert rescored["score"] == 55.0
    assert await sim.pushes_published(no_updates) == 1


async def _pushes(receiver: Receiver, candidate: str, count: int):
    bodies = receiver.bodies(candidate)
    return bodies if len(bodies) >= count else None


async def test_invites_outlive_a_restart_of_the_simulator(tmp_path):
    """Its state is on disk: what partners invited before a restart is known after it, over HTTP."""
    config = HackerRankSimConfig(
        api_key=API_KEY, database_path=tmp_path / "hackerrank.db", report_delay_seconds=None
    )
    email, cancelled_email = unique_email(), unique_email()
    with serve(create_app(config)) as url:
        async with http_client(base_url=url, timeout=10) as http:
            invite = {"email": email, "send_email": True, "invite_metadata": {"order_id": "o-1"}}
            candidate = (
                await http.post(
                    f"{API}/tests/{TEST_WITH_CUTOFF}/candidates", auth=(API_KEY, ""), json=invite
                )
            ).json()["id"]
            cancelled = (
                await http.post(
                    f"{API}/tests/{TEST_WITH_CUTOFF}/candidates",
                    auth=(API_KEY, ""),
                    json={"email": cancelled_email},
                )
            ).json()["id"]
            (
                await http.delete(
                    f"{API}/tests/{TEST_WITH_CUTOFF}/candidates/{cancelled}/invite",
                    auth=(API_KEY, ""),
                )
            ).raise_for_status()
            (
                await http.post(f"/_sim/candidates/{candidate}/submit", json={"score": 70})
            ).raise_for_status()
            before = (
                await http.get(
                    f"{API}/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}", auth=(API_KEY, "")
                )
            ).json()

    with serve(create_app(config)) as url:
        async with http_client(base_url=url, timeout=10) as http:
            after = await http.get(
                f"{API}/tests/{TEST_WITH_CUTOFF}/candidates/{candidate}", auth=(API_KEY, "")
            )
            assert after.status_code == 200, after.text
            assert {
                k: v for k, v in after.json().items() if "link" not in k and "url" not in k
            } == {
                k: v for k, v in before.items() if "link" not in k and "url" not in k
            }  # all but the links, which name the new server's address
            assert (
                after.json()["status"],
                after.json()["invite_metadata"],
                after.json()["score"],
            ) == (5, {"order_id": "o-1"}, 70.0)
            gone = await http.get(
                f"{API}/tests/{TEST_WITH_CUTOFF}/candidates/{cancelled}", auth=(API_KEY, "")
            )
            assert gone.status_code == 404  # a cancelled invite stays gone
            assert (await http.get("/_sim/outbox", params={"to": email})).json()["count"] == 1
            # The report of a submission made before the
            # restart is still generated, and ids never repeat.
            (await http.post(f"/_sim/candidates/{candidate}/report")).raise_for_status()
            again = (
                await http.post(
                    f"{API}/tests/{TEST_WITH_CUTOFF}/candidates",
                    auth=(API_KEY, ""),
                    json={"email": unique_email()},
                )
            ).json()["id"]
            assert int(again) > int(cancelled) > int(candidate)
