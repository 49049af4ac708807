"""The sandbox vendor, over real HTTP: partner API, candidate pages, webhooks, control API.

Each test runs the vendor under uvicorn on its own SQLite file, next to a small receiver app
that records the webhooks it is sent. Nothing sleeps to synchronise: `wait_for` polls for the
expected condition with a deadline.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from simulators.sandbox_vendor.app import create_app
from simulators.sandbox_vendor.catalog import PACKAGES
from simulators.sandbox_vendor.config import SandboxVendorConfig
from simulators.sandbox_vendor.webhooks import SIGNATURE_HEADER, sign
from tests.support.servers import free_port, serve

API_KEY = "test-api-key"
WEBHOOK_SECRET = "test-webhook-secret"
RETRY_DELAYS = (0.01, 0.01)
CANDIDATE = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}

T = TypeVar("T")


def wait_for(fetch: Callable[[], T], until: Callable[[T], bool] = bool, timeout: float = 10.0) -> T:
    """Call `fetch` until `until` holds for what it returns, and return that; fail after timeout."""
    deadline = time.monotonic() + timeout
    while not until(value := fetch()):
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s; last value: {value!r}")
        time.sleep(0.02)
    return value


def has_outcome(outcome: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda attempts: any(a["outcome"] == outcome for a in attempts)


class WebhookReceiver:
    """Records every webhook request; answers 500 to the first `failures` of them."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.failures = 0
        self.url = ""
        self._lock = threading.Lock()
        self.app = FastAPI()
        self.app.add_api_route("/hooks", self._receive, methods=["POST"])

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.requests.append((dict(request.headers), body))
            if self.failures:
                self.failures -= 1
                return Response(status_code=500)
        return Response(status_code=204)

    def events(self, reference: str, event_type: str | None = None) -> list[dict[str, Any]]:
        """Events received for `reference` (optionally of one type); checks every signature."""
        with self._lock:
            received = list(self.requests)
        events = []
        for headers, body in received:
            assert headers["content-type"] == "application/json"
            assert_signed(headers[SIGNATURE_HEADER.lower()], body)
            event = json.loads(body)
            if event["data"]["reference"] == reference and event_type in (None, event["type"]):
                events.append(event)
        return events


def assert_signed(header: str, body: bytes) -> None:
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert abs(time.time() - timestamp) < 60
    assert hmac.compare_digest(header, sign(WEBHOOK_SECRET, body, timestamp))


@contextlib.contextmanager
def running(config: SandboxVendorConfig) -> Iterator[httpx.Client]:
    """The vendor served at its configured public URL, and a client authenticated to its API."""
    port = urlsplit(config.public_url).port
    with (
        serve(create_app(config), port=port) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
        ) as client,
    ):
        yield client


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    with serve(receiver.app) as url:
        receiver.url = f"{url}/hooks"
        yield receiver


@pytest.fixture
def config(tmp_path: Path, receiver: WebhookReceiver) -> SandboxVendorConfig:
    return SandboxVendorConfig(
        public_url=f"http://127.0.0.1:{free_port()}",
        database_path=tmp_path / "sandbox-vendor.db",
        api_key=API_KEY,
        webhook_url=receiver.url,
        webhook_secret=WEBHOOK_SECRET,
        webhook_retry_delays=RETRY_DELAYS,
    )


@pytest.fixture
def vendor(config: SandboxVendorConfig) -> Iterator[httpx.Client]:
    with running(config) as client:
        yield client


def invite(
    vendor: httpx.Client, reference: str, package_id: str = "skills-fullstack"
) -> dict[str, Any]:
    response = vendor.post(
        "/api/invitations",
        json={"package_id": package_id, "reference": reference, "candidate": CANDIDATE},
    )
    assert response.status_code == 201, response.text
    return response.json()


def status_of(vendor: httpx.Client, invitation: dict[str, Any]) -> str:
    return vendor.get(f"/api/invitations/{invitation['id']}").json()["status"]


def deliveries(vendor: httpx.Client, reference: str) -> list[dict[str, Any]]:
    return vendor.get("/control/webhooks/deliveries", params={"reference": reference}).json()


# Partner API


def test_catalog_lists_packages_without_their_questions(vendor: httpx.Client) -> None:
    packages = {p["id"]: p for p in vendor.get("/api/packages").json()}

    assert set(packages) == {"skills-fullstack", "logic-quiz", "background-standard"}
    assert packages["skills-fullstack"] == {
        "id": "skills-fullstack",
        "name": "Full-stack developer skills",
        "description": PACKAGES["skills-fullstack"].description,
        "kind": "skills_test",
        "tests": [
            {
                "id": "python-basics",
                "name": "Python basics",
                "description": "Core Python built-ins and data types.",
            },
            {
                "id": "sql-basics",
                "name": "SQL basics",
                "description": "Filtering, joins and NULL semantics.",
            },
        ],
    }
    assert [t["id"] for t in packages["logic-quiz"]["tests"]] == ["logic"]
    assert packages["background-standard"]["kind"] == "background_check"
    assert [t["id"] for t in packages["background-standard"]["tests"]] == [
        "identity",
        "criminal-record",
    ]
    assert vendor.get("/api/packages/logic-quiz").json() == packages["logic-quiz"]
    missing = vendor.get("/api/packages/nope")
    assert (missing.status_code, missing.json()) == (404, {"error": "unknown package"})


def test_api_refuses_a_missing_or_wrong_key(vendor: httpx.Client) -> None:
    url = f"{vendor.base_url}/api/packages"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {API_KEY}"}):
        response = httpx.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "missing or invalid API key"}
        assert response.headers["www-authenticate"] == "Bearer"


def test_invalid_invitation_requests_are_refused(vendor: httpx.Client) -> None:
    invalid = vendor.post(
        "/api/invitations",
        json={"package_id": "logic-quiz", "reference": "", "candidate": CANDIDATE},
    )
    assert invalid.status_code == 422
    assert "reference" in invalid.json()["error"]

    unknown = vendor.post(
        "/api/invitations",
        json={"package_id": "nope", "reference": "order-1", "candidate": CANDIDATE},
    )
    assert (unknown.status_code, unknown.json()) == (404, {"error": "unknown package"})
    assert vendor.get("/api/invitations/inv_nope").status_code == 404


def test_inviting_twice_with_one_reference_sends_one_email(vendor: httpx.Client) -> None:
    first = invite(vendor, "order-1")
    again = vendor.post(
        "/api/invitations",
        json={"package_id": "skills-fullstack", "reference": "order-1", "candidate": CANDIDATE},
    )

    assert again.status_code == 200
    assert again.json() == first
    assert first["status"] == "invited"
    assert first["test_url"].startswith(f"{vendor.base_url}/take/")
    assert first["started_at"] is None and first["completed_at"] is None
    [email] = vendor.get("/control/outbox", params={"reference": "order-1"}).json()
    assert email["to"] == CANDIDATE["email"]
    assert email["link"] == first["test_url"]
    assert email["link"] in email["body"]
    assert email["invitation_id"] == first["id"]
    outbox_page = vendor.get("/outbox").text
    assert f'class="invitation-link" href="{first["test_url"]}"' in outbox_page
    assert 'href="/outbox"' in vendor.get("/").text


# Candidate pages


def test_opening_the_page_starts_the_invitation(
    vendor: httpx.Client, receiver: WebhookReceiver
) -> None:
    invitation = invite(vendor, "order-1")

    page = vendor.get(invitation["test_url"])

    assert page.status_code == 200
    assert 'id="submit-answers"' in page.text and 'id="decline"' in page.text
    assert 'name="q-py-len" id="q-py-len-1" value="1"' in page.text
    assert '<label for="q-py-len-1">3</label>' in page.text
    assert status_of(vendor, invitation) == "started"
    [event] = wait_for(lambda: receiver.events("order-1", "invitation.started"))
    assert event["id"].startswith("evt_")
    assert event["data"] == {
        "invitation_id": invitation["id"],
        "reference": "order-1",
        "status": "started",
    }
    # Opening the page again is not a second start.
    vendor.get(invitation["test_url"])
    wait_for(lambda: deliveries(vendor, "order-1"))
    assert len(deliveries(vendor, "order-1")) == 1


def test_submitted_answers_are_scored_per_test(
    vendor: httpx.Client, receiver: WebhookReceiver
) -> None:
    invitation = invite(vendor, "order-1")
    vendor.get(invitation["test_url"])
    python, sql = PACKAGES["skills-fullstack"].tests
    # Every Python question right; in SQL only the first right, one wrong, one unanswered.
    answers = {f"q-{q.id}": str(q.answer) for q in python.questions}
    answers[f"q-{sql.questions[0].id}"] = str(sql.questions[0].answer)
    answers[f"q-{sql.questions[1].id}"] = str(sql.questions[1].answer - 1)

    # One unanswered: the page comes back with the answers kept and a count, nothing scored.
    warned = vendor.post(invitation["test_url"], data=answers)
    assert warned.status_code == 200 and 'id="unanswered-warning"' in warned.text
    assert "1 of 6 questions are unanswered" in warned.text
    assert "5</span> of 6 answered" in warned.text
    kept = f'id="q-{sql.questions[1].id}-{sql.questions[1].answer - 1}" value'
    assert f'{kept}="{sql.questions[1].answer - 1}" checked>' in warned.text
    assert status_of(vendor, invitation) == "started"

    page = vendor.post(invitation["test_url"], data={**answers, "unanswered_ok": "yes"})

    assert page.status_code == 200
    assert '<h1 id="thank-you">Thank you, your answers were submitted</h1>' in page.text
    sql_score = 100.0 * 1 / 3
    expected = (100.0 + sql_score) / 2
    result = vendor.get(f"/api/invitations/{invitation['id']}/result").json()
    assert result == {
        "invitation_id": invitation["id"],
        "reference": "order-1",
        "package_id": "skills-fullstack",
        "status": "completed",
        "score": expected,
        "max_score": 100.0,
        "outcome": "passed",
        "summary": "Scored 67% (4 of 6 correct): passed.",
        "submitted_at": result["submitted_at"],
        "tests": [
            {
                "id": "python-basics",
                "name": "Python basics",
                "score": 100.0,
                "max_score": 100.0,
                "outcome": "passed",
            },
            {
                "id": "sql-basics",
                "name": "SQL basics",
                "score": sql_score,
                "max_score": 100.0,
                "outcome": "failed",
            },
        ],
    }
    assert (
        vendor.get(f"/api/invitations/{invitation['id']}").json()["completed_at"]
        == (result["submitted_at"])
    )
    [event] = wait_for(lambda: receiver.events("order-1", "invitation.completed"))
    assert event["data"]["status"] == "completed"

    # A second submission shows the thank-you page again and is not scored.
    again = vendor.post(invitation["test_url"], data={})
    assert 'id="thank-you"' in again.text
    assert vendor.get(f"/api/invitations/{invitation['id']}/result").json() == result
    assert 'id="submit-answers"' not in vendor.get(invitation["test_url"]).text


def test_background_check_needs_consent_and_comes_back_clear(vendor: httpx.Client) -> None:
    invitation = invite(vendor, "order-1", package_id="background-standard")
    page = vendor.get(invitation["test_url"]).text
    assert 'name="consent"' in page and "I authorise the background check" in page

    refused = vendor.post(invitation["test_url"], data={})
    assert refused.status_code == 422
    assert status_of(vendor, invitation) == "started"

    vendor.post(invitation["test_url"], data={"consent": "yes"})
    result = vendor.get(f"/api/invitations/{invitation['id']}/result").json()
    assert (result["score"], result["max_score"], result["outcome"]) == (None, None, "clear")
    assert result["summary"] == (
        "Background check clear: identity verified, no criminal record found."
    )
    assert [(t["id"], t["score"], t["outcome"]) for t in result["tests"]] == [
        ("identity", None, "clear"),
        ("criminal-record", None, "clear"),
    ]
    report = vendor.get(f"/api/invitations/{invitation['id']}/report")
    assert report.content.startswith(b"%PDF")


def test_candidate_can_decline(vendor: httpx.Client, receiver: WebhookReceiver) -> None:
    invitation = invite(vendor, "order-1")
    vendor.get(invitation["test_url"])

    # Declining asks first: nothing changes until the candidate confirms.
    asked = vendor.post(f"{invitation['test_url']}/decline")
    assert 'id="confirm-decline"' in asked.text and "cannot be taken afterwards" in asked.text
    assert status_of(vendor, invitation) == "started"

    page = vendor.post(f"{invitation['test_url']}/decline", data={"confirmed": "yes"})

    assert "You declined the assessment" in page.text
    assert status_of(vendor, invitation) == "declined"
    wait_for(lambda: receiver.events("order-1", "invitation.declined"))
    reopened = vendor.get(invitation["test_url"]).text
    assert "You declined the assessment" in reopened and "<form" not in reopened
    result = vendor.get(f"/api/invitations/{invitation['id']}/result")
    assert (result.status_code, result.json()) == (409, {"error": "not completed"})


def test_unknown_token_is_a_404_page(vendor: httpx.Client) -> None:
    page = vendor.get("/take/not-a-token")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")


def test_partner_can_cancel(vendor: httpx.Client, receiver: WebhookReceiver) -> None:
    invitation = invite(vendor, "order-1")

    cancelled = vendor.delete(f"/api/invitations/{invitation['id']}")
    again = vendor.delete(f"/api/invitations/{invitation['id']}")

    assert cancelled.status_code == again.status_code == 200
    assert cancelled.json()["status"] == again.json()["status"] == "cancelled"
    wait_for(lambda: receiver.events("order-1", "invitation.cancelled"))
    assert "This invitation was withdrawn" in vendor.get(invitation["test_url"]).text
    assert len(deliveries(vendor, "order-1")) == 1

    completed = invite(vendor, "order-2")
    vendor.post("/control/orders/order-2/complete")
    refused = vendor.delete(f"/api/invitations/{completed['id']}")
    assert (refused.status_code, refused.json()) == (409, {"error": "invitation is completed"})


def test_partner_can_have_an_unopened_invitation_emailed_again(vendor: httpx.Client) -> None:
    invitation = invite(vendor, "order-1")

    resent = vendor.post(f"/api/invitations/{invitation['id']}/resend")

    assert resent.status_code == 200 and resent.json() == invitation  # nothing about it changed
    emails = vendor.get("/control/outbox", params={"reference": "order-1"}).json()
    assert len(emails) == 2
    assert {(e["invitation_id"], e["link"], e["to"]) for e in emails} == {
        (invitation["id"], invitation["test_url"], CANDIDATE["email"])
    }
    assert deliveries(vendor, "order-1") == []  # no status moved, so no webhook

    vendor.post("/control/orders/order-1/start")
    refused = vendor.post(f"/api/invitations/{invitation['id']}/resend")
    assert (refused.status_code, refused.json()) == (
        409,
        {"error": "invitation is started: only an invitation not yet opened is sent again"},
    )
    assert len(vendor.get("/control/outbox", params={"reference": "order-1"}).json()) == 2


@pytest.mark.parametrize(
    ("close", "status"),
    [("complete", "completed"), ("decline", "declined"), ("cancel", "cancelled")],
)
def test_a_closed_invitation_is_not_emailed_again(
    vendor: httpx.Client, close: str, status: str
) -> None:
    invitation = invite(vendor, "order-1")
    if close == "cancel":
        vendor.delete(f"/api/invitations/{invitation['id']}").raise_for_status()
    else:
        vendor.post(f"/control/orders/order-1/{close}").raise_for_status()

    refused = vendor.post(f"/api/invitations/{invitation['id']}/resend")

    assert refused.status_code == 409 and refused.json()["error"].startswith(
        f"invitation is {status}:"
    )
    assert len(vendor.get("/control/outbox", params={"reference": "order-1"}).json()) == 1
    assert vendor.post("/api/invitations/inv_unknown/resend").status_code == 404


# Results and reports


def test_report_waits_for_the_configured_delay(vendor: httpx.Client) -> None:
    invitation = invite(vendor, "order-1")
    report_url = f"/api/invitations/{invitation['id']}/report"
    assert vendor.get(report_url).status_code == 409

    vendor.post("/control/report", json={"delay_seconds": 60})
    vendor.post("/control/orders/order-1/complete", json={"score": 75})
    not_ready = vendor.get(report_url)

    assert not_ready.status_code == 503
    assert 1 <= int(not_ready.headers["retry-after"]) <= 60
    assert "error" in not_ready.json()

    vendor.post("/control/report", json={"delay_seconds": 0})
    report = vendor.get(report_url)
    assert report.status_code == 200
    assert report.headers["content-type"] == "application/pdf"
    assert report.content.startswith(b"%PDF")


# Control API


def test_control_api_drives_the_life_cycle(vendor: httpx.Client) -> None:
    invitation = invite(vendor, "order-1")

    started = vendor.post("/control/orders/order-1/start").json()
    completed = vendor.post("/control/orders/order-1/complete").json()
    rescored = vendor.post("/control/orders/order-1/complete", json={"score": 10})

    assert started["status"] == "started" and started["started_at"] is not None
    assert completed["status"] == "completed" and completed["completed_at"] is not None
    assert rescored.status_code == 200
    result = vendor.get(f"/api/invitations/{invitation['id']}/result").json()
    assert (result["score"], result["outcome"]) == (80.0, "passed")
    assert result["summary"] == "Scored 80%: passed."
    declined = vendor.post("/control/orders/order-1/decline")
    assert (declined.status_code, declined.json()) == (409, {"error": "invitation is completed"})

    invite(vendor, "order-2", package_id="logic-quiz")
    failed = vendor.post("/control/orders/order-2/complete", json={"score": 59.5}).json()
    assert failed["started_at"] is not None
    assert vendor.get(f"/api/invitations/{failed['id']}/result").json()["outcome"] == "failed"
    assert vendor.post("/control/orders/order-2/complete", json={"score": 101}).status_code == 422
    missing = vendor.post("/control/orders/nope/start")
    assert (missing.status_code, missing.json()) == (404, {"error": "unknown reference"})


def test_drop_mode_generates_events_but_never_delivers_them(
    vendor: httpx.Client, receiver: WebhookReceiver
) -> None:
    invite(vendor, "order-1")
    assert vendor.get("/control/webhooks").json() == {"mode": "deliver"}
    assert vendor.post("/control/webhooks", json={"mode": "drop"}).json() == {"mode": "drop"}

    vendor.post("/control/orders/order-1/start")
    vendor.post("/control/webhooks", json={"mode": "deliver"})
    vendor.post("/control/orders/order-1/complete")

    wait_for(lambda: receiver.events("order-1", "invitation.completed"))
    assert [e["type"] for e in receiver.events("order-1")] == ["invitation.completed"]
    dropped = [d for d in deliveries(vendor, "order-1") if d["outcome"] == "dropped"]
    assert [(d["type"], d["attempt"]) for d in dropped] == [("invitation.started", None)]


def test_duplicate_mode_delivers_every_event_twice(
    vendor: httpx.Client, receiver: WebhookReceiver
) -> None:
    invite(vendor, "order-1")
    vendor.post("/control/webhooks", json={"mode": "duplicate"})

    vendor.post("/control/orders/order-1/start")

    first, second = wait_for(lambda: receiver.events("order-1"), until=lambda e: len(e) == 2)
    assert first == second
    delivered = wait_for(lambda: deliveries(vendor, "order-1"), until=lambda d: len(d) == 2)
    assert {d["delivery"] for d in delivered} == {1, 2}
    assert {d["event_id"] for d in delivered} == {first["id"]}


def test_failed_delivery_is_retried(vendor: httpx.Client, receiver: WebhookReceiver) -> None:
    invite(vendor, "order-1")
    receiver.failures = 1

    vendor.post("/control/orders/order-1/start")

    attempts = wait_for(lambda: deliveries(vendor, "order-1"), until=has_outcome("delivered"))
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in attempts] == [
        (1, 500, "retrying"),
        (2, 204, "delivered"),
    ]
    first, second = receiver.events("order-1")
    assert first == second


def test_delivery_is_given_up_after_the_last_retry(config: SandboxVendorConfig) -> None:
    unreachable = replace(config, webhook_url=f"http://127.0.0.1:{free_port()}/hooks")
    with running(unreachable) as vendor:
        invite(vendor, "order-1")
        vendor.post("/control/orders/order-1/start")

        attempts = wait_for(lambda: deliveries(vendor, "order-1"), until=has_outcome("gave_up"))

    assert [(d["attempt"], d["outcome"]) for d in attempts] == [
        (1, "retrying"),
        (2, "retrying"),
        (3, "gave_up"),
    ]
    assert all(d["status_code"] is None and d["error"] for d in attempts)


def test_state_survives_a_restart(config: SandboxVendorConfig) -> None:
    with running(config) as vendor:
        invitation = invite(vendor, "order-1")
        vendor.post("/control/webhooks", json={"mode": "duplicate"})

    with running(config) as vendor:
        assert vendor.get(f"/api/invitations/{invitation['id']}").json() == invitation
        assert len(vendor.get("/control/outbox").json()) == 1
        assert vendor.get("/control/webhooks").json() == {"mode": "duplicate"}


def test_status_reads_are_tallied_per_second_while_counting_is_on(vendor: httpx.Client) -> None:
    first, second = invite(vendor, "order-1"), invite(vendor, "order-2")
    assert (
        vendor.get(f"/api/invitations/{first['id']}").status_code == 200
    )  # not counted: counting is off
    assert vendor.post("/control/status-reads", json={"counting": True}).json() == {
        "counting": True
    }
    before = time.time()
    for invitation in (first, first, second):
        assert vendor.get(f"/api/invitations/{invitation['id']}").status_code == 200
    vendor.get(f"/api/invitations/{first['id']}/result")  # not a status read

    tally = vendor.get("/control/status-reads").json()
    assert tally["per_invitation"] == {first["id"]: 2, second["id"]: 1}
    assert sum(tally["per_second"].values()) == 3
    assert all(int(before) <= int(second) <= time.time() for second in tally["per_second"])

    assert vendor.post("/control/status-reads", json={"counting": False}).json() == {
        "counting": False
    }
    vendor.get(f"/api/invitations/{first['id']}")
    assert vendor.get("/control/status-reads").json()["per_invitation"] == {
        first["id"]: 2,
        second["id"]: 1,
    }


def test_candidates_can_complete_the_moment_they_are_invited(vendor: httpx.Client) -> None:
    assert vendor.post("/control/complete-at-once", json={"score": 65}).json() == {"score": 65}
    invitation = invite(vendor, "order-1")

    assert status_of(vendor, invitation) == "completed"
    result = vendor.get(f"/api/invitations/{invitation['id']}/result").json()
    assert {test["score"] for test in result["tests"]} == {65}
    # Each event is delivered by a task of its own, so they may be recorded in either order.
    sent = wait_for(
        lambda: sorted(
            attempt["type"] for attempt in deliveries(vendor, "order-1") if attempt["delivery"] == 1
        ),
        until=lambda types: {"invitation.started", "invitation.completed"} <= set(types),
    )
    assert sent.count("invitation.started") == sent.count("invitation.completed") == 1

    assert vendor.post("/control/complete-at-once", json={"score": None}).json() == {"score": None}
    assert status_of(vendor, invite(vendor, "order-2")) == "invited"
    assert vendor.post("/control/complete-at-once", json={"score": 101}).status_code == 422
