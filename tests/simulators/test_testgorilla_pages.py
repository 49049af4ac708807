"""The TestGorilla simulator's pages for people, over real HTTP: the candidatures with their
buttons, the outbox, and the candidate's link.

Each button must move a candidature as the control API would, so the assertions read the control
API's JSON rather than the page.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.vendors.test_testgorilla_support import SimHandle, new_email, running_sim


async def _invite(sim: SimHandle, assessment: int = 101, **fields: str) -> dict[str, Any]:
    token = await sim.login()
    answer = await sim.api(
        "POST",
        f"/assessments/{assessment}/invite_candidate/",
        token,
        json={"email": new_email(), **fields},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _press(sim: SimHandle, path: str, **form: str) -> httpx.Response:
    """A button's form POST; answers with the page the redirect leads to."""
    answer = await sim.http.post(path, data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith("/?")
    home = await sim.http.get(answer.headers["location"])
    assert home.status_code == 200
    return home


async def _status(sim: SimHandle, email: str) -> dict[str, Any]:
    [candidature] = await sim.candidatures(email)
    return candidature


async def test_the_home_page_lists_candidatures_and_its_buttons_move_them() -> None:
    async with running_sim() as sim:
        empty = await sim.http.get("/")
        assert empty.status_code == 200 and "text/html" in empty.headers["content-type"]
        assert "No candidatures yet" in empty.text

        older = await _invite(sim, 103)
        invited = await _invite(sim, 101, first_name="Ada", last_name="Lovelace")
        row = f'id="candidature-{invited["id"]}"'
        home = (await sim.http.get("/")).text
        assert 'id="candidatures" data-live' in home
        assert home.index(row) < home.index(f'id="candidature-{older["id"]}"')  # newest first
        assert invited["email"] in home and "Ada Lovelace" in home
        assert "Python developer" in home and "Invited, not started" in home
        assert f'action="/candidatures/{invited["id"]}/start"' in home
        assert f'href="/testtaker/welcome/{invited["invitation_uuid"]}"' in home

        started = await _press(sim, f"/candidatures/{invited['id']}/start")
        assert (await _status(sim, invited["email"]))["status"] == "started"
        assert "Started" in started.text and "In progress" in started.text
        assert f'action="/candidatures/{invited["id"]}/start"' not in started.text
        assert f'action="/candidatures/{invited["id"]}/complete"' in started.text

        # Skills tests take the given scores; the personality test its typical result.
        completed = await _press(
            sim,
            f"/candidatures/{invited['id']}/complete",
            **{"score-7244": "90", "score-311": "70"},
        )
        done = await _status(sim, invited["email"])
        assert (done["status"], done["avg_score"], done["personality"]) == (
            "completed",
            80,
            "3-3-4-2-4_30.0-32.0-36.0-24.0-35.0",
        )
        assert "Completed" in completed.text and "Average 80.0" in completed.text
        assert f'action="/candidatures/{invited["id"]}/complete"' not in completed.text

        # Complete straight from invited, blank fields taking the defaults.
        await _press(sim, f"/candidatures/{older['id']}/complete", **{"score-233": ""})
        assert (await _status(sim, older["email"]))["avg_score"] == 75


async def test_a_wrong_action_shows_a_message_and_changes_nothing() -> None:
    async with running_sim() as sim:
        invited = await _invite(sim)
        refused = await _press(sim, f"/candidatures/{invited['id']}/complete", **{"score-311": "x"})
        assert 'role="alert"' in refused.text
        assert "Problem solving must be a number from 0 to 100" in refused.text
        await _press(sim, f"/candidatures/{invited['id']}/complete", **{"score-311": "101"})
        assert (await _status(sim, invited["email"]))["status"] == "invited"

        await sim.complete(invited["id"], {"311": 60})
        for action in ("start", "complete"):
            again = await _press(sim, f"/candidatures/{invited['id']}/{action}")
            assert "already completed this assessment" in again.text
        assert (await _status(sim, invited["email"]))["avg_score"] == 67.5  # 60 and the default

        token = await sim.login()
        deleted = await sim.api("DELETE", f"/assessments/candidature/{invited['id']}/", token)
        assert deleted.status_code == 204
        gone = await _press(sim, f"/candidatures/{invited['id']}/start")
        assert "no longer exists" in gone.text


async def test_the_outbox_page_links_each_email() -> None:
    async with running_sim() as sim:
        invited = await _invite(sim)
        page = await sim.http.get("/outbox")
        assert page.status_code == 200 and 'id="emails" data-live' in page.text
        assert invited["email"] in page.text
        assert f'href="{invited["invitation_link"]}"' in page.text
        assert (await sim.control("GET", "/outbox"))["counts"]  # the JSON outbox stays


async def test_the_candidates_link_starts_then_finishes_the_assessment() -> None:
    async with running_sim() as sim:
        invited = await _invite(sim, first_name="Grace")
        link = invited["invitation_link"]
        page = await sim.http.get(link)
        assert page.status_code == 200
        assert '<h1 id="assessment">Python developer</h1>' in page.text and "Grace" in page.text
        assert "Big 5 (OCEAN)" in page.text and "no questions" in page.text
        assert 'id="finish"' in page.text and "Finish the assessment" in page.text
        assert (await _status(sim, invited["email"]))["status"] == "started"

        refused = await sim.http.post(link, data={"score-7244": "200"})
        assert refused.status_code == 422 and 'role="alert"' in refused.text
        assert "Not finished yet: the score for Python" in refused.text
        assert (await _status(sim, invited["email"]))["status"] == "started"

        thanks = await sim.http.post(link, data={"score-7244": "95", "score-311": "85"})
        assert thanks.status_code == 200 and 'id="thank-you"' in thanks.text
        assert (await _status(sim, invited["email"]))["avg_score"] == 90
        again = await sim.http.post(link, data={"score-7244": "10"})  # the first results stay
        assert 'id="thank-you"' in again.text
        assert (await _status(sim, invited["email"]))["avg_score"] == 90
        assert 'id="completed"' in (await sim.http.get(link)).text

        # The older form of the link, and one that names no invitation.
        older = await _invite(sim, 105)
        assert (await sim.http.get(f"/testtaker/invitation/{older['invitation_uuid']}")).is_success
        assert (await sim.http.post(f"/testtaker/invitation/{older['invitation_uuid']}")).is_success
        assert (await _status(sim, older["email"]))["status"] == "completed"
        unknown = await sim.http.get("/testtaker/welcome/no-such-invitation")
        assert unknown.status_code == 404 and 'id="not-found"' in unknown.text


async def test_a_message_in_the_link_is_shown_as_text_never_run_and_names_no_email() -> None:
    """`?error=` and `?notice=` come from URLs anyone can send, and land in access logs."""
    async with running_sim() as sim:
        for name in ("error", "notice"):
            page = await sim.http.get("/", params={name: "<script>alert(1)</script>"})
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
            assert "<script>alert(1)" not in page.text
        invited = await _invite(sim)
        answer = await sim.http.post(f"/candidatures/{invited['id']}/start", follow_redirects=False)
        assert invited["email"] not in answer.headers["location"]
        assert "%40" not in answer.headers["location"]
