"""The Checkr simulator's web pages over real HTTP: the home page's buttons move an invitation and
its report as the control API would, a move the state does not allow is a message on the page,
and the candidate's apply page.

The simulator and fixtures are test_checkr_sim's; each test starts from a reset.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.simulators import test_checkr_sim as checkr_sim
from tests.simulators.test_checkr_sim import AUTH, control, invite, start_report

# The same fixtures, so these tests drive a simulator set up exactly as the API tests' one.
receiver = checkr_sim.receiver
sim_url = checkr_sim.sim_url
sim = checkr_sim.sim


async def press(sim: httpx.AsyncClient, action: str, **form: str) -> httpx.Response:
    """A button's form POST, followed back to the home page it redirects to."""
    answer = await sim.post(action, data=form or None, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return await sim.get(answer.headers["location"])


async def invitation_of(sim: httpx.AsyncClient, invitation_id: str) -> dict:
    return (await sim.get(f"/v1/invitations/{invitation_id}", auth=AUTH)).json()


async def report_of(sim: httpx.AsyncClient, report_id: str) -> dict:
    return (await sim.get(f"/v1/reports/{report_id}", auth=AUTH)).json()


def row(page: httpx.Response, invitation_id: str) -> str:
    found = re.search(
        rf'<tr class="invitation" id="invitation-{invitation_id}".*?</tr>', page.text, re.DOTALL
    )
    assert found, page.text
    return found.group(0)


async def test_home_lists_invitations_newest_first_with_their_moves(sim):
    empty = await sim.get("/")
    assert empty.status_code == 200 and "No invitations yet" in empty.text
    await invite(sim, email="first@example.com")
    second = await invite(sim, email="second@example.com", package="driver_pro")

    page = await sim.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.index("second@example.com") < page.text.index("first@example.com")
    assert 'id="invitations" data-live' in page.text
    newest = row(page, second["id"])
    assert "Driver Pro" in newest and "Waiting for the candidate" in newest
    assert f"/invitations/{second['id']}/complete" in newest
    assert f"/invitations/{second['id']}/expire" in newest
    assert "/reports/" not in newest  # no report before the candidate completes
    assert "/" not in (await sim.get("/openapi.json")).json()["paths"]

    alone = {"email": "alone@example.com", "first_name": "Al", "last_name": "One"}
    (await sim.post("/v1/candidates", auth=AUTH, json=alone)).raise_for_status()
    page = await sim.get("/")
    assert "Candidates without an invitation" in page.text and "alone@example.com" in page.text


async def test_buttons_move_the_invitation_and_report_as_the_control_api(sim):
    invitation = await invite(sim)
    page = await press(sim, f"/invitations/{invitation['id']}/complete")
    report_id = (await invitation_of(sim, invitation["id"]))["report_id"]
    assert report_id and "Completed by the candidate" in row(page, invitation["id"])
    pending = row(page, invitation["id"])
    assert "In progress" in pending and "Candidate completes" not in pending
    assert f"/reports/{report_id}/suspend" in pending and "/resume" not in pending

    await press(sim, f"/reports/{report_id}/suspend")
    assert (await report_of(sim, report_id))["status"] == "suspended"
    page = await press(sim, f"/reports/{report_id}/eta", eta="2031-02-03T04:05")
    assert (await report_of(sim, report_id))["estimated_completion_time"] == "2031-02-03T04:05:00Z"
    suspended = row(page, invitation["id"])
    assert "/resume" in suspended and "/suspend" not in suspended

    await press(sim, f"/reports/{report_id}/resume")
    assert (await report_of(sim, report_id))["status"] == "pending"
    page = await press(
        sim, f"/reports/{report_id}/complete", result="consider", assessment="review"
    )
    report = await report_of(sim, report_id)
    assert (report["status"], report["result"], report["assessment"]) == (
        "complete",
        "consider",
        "review",
    )
    done = row(page, invitation["id"])
    assert "Complete: consider" in done and "Needs review" in done and "PDF report" in done
    assert f"/reports/{report_id}/dispute" in done and "/eta" not in done

    await press(sim, f"/reports/{report_id}/dispute")
    assert (await report_of(sim, report_id))["status"] == "dispute"
    await press(sim, f"/reports/{report_id}/complete", result="clear", assessment="")
    report = await report_of(sim, report_id)
    assert (report["status"], report["result"], report["assessment"]) == ("complete", "clear", None)
    types = [e["type"] for e in (await sim.get("/_sim/events")).json()]
    assert types[1:] == [
        "invitation.completed",
        "report.created",
        "report.suspended",
        "report.updated",
        "report.resumed",
        "report.completed",
        "report.disputed",
        "report.completed",
    ]


async def test_expire_and_cancel_buttons(sim):
    invitation = await invite(sim)
    page = await press(sim, f"/invitations/{invitation['id']}/expire")
    assert (await invitation_of(sim, invitation["id"]))["status"] == "expired"
    expired = row(page, invitation["id"])
    assert "Expired" in expired and "<button" not in expired

    report_id = await start_report(sim)
    await press(sim, f"/reports/{report_id}/cancel")
    assert (await report_of(sim, report_id))["status"] == "canceled"


@pytest.mark.parametrize(
    ("action", "form", "message"),
    [
        ("reports/{report}/resume", {}, "cannot resume a report that is pending"),
        ("reports/{report}/dispute", {}, "cannot dispute a report that is pending"),
        ("reports/{report}/complete", {"result": "maybe"}, "Not a result Checkr gives"),
        ("reports/{report}/eta", {"eta": "soon"}, "not a date and time"),
        ("reports/{report}/explode", {}, "No such move for a report"),
        ("reports/nope/suspend", {}, "Report not found"),
        ("invitations/{invitation}/complete", {}, "Invitation is completed"),
    ],
)
async def test_a_move_the_state_does_not_allow_is_a_message(sim, action, form, message):
    invitation = await invite(sim)
    report_id = (await control(sim, f"invitations/{invitation['id']}/complete"))["report_id"]
    path = "/" + action.format(report=report_id, invitation=invitation["id"])
    page = await press(sim, path, **form)
    assert page.status_code == 200
    assert re.search(r'<p class="error notice" role="alert" id="error">[^<]*' + message, page.text)
    assert (await report_of(sim, report_id))["status"] == "pending"


async def test_outbox_page_lists_each_email_with_its_link(sim):
    assert "No emails sent yet" in (await sim.get("/outbox")).text
    first = await invite(sim, email="first@example.com")
    second = await invite(sim, email="second@example.com")
    page = await sim.get("/outbox")
    assert page.status_code == 200 and 'id="emails" data-live' in page.text
    assert page.text.index(second["invitation_url"]) < page.text.index(first["invitation_url"])
    assert "(pending)" in page.text
    assert (await sim.get("/_sim/outbox")).json()["counts"] == {
        "first@example.com": 1,
        "second@example.com": 1,
    }


async def test_apply_page_asks_consent_then_thanks_and_then_is_closed(sim):
    invitation = await invite(sim)
    url = invitation["invitation_url"]
    page = await sim.get(url)
    assert page.status_code == 200 and '<h1 id="invitation">' in page.text
    assert "Tasker Standard" in page.text and "Hello Ada" in page.text
    assert "What happens next" in page.text and 'name="consent"' in page.text

    refused = await sim.post(url, data={})
    assert refused.status_code == 422 and "Please confirm" in refused.text
    assert (await invitation_of(sim, invitation["id"]))["status"] == "pending"

    thanks = await sim.post(url, data={"consent": "yes"})
    assert thanks.status_code == 200 and 'id="thank-you"' in thanks.text
    assert (await invitation_of(sim, invitation["id"]))["status"] == "completed"
    assert 'id="thank-you"' in (await sim.post(url, data={"consent": "yes"})).text
    closed = await sim.get(url)
    assert 'id="closed"' in closed.text and "already been completed" in closed.text

    expired = await invite(sim)
    await control(sim, f"invitations/{expired['id']}/expire")
    late = await sim.post(expired["invitation_url"], data={"consent": "yes"})
    assert 'id="closed"' in late.text and "expired" in late.text
    missing = await sim.get("/apply/no-such-token")
    assert missing.status_code == 404 and 'id="not-found"' in missing.text


async def test_a_message_in_the_link_is_shown_as_text_never_run(sim):
    """`?error=` comes from a URL anyone can send: the page shows it escaped."""
    page = await sim.get("/", params={"error": "<script>alert(1)</script>"})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
