"""The HackerRank simulator's web pages over real HTTP: the candidates with their buttons, the
outbox, and the candidate's test page. Each button must move the candidate as the control API
would, so the assertions read the control API's view afterwards."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.vendors import test_hackerrank_fixtures as fixtures
from tests.vendors.test_hackerrank_fixtures import Sim, unique_email

# The shared simulator the API tests drive, set up the same way.
shared_sim = fixtures.shared_sim
sim = fixtures.sim


async def invite(sim: Sim, **body: Any) -> tuple[str, str]:
    """A new candidate of the cutoff test (max 100): its id and its test link."""
    email = unique_email()
    response = await sim.invite(email=email, send_email=True, **body)
    assert response.status_code == 200, response.text
    answer = response.json()
    return str(answer["id"]), answer["test_link"]


async def shown(sim: Sim, candidate: str) -> dict[str, Any]:
    """The candidate as the control API sees it."""
    [view] = [c for c in await sim.control("GET", "/candidates") if c["id"] == candidate]
    return view


def row(page: str, candidate: str) -> str:
    """The candidate's row of the home page."""
    found = re.search(rf'<tr class="candidate" id="candidate-{candidate}".*?</tr>', page, re.DOTALL)
    assert found, f"candidate {candidate} is not on the page"
    return found.group(0)


async def press(sim: Sim, candidate: str, move: str, **form: str | float) -> httpx.Response:
    """A button of the home page: answered with a redirect back to it, then followed."""
    pressed = await sim.http.post(f"/candidates/{candidate}/{move}", data=form)
    assert pressed.status_code == 303, pressed.text
    assert pressed.headers["location"].startswith("/")
    page = await sim.http.get(pressed.headers["location"])
    assert page.status_code == 200
    return page


async def test_the_home_page_lists_candidates_newest_first_in_a_live_region(sim: Sim):
    older, _ = await invite(sim)
    newer, _ = await invite(sim)
    page = await sim.http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'id="candidates" data-live' in html and "HackerRank" in html
    assert html.index(f'id="candidate-{newer}"') < html.index(f'id="candidate-{older}"')
    invited = row(html, newer)
    view = await shown(sim, newer)
    assert view["email"] in invited and "Python Developer Screen" in invited
    assert "Invited (not started)" in invited and "none yet" in invited
    # Only the moves an invited candidate can make.
    assert [f"/candidates/{newer}/{move}" in invited for move in ("start", "submit", "expire")] == [
        True
    ] * 3
    assert f"/candidates/{newer}/report" not in invited
    assert f"/candidates/{newer}/rescore" not in invited
    assert (await sim.http.get("/openapi.json")).json()["paths"].get("/") is None


async def test_each_button_moves_the_candidate_as_the_control_api_would(sim: Sim):
    candidate, _ = await invite(sim)

    page = await press(sim, candidate, "start")
    assert (await shown(sim, candidate))["status"] == 1
    assert "Taking the test" in row(page.text, candidate)
    assert f"/candidates/{candidate}/start" not in row(page.text, candidate)

    page = await press(sim, candidate, "submit", score="72.5")
    view = await shown(sim, candidate)
    assert (view["status"], view["score"], view["attempt_endtime"] is not None) == (5, 72.5, True)
    assert f"/candidates/{candidate}/report" in row(page.text, candidate)

    page = await press(sim, candidate, "report")
    view = await shown(sim, candidate)
    assert view["status"] == 7
    done = row(page.text, candidate)
    assert "Report ready" in done and "72.5 / 100" in done
    assert "Problem Solving (Basic): 86.9%" in done  # each skill's own score

    page = await press(sim, candidate, "rescore", score=64)
    assert (await shown(sim, candidate))["score"] == 64.0
    assert "64 / 100" in row(page.text, candidate)


async def test_expire_closes_the_invite_and_leaves_no_moves(sim: Sim):
    candidate, _ = await invite(sim)
    page = await press(sim, candidate, "expire")
    view = await shown(sim, candidate)
    assert (view["status"], view["invite_valid"]) == (-1, False)
    expired = row(page.text, candidate)
    assert "Invite expired" in expired and "<form" not in expired


@pytest.mark.parametrize(
    ("move", "form", "message"),
    [
        ("report", {}, "No report is being generated for this candidate."),
        ("rescore", {"score": 50}, "Only a finished report can be rescored."),
        ("submit", {"score": 101}, "Enter a score from 0 to 100"),
        ("submit", {"score": "many"}, "Enter a score from 0 to 100"),
    ],
    ids=["report-before-submit", "rescore-before-report", "score-over-max", "score-not-a-number"],
)
async def test_a_move_the_state_does_not_allow_shows_the_message(
    sim: Sim, move: str, form: dict, message: str
):
    candidate, _ = await invite(sim)
    page = await press(sim, candidate, move, **form)
    assert 'id="error"' in page.text and message in page.text
    assert (await shown(sim, candidate))["status"] == -1


async def test_a_move_on_a_candidate_that_is_gone_shows_the_message(sim: Sim):
    page = await press(sim, "999999999", "start")
    assert "No candidate 999999999" in page.text


async def test_the_outbox_page_lists_each_email_with_its_link(sim: Sim):
    candidate, link = await invite(sim)
    view = await shown(sim, candidate)
    page = await sim.http.get("/outbox")
    assert page.status_code == 200
    assert view["email"] in page.text and f'href="{link}"' in page.text
    assert (await sim.control("GET", "/outbox", params={"to": view["email"]}))["count"] == 1


async def test_the_candidate_starts_hands_in_and_is_thanked(sim: Sim):
    candidate, link = await invite(sim, test_finish_url="https://ats.example.com/next")
    path = httpx.URL(link).raw_path.decode()
    token = httpx.URL(link).params["b"]

    page = await sim.http.get(path)
    assert page.status_code == 200 and "Python Developer Screen" in page.text
    assert 'id="start"' in page.text and (await shown(sim, candidate))["status"] == -1

    started = await sim.http.post(
        "/tests/py-dev-screen/login/start", data={"b": token}, follow_redirects=True
    )
    assert started.status_code == 200 and 'id="hand-in"' in started.text
    assert "no questions" in started.text
    assert (await shown(sim, candidate))["status"] == 1

    handed_in = await sim.http.post(
        "/tests/py-dev-screen/login/submit",
        data={"b": token, "score": "81"},
        follow_redirects=True,
    )
    assert handed_in.status_code == 200 and 'id="thank-you"' in handed_in.text
    assert 'href="https://ats.example.com/next"' in handed_in.text
    view = await shown(sim, candidate)
    assert (view["status"], view["score"]) == (5, 81.0)

    # Handing in again (a reload) never scores again.
    again = await sim.http.post(
        "/tests/py-dev-screen/login/submit",
        data={"b": token, "score": "10"},
        follow_redirects=True,
    )
    assert 'id="thank-you"' in again.text and (await shown(sim, candidate))["score"] == 81.0


async def test_the_candidate_page_refuses_a_score_out_of_range_and_shows_an_expired_invite(
    sim: Sim,
):
    candidate, link = await invite(sim)
    token = httpx.URL(link).params["b"]
    await sim.start(candidate)
    refused = await sim.http.post(
        "/tests/py-dev-screen/login/submit", data={"b": token, "score": "-1"}
    )
    assert refused.status_code == 422 and "Enter a score from 0 to 100" in refused.text
    assert (await shown(sim, candidate))["attempt_endtime"] is None

    expired, expired_link = await invite(sim)
    await sim.control("POST", f"/candidates/{expired}/expire")
    page = await sim.http.get(httpx.URL(expired_link).raw_path.decode())
    assert 'id="expired"' in page.text and 'id="start"' not in page.text


@pytest.mark.parametrize(
    "path",
    ["/tests/py-dev-screen/login?b=wrong", "/tests/py-dev-screen/login", "/tests/nope/login?b=x"],
)
async def test_an_unknown_test_link_is_a_404_page(sim: Sim, path: str):
    page = await sim.http.get(path)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'id="not-found"' in page.text and "HackerRank" in page.text


async def test_in_a_browser_a_button_moves_the_row_and_the_page_follows_the_control_api(
    sim: Sim, browser
):
    candidate, _ = await invite(sim)
    page = await browser.new_page()
    await page.goto(sim.url)
    row = page.locator(f"#candidate-{candidate}")
    await row.get_by_role("button", name="Start the attempt").click()
    await expect(row.locator(".badge")).to_have_text("Taking the test")
    # A move made elsewhere shows up without a reload: the list is a live region.
    await sim.submit(candidate, 30)
    await expect(row.locator(".badge")).to_have_text(
        "Submitted; report being generated", timeout=5_000
    )

    # A score typed and not yet sent stays put: the refresh leaves a region being typed in alone.
    typing, _ = await invite(sim)
    rescore = page.locator(f"#submit-score-{typing}")
    await expect(rescore).to_have_count(1, timeout=5_000)
    await rescore.fill("42")
    await page.locator("h1").click()  # the focus elsewhere: only the typing holds the region
    other, _ = await invite(sim)
    for _ in range(2):  # two refreshes after the new candidate, both leaving the region alone
        async with page.expect_response(
            lambda answer: answer.request.headers.get("x-live-update") == "1"
        ) as refreshed:
            pass
        await refreshed.value
    await expect(rescore).to_have_value("42")
    await expect(page.locator(f"#candidate-{other}")).to_have_count(0)
    await rescore.fill("")  # nothing typed any more, the focus elsewhere: the next refresh
    await page.locator("h1").click()  # brings the new candidate
    await expect(page.locator(f"#candidate-{other}")).to_have_count(1, timeout=5_000)
    await page.close()


HOSTILE = "<script>alert(1)</script>"


async def test_a_message_in_the_link_is_shown_as_text_never_run(sim: Sim):
    """`?error=` comes from a URL anyone can send: the page shows it escaped."""
    page = await sim.http.get("/", params={"error": HOSTILE})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and HOSTILE not in page.text
