"""The Checkr simulator over real HTTP: API rules, life cycle, webhooks and faults.

One simulator and one webhook receiver serve the module; each test starts from a reset of
both. Nothing sleeps to synchronise: `eventually` polls for the expected condition.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime

import httpx
import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest
from fastapi import FastAPI, Request, Response

from simulators.checkr import CheckrSimConfig, create_app
from tests.support.http import client as http_client
from tests.support.servers import serve
from tests.support.waiting import eventually

API_KEY = "sim-test-api-key"
AUTH = (API_KEY, "")
FAST_RETRIES = (0.05, 0.05, 0.05)
WINDOW = 30.0


class HookReceiver:
    """Where the simulator sends webhooks: keeps each request;
    answers 500 to the first `fail_next`."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        self.url = ""
        self._lock = threading.Lock()
        self.app = FastAPI()
        self.app.add_api_route("/hook", self._receive, methods=["POST"])

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append((dict(request.headers), body))
            failing, self.fail_next = self.fail_next > 0, max(0, self.fail_next - 1)
        return Response(status_code=500 if failing else 200)

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.fail_next = 0

    def events(self, event_type: str | None = None) -> list[dict]:
        with self._lock:
            bodies = [body for _, body in self.received]
        return [e for e in map(json.loads, bodies) if event_type in (None, e["type"])]

    async def has(self, count: int) -> list[dict]:
        """The events received once there are `count` of them, else nothing:
        a probe for `eventually`."""
        events = self.events()
        return events if len(events) == count else []

    def requests(self) -> list[tuple[dict[str, str], bytes]]:
        with self._lock:
            return list(self.received)


@pytest.fixture(scope="module")
def receiver():
    hooks = HookReceiver()
    with serve(hooks.app) as url:
        hooks.url = f"{url}/hook"
        yield hooks


@pytest.fixture(scope="module")
def sim_url():
    config = CheckrSimConfig(
        api_key=API_KEY, webhook_retry_delays=FAST_RETRIES, rate_window_seconds=WINDOW
    )
    with serve(create_app(config)) as url:
        yield url


@pytest.fixture
async def sim(sim_url, receiver):
    async with http_client(base_url=sim_url, timeout=10) as client:
        (await client.post("/_sim/reset")).raise_for_status()
        receiver.clear()
        yield client


async def listen(sim: httpx.AsyncClient, receiver: HookReceiver) -> None:
    (
        await sim.post("/v1/webhooks", auth=AUTH, json={"webhook_url": receiver.url})
    ).raise_for_status()


async def invite(
    sim: httpx.AsyncClient, email: str = "ada@example.com", package: str = "tasker_standard"
) -> dict:
    candidate = (
        (
            await sim.post(
                "/v1/candidates",
                auth=AUTH,
                json={"email": email, "first_name": "Ada", "last_name": "Lovelace"},
            )
        )
        .raise_for_status()
        .json()
    )
    body = {
        "candidate_id": candidate["id"],
        "package": package,
        "work_locations": [{"country": "US", "state": "CA"}],
    }
    return (await sim.post("/v1/invitations", auth=AUTH, json=body)).raise_for_status().json()


async def start_report(sim: httpx.AsyncClient) -> str:
    invitation = await invite(sim)
    return (
        (await sim.post(f"/_sim/invitations/{invitation['id']}/complete"))
        .raise_for_status()
        .json()["report_id"]
    )


async def control(sim: httpx.AsyncClient, path: str, **body) -> dict:
    return (await sim.post(f"/_sim/{path}", json=body or None)).raise_for_status().json()


async def set_faults(sim: httpx.AsyncClient, **faults) -> None:
    (await sim.put("/_sim/faults", json=faults)).raise_for_status()


async def event_types(sim: httpx.AsyncClient) -> list[str]:
    return [event["type"] for event in (await sim.get("/_sim/events")).json()]


# API rules


async def test_api_key_is_the_basic_user_name(sim):
    for auth in (None, ("wrong-key", ""), ("", API_KEY)):
        response = await sim.get("/v1/packages", auth=auth)
        assert response.status_code == 401
        assert response.json() == {"error": "Bad authentication error"}
        assert response.headers["X-Request-Id"]
    response = await sim.get("/v1/packages", auth=AUTH)
    assert response.status_code == 200
    assert {p["slug"] for p in response.json()["data"]} == {
        "tasker_standard",
        "driver_pro",
        "essential_criminal",
    }
    assert (
        response.headers["X-Request-Id"] and (await sim.get("/_sim/faults")).headers["X-Request-Id"]
    )


async def test_bodies_are_checked_against_the_spec(sim):
    candidate = (
        await sim.post("/v1/candidates", auth=AUTH, json={"email": "a@example.com"})
    ).json()
    cases = [
        ("/v1/candidates", {"first_name": "Ada"}, "'email' is a required property"),
        ("/v1/invitations", {"candidate_id": candidate["id"]}, "'package' is a required property"),
        (
            "/v1/invitations",
            {
                "candidate_id": candidate["id"],
                "package": "driver_pro",
                "work_locations": [{"country": "US"}],
            },
            "'state' is a required property",
        ),
        ("/v1/webhooks", {"include_object": "yes"}, "'webhook_url' is a required property"),
    ]
    for path, body, problem in cases:
        response = await sim.post(path, auth=AUTH, json=body)
        assert response.status_code == 400, (path, body)
        assert problem in response.json()["error"]
    not_json = await sim.post(
        "/v1/candidates",
        auth=AUTH,
        content=b"email=a@example.com",
        headers={"Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and "error" in not_json.json()
    unknown = await sim.post(
        "/v1/invitations",
        auth=AUTH,
        json={"candidate_id": candidate["id"], "package": "no_such_package"},
    )
    assert unknown.status_code == 404 and unknown.json() == {"error": "Package not found"}


async def test_idempotency_key_replays_the_first_success_for_24_hours(sim):
    headers = {"Idempotency-Key": "candidate-key-1"}
    bad = await sim.post("/v1/candidates", auth=AUTH, json={"first_name": "Ada"}, headers=headers)
    assert bad.status_code == 400  # failures are not saved: the key is still free
    first = await sim.post(
        "/v1/candidates", auth=AUTH, json={"email": "a@example.com"}, headers=headers
    )
    again = await sim.post(
        "/v1/candidates", auth=AUTH, json={"email": "other@example.com"}, headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert len((await sim.get("/_sim/candidates")).json()) == 1

    await control(sim, "clock/advance", seconds=24 * 3600 + 1)
    later = await sim.post(
        "/v1/candidates", auth=AUTH, json={"email": "a@example.com"}, headers=headers
    )
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert len((await sim.get("/_sim/candidates")).json()) == 2


async def test_a_duplicate_arriving_while_the_first_is_served_gets_409(sim):
    await set_faults(sim, slow_seconds=0.5)
    headers = {"Idempotency-Key": "concurrent-key"}
    answers = await asyncio.gather(
        *(
            sim.post("/v1/candidates", auth=AUTH, json={"email": "a@example.com"}, headers=headers)
            for _ in range(2)
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    created = next(a for a in answers if a.status_code == 201)
    await set_faults(sim)
    replay = await sim.post(
        "/v1/candidates", auth=AUTH, json={"email": "a@example.com"}, headers=headers
    )
    assert replay.status_code == 201 and replay.content == created.content


async def test_at_most_two_webhook_urls(sim):
    for n in (1, 2):
        assert (
            await sim.post(
                "/v1/webhooks", auth=AUTH, json={"webhook_url": f"https://hooks.example.com/{n}"}
            )
        ).status_code == 201
    taken = await sim.post(
        "/v1/webhooks", auth=AUTH, json={"webhook_url": "https://hooks.example.com/1"}
    )
    third = await sim.post(
        "/v1/webhooks", auth=AUTH, json={"webhook_url": "https://hooks.example.com/3"}
    )
    assert taken.status_code == third.status_code == 400
    assert third.json() == {"error": "Allowed webhook API limit exceeded."}
    listed = (await sim.get("/v1/webhooks", auth=AUTH)).json()
    assert [hook["webhook_url"] for hook in listed["data"]] == [
        "https://hooks.example.com/1",
        "https://hooks.example.com/2",
    ]


async def test_rate_limit_answers_429_with_an_iso_reset():
    config = CheckrSimConfig(api_key=API_KEY, rate_limit=2, rate_window_seconds=WINDOW)
    with serve(create_app(config)) as url:
        async with http_client(base_url=url) as client:
            answers = [await client.get("/v1/packages", auth=AUTH) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-Ratelimit-Remaining"] for a in answers] == ["1", "0", "0"]
    limited = answers[-1]
    assert limited.headers["X-Ratelimit-Limit"] == "2"
    reset = limited.headers["X-Ratelimit-Reset"]
    assert reset.endswith("Z") and len(reset) == len("2018-02-02T16:39:00Z")
    assert 0 < (datetime.fromisoformat(reset) - datetime.now(UTC)).total_seconds() <= WINDOW + 1


async def test_fault_knobs_for_429_5xx(sim):
    await set_faults(sim, rate_limit_next=1, server_error_next=1, server_error_status=502)
    statuses = [(await sim.get("/v1/packages", auth=AUTH)).status_code for _ in range(3)]
    assert statuses == [429, 502, 200]


# Life cycle


async def test_invitation_email_expiry_and_deletion(sim):
    first = await invite(sim, email="first@example.com")
    assert (
        first["status"] == "pending" and first["report_id"] is None and first["deleted_at"] is None
    )
    second = await invite(sim, email="second@example.com")
    outbox = (await sim.get("/_sim/outbox")).json()
    assert outbox["counts"] == {"first@example.com": 1, "second@example.com": 1}
    assert outbox["emails"][0]["link"] == first["invitation_url"]

    await control(sim, "clock/advance", seconds=7 * 86400)
    expired = (await sim.get(f"/v1/invitations/{first['id']}", auth=AUTH)).json()
    assert expired["status"] == "expired"
    assert (await sim.delete(f"/v1/invitations/{first['id']}", auth=AUTH)).status_code == 400

    await sim.post("/_sim/reset")  # a fresh clock
    second = await invite(sim)
    deleted = (await sim.delete(f"/v1/invitations/{second['id']}", auth=AUTH)).json()
    assert deleted["deleted_at"] and deleted["status"] == "pending"
    assert (await sim.get(f"/v1/invitations/{second['id']}", auth=AUTH)).status_code == 404
    assert (
        await sim.get(
            f"/v1/invitations/{second['id']}", auth=AUTH, params={"include_deleted": "true"}
        )
    ).json()["deleted_at"]
    assert await event_types(sim) == ["invitation.created", "invitation.deleted"]


async def test_candidate_page_completes_the_invitation(sim):
    invitation = await invite(sim)
    page = await sim.get(invitation["invitation_url"])
    assert page.status_code == 200 and "Tasker Standard" in page.text
    await sim.post(invitation["invitation_url"], data={"consent": "on"})
    completed = (await sim.get(f"/v1/invitations/{invitation['id']}", auth=AUTH)).json()
    assert completed["status"] == "completed" and completed["report_id"]


async def test_dispute_reopens_a_completed_report(sim):
    report_id = await start_report(sim)
    await control(sim, f"reports/{report_id}/suspend")
    await control(sim, f"reports/{report_id}/resume")
    moved = await control(
        sim, f"reports/{report_id}/eta", estimated_completion_time="2031-05-06T07:08:09Z"
    )
    assert moved["estimated_completion_time"] == "2031-05-06T07:08:09Z"
    first = await control(sim, f"reports/{report_id}/complete", result="clear")
    disputed = await control(sim, f"reports/{report_id}/dispute")
    assert disputed["status"] == "dispute"
    second = await control(
        sim, f"reports/{report_id}/complete", result="consider", assessment="review"
    )

    assert await event_types(sim) == [
        "invitation.created",
        "invitation.completed",
        "report.created",
        "report.suspended",
        "report.resumed",
        "report.updated",
        "report.completed",
        "report.disputed",
        "report.completed",
    ]
    assert (first["result"], second["result"], second["assessment"]) == (
        "clear",
        "consider",
        "review",
    )
    assert second["completed_at"] > first["completed_at"] and second["revised_at"]
    assert (
        await sim.post(f"/_sim/reports/{report_id}/cancel")
    ).status_code == 409  # complete: too late
    completions = (await sim.get("/_sim/events", params={"type": "report.completed"})).json()
    assert [e["data"]["object"]["result"] for e in completions] == ["clear", "consider"]


async def test_document_links_expire_after_15_minutes(sim):
    report_id = await start_report(sim)
    await control(sim, f"reports/{report_id}/complete")
    report = (
        await sim.get(f"/v1/reports/{report_id}", auth=AUTH, params={"include": "documents"})
    ).json()
    [document] = report["documents"]
    assert document["type"] == "pdf_report" and report["document_ids"] == [document["id"]]
    pdf = await sim.get(document["download_uri"])
    assert (
        pdf.status_code == 200
        and pdf.content.startswith(b"%PDF")
        and len(pdf.content) == document["filesize"]
    )
    # The report names the candidate as Checkr has them.
    text = pdfium.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
    assert "Ada Lovelace" in text and "Candidate on file" not in text

    await control(sim, "clock/advance", seconds=15 * 60 + 1)
    assert (await sim.get(document["download_uri"])).status_code == 403
    fresh = (await sim.get(f"/v1/documents/{document['id']}", auth=AUTH)).json()
    assert (await sim.get(fresh["download_uri"])).status_code == 200
    forged = fresh["download_uri"].replace("signature=", "signature=0")
    assert (await sim.get(forged)).status_code == 403


# Webhooks


async def test_events_are_signed_with_the_api_key(sim, receiver):
    await listen(sim, receiver)
    invitation = await invite(sim)
    await eventually(lambda: receiver.has(1), timeout=5, interval=0.02, what="invitation.created")
    [(headers, body)] = receiver.requests()
    assert (
        headers["x-checkr-signature"]
        == hmac.new(API_KEY.encode(), body, hashlib.sha256).hexdigest()
    )
    assert headers["user-agent"].startswith("Checkr-Webhook/")
    event = json.loads(body)
    assert list(event) == [
        "id",
        "object",
        "type",
        "created_at",
        "webhook_url",
        "data",
        "account_id",
    ]
    assert event["object"] == "event" and event["webhook_url"] == receiver.url
    assert event["data"]["object"]["id"] == invitation["id"]
    assert body == json.dumps(event, separators=(",", ":")).encode()  # compact JSON, as signed


async def test_failed_deliveries_are_retried_then_given_up(sim, receiver):
    await listen(sim, receiver)
    receiver.fail_next = 2
    await invite(sim)

    async def attempts(outcome: str, count: int) -> list[dict]:
        logged = (await sim.get("/_sim/deliveries")).json()
        return logged if sum(a["outcome"] == outcome for a in logged) == count else []

    logged = await eventually(
        lambda: attempts("delivered", 1),
        timeout=5,
        interval=0.02,
        what="a delivery after two failures",
    )
    assert [(a["attempt"], a["outcome"]) for a in logged] == [
        (1, "retrying"),
        (2, "retrying"),
        (3, "delivered"),
    ]
    assert len(receiver.events()) == 3 and len({e["id"] for e in receiver.events()}) == 1

    receiver.fail_next = 100
    invitation = await invite(sim, email="b@example.com")
    await sim.delete(f"/v1/invitations/{invitation['id']}", auth=AUTH)
    logged = await eventually(
        lambda: attempts("gave_up", 2), timeout=5, interval=0.02, what="two deliveries given up"
    )
    assert {a["attempt"] for a in logged if a["outcome"] == "gave_up"} == {len(FAST_RETRIES) + 1}


async def test_duplicate_fault_sends_each_event_twice(sim, receiver):
    await listen(sim, receiver)
    await set_faults(sim, duplicate=True)
    await invite(sim)
    received = await eventually(
        lambda: receiver.has(2), timeout=5, interval=0.02, what="two copies"
    )
    assert received[0] == received[1]


async def test_hold_fault_releases_events_newest_first(sim, receiver):
    await listen(sim, receiver)
    await set_faults(sim, hold=True)
    await start_report(sim)
    generated = await event_types(sim)
    assert receiver.events() == []
    assert (await control(sim, "webhooks/release")) == {"released": 3}
    await eventually(lambda: receiver.has(3), timeout=5, interval=0.02, what="held events")
    assert [e["type"] for e in receiver.events()] == generated[::-1]


async def test_drop_and_delay_faults(sim, receiver):
    await listen(sim, receiver)
    await set_faults(sim, drop=True)
    lost = await invite(sim)
    await set_faults(sim, delay_seconds=0.3)
    sent_at = time.monotonic()
    await sim.post(f"/_sim/invitations/{lost['id']}/complete")
    await eventually(lambda: receiver.has(2), timeout=5, interval=0.02, what="late events")
    assert time.monotonic() - sent_at >= 0.3
    assert {e["type"] for e in receiver.events()} == {"invitation.completed", "report.created"}
    dropped = (await sim.get("/_sim/deliveries", params={"type": "invitation.created"})).json()
    assert [a["outcome"] for a in dropped] == ["dropped"]


# State on disk


def _path(url: str) -> str:
    """A link's path and query, to follow it on a restarted simulator listening elsewhere."""
    return httpx.URL(url).raw_path.decode()


async def test_state_outlives_a_restart_of_the_simulator(tmp_path, receiver):
    """Its state is on disk: what a partner created
    before a restart is known after it, over HTTP."""
    receiver.clear()
    config = CheckrSimConfig(
        api_key=API_KEY, webhook_retry_delays=FAST_RETRIES, database_path=tmp_path / "checkr.db"
    )
    with serve(create_app(config)) as url:
        async with http_client(base_url=url, timeout=10) as sim:
            await listen(sim, receiver)
            pending = await invite(sim, email="grace@example.com")
            cancelled = await invite(sim, email="alan@example.com")
            (await sim.delete(f"/v1/invitations/{cancelled['id']}", auth=AUTH)).raise_for_status()
            pending_report = await start_report(sim)
            completed = await invite(sim, email="ada@example.com", package="driver_pro")
            finished_report = (await control(sim, f"invitations/{completed['id']}/complete"))[
                "report_id"
            ]
            await control(sim, f"reports/{finished_report}/complete", result="consider")
            clock = await control(sim, "clock/advance", seconds=3600)
            keyed = (
                await sim.post(
                    "/v1/candidates",
                    auth=AUTH,
                    json={"email": "keyed@example.com"},
                    headers={"Idempotency-Key": "k-1"},
                )
            ).json()
            reports = {
                report_id: (
                    await sim.get(
                        f"/v1/reports/{report_id}", auth=AUTH, params={"include": "documents"}
                    )
                ).json()
                for report_id in (pending_report, finished_report)
            }
            link = reports[finished_report]["documents"][0]["download_uri"]
            pdf = (await sim.get(link)).raise_for_status().content
            before = {
                "candidate": (
                    await sim.get(f"/v1/candidates/{pending['candidate_id']}", auth=AUTH)
                ).json(),
                "invitation": (await sim.get(f"/v1/invitations/{pending['id']}", auth=AUTH)).json(),
                "events": (await sim.get("/_sim/events")).json(),
                "outbox": (await sim.get("/_sim/outbox")).json(),
                "candidates": (await sim.get("/_sim/candidates")).json(),
            }
            await eventually(
                lambda: receiver.has(len(before["events"])),
                timeout=5,
                interval=0.02,
                what="every event delivered",
            )

    receiver.clear()
    with serve(create_app(config)) as url:
        async with http_client(base_url=url, timeout=10) as sim:
            invitation = await sim.get(f"/v1/invitations/{pending['id']}", auth=AUTH)
            assert invitation.status_code == 200, invitation.text
            # All but absolute links, which name the new server's address.
            assert {**invitation.json(), "invitation_url": None} == {
                **before["invitation"],
                "invitation_url": None,
            }
            assert (
                await sim.get(f"/v1/candidates/{pending['candidate_id']}", auth=AUTH)
            ).json() == before["candidate"]
            page = await sim.get(_path(pending["invitation_url"]))
            assert (
                page.status_code == 200 and 'id="invitation"' in page.text
            )  # the emailed link still opens the form
            gone = await sim.get(f"/v1/invitations/{cancelled['id']}", auth=AUTH)
            assert (gone.status_code, gone.json()) == (404, {"error": "Invitation not found"})
            deleted = (
                await sim.get(
                    f"/v1/invitations/{cancelled['id']}",
                    auth=AUTH,
                    params={"include_deleted": "true"},
                )
            ).json()
            assert deleted["deleted_at"] and deleted["status"] == "pending"
            for report_id, was in reports.items():
                now = (
                    await sim.get(
                        f"/v1/reports/{report_id}", auth=AUTH, params={"include": "documents"}
                    )
                ).json()
                assert [{**d, "download_uri": None} for d in now.pop("documents")] == [
                    {**d, "download_uri": None} for d in was["documents"]
                ]
                assert now == {k: v for k, v in was.items() if k != "documents"}
            assert (reports[finished_report]["status"], reports[finished_report]["result"]) == (
                "complete",
                "consider",
            )
            old_link = await sim.get(_path(link))  # a download link handed out before the restart
            assert (old_link.status_code, old_link.content) == (200, pdf)
            assert (await sim.get("/_sim/events")).json() == before["events"]
            assert (await sim.get("/_sim/outbox")).json() == before["outbox"]
            assert (await control(sim, "clock/advance", seconds=0))["now"] >= clock["now"]
            # A partner's retry with the same key within 24
            # hours gets the first answer, no second candidate.
            retried = await sim.post(
                "/v1/candidates",
                auth=AUTH,
                json={"email": "keyed@example.com"},
                headers={"Idempotency-Key": "k-1"},
            )
            assert (retried.status_code, retried.json()) == (201, keyed)
            assert (await sim.get("/_sim/candidates")).json() == before["candidates"]
            hooks = (await sim.get("/v1/webhooks", auth=AUTH)).json()["data"]
            assert [hook["webhook_url"] for hook in hooks] == [receiver.url]

            # A report pending at the stop completes after the start,
            # and its event reaches the hook.
            await control(sim, f"reports/{pending_report}/complete")
            [event] = await eventually(
                lambda: receiver.has(1), timeout=5, interval=0.02, what="report.completed"
            )
            assert (event["type"], event["data"]["object"]["id"]) == (
                "report.completed",
                pending_report,
            )
            again = await invite(sim, email="grace@example.com", package="essential_criminal")
            assert again["id"] not in {pending["id"], cancelled["id"], completed["id"]}
            assert (await sim.get("/_sim/outbox")).json()["counts"]["grace@example.com"] == 2


async def test_deliveries_waiting_to_retry_at_a_stop_are_sent_after_the_start(tmp_path, receiver):
    """A webhook Checkr has not delivered yet is not lost with the simulator's process."""
    receiver.clear()
    config = CheckrSimConfig(
        api_key=API_KEY, webhook_retry_delays=(3600.0,), database_path=tmp_path / "checkr.db"
    )
    with serve(create_app(config)) as url:
        async with http_client(base_url=url, timeout=10) as sim:
            await listen(sim, receiver)
            receiver.fail_next = 1
            invitation = await invite(sim)

            async def retrying() -> list[dict]:
                return [
                    a
                    for a in (await sim.get("/_sim/deliveries")).json()
                    if a["outcome"] == "retrying"
                ]

            [attempt] = await eventually(
                retrying, timeout=5, interval=0.02, what="a failed first attempt"
            )

    with serve(create_app(config)):
        failed, resent = await eventually(
            lambda: receiver.has(2), timeout=5, interval=0.02, what="the delivery resumed"
        )
    assert failed == resent  # the same event, id and all
    assert (resent["id"], resent["type"], resent["data"]["object"]["id"]) == (
        attempt["event_id"],
        "invitation.created",
        invitation["id"],
    )


# Variants: the documented forms a real Checkr account may take


async def variants(sim: httpx.AsyncClient, **chosen) -> None:
    (await sim.put("/_sim/variants", json=chosen)).raise_for_status()


async def test_names_outside_checkrs_supported_characters_are_refused(sim):
    async def create(**names) -> httpx.Response:
        return await sim.post("/v1/candidates", auth=AUTH, json={"email": "a@example.com"} | names)

    for names in (
        {"first_name": "Łukasz"},
        {"last_name": "王"},
        {"last_name": "O"},
        {"middle_name": "Anne\n"},
    ):
        refused = await create(**names)
        assert refused.status_code == 400 and next(iter(names)) in refused.json()["error"], names
    for names in (
        {"first_name": "Zoë-Anne", "last_name": "O'Brien Müller"},
        {"last_name": "Li"},
        {},
    ):
        assert (await create(**names)).status_code == 201, names


async def test_an_account_with_hierarchy_nodes_needs_a_node_and_a_work_location(sim):
    candidate = (
        await sim.post("/v1/candidates", auth=AUTH, json={"email": "a@example.com"})
    ).json()
    plain = {"candidate_id": candidate["id"], "package": "tasker_standard"}
    assert (
        await sim.post("/v1/invitations", auth=AUTH, json=plain)
    ).status_code == 201  # no nodes: neither needed
    await variants(sim, nodes=["north-region"])
    located = plain | {"work_locations": [{"country": "US", "state": "CA"}]}
    cases = [
        (plain | {"node": "north-region"}, 400, "work_locations"),
        (located, 400, "node"),
        (located | {"node": "south"}, 404, "Node"),
    ]
    for body, status, named in cases:
        refused = await sim.post("/v1/invitations", auth=AUTH, json=body)
        assert refused.status_code == status and named in refused.json()["error"], body
    assert (
        await sim.post("/v1/invitations", auth=AUTH, json=located | {"node": "north-region"})
    ).status_code == 201
    await sim.post("/_sim/reset")
    assert (await sim.get("/_sim/variants")).json()["nodes"] == []


async def test_a_webhook_without_include_object_names_only_the_object(sim, receiver):
    (
        await sim.post(
            "/v1/webhooks", auth=AUTH, json={"webhook_url": receiver.url, "include_object": False}
        )
    ).raise_for_status()
    await start_report(sim)
    await eventually(lambda: receiver.has(3), timeout=5, interval=0.02, what="three events")
    for headers, body in receiver.requests():
        event = json.loads(body)
        obj = event["data"]["object"]
        assert (
            set(obj) == {"id", "object", "uri"}
            and obj["uri"] == f"/v1/{obj['object']}s/{obj['id']}"
        )
        assert (
            headers["x-checkr-signature"]
            == hmac.new(API_KEY.encode(), body, hashlib.sha256).hexdigest()
        )
    assert all(
        "candidate_id" in e["data"]["object"] for e in (await sim.get("/_sim/events")).json()
    )  # kept whole


async def test_reports_embed_lists_as_arrays_or_list_objects(sim):
    report_id = await start_report(sim)
    await control(sim, f"reports/{report_id}/complete")
    include = {"include": "county_criminal_searches,documents"}
    bare = (await sim.get(f"/v1/reports/{report_id}", auth=AUTH, params=include)).json()
    assert isinstance(bare["county_criminal_searches"], list) and isinstance(
        bare["documents"], list
    )
    await variants(sim, embedded_lists="list_object")
    listed = (await sim.get(f"/v1/reports/{report_id}", auth=AUTH, params=include)).json()
    for name in ("county_criminal_searches", "documents"):
        assert listed[name]["object"] == "list" and [i["id"] for i in listed[name]["data"]] == [
            i["id"] for i in bare[name]
        ]


async def test_a_revision_may_move_revised_at_alone(sim):
    await variants(sim, revision_marks="revised_at_only")
    report_id = await start_report(sim)
    first = await control(sim, f"reports/{report_id}/complete")
    assert first["revised_at"] is None
    await control(sim, f"reports/{report_id}/dispute")
    second = await control(sim, f"reports/{report_id}/complete", result="consider")
    assert (
        second["completed_at"] == first["completed_at"]
        and second["revised_at"] > first["completed_at"]
    )
    await control(sim, f"reports/{report_id}/dispute")
    third = await control(sim, f"reports/{report_id}/complete")
    assert (
        third["revised_at"] > second["revised_at"]
        and third["completed_at"] == first["completed_at"]
    )
