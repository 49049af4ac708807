"""The reference vendor (examples/reference_vendor) against a stub hub, both on real sockets.

The stub plays the hub's side of Vendor API v1 (docs/vendor-api.md): it takes the catalog, PATCHes
and reports, records each request, and answers with what a test scripts. Webhooks to the vendor
are signed with `standardwebhooks`, as the hub signs them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from standardwebhooks import Webhook

from examples.reference_vendor import ReferenceVendorConfig, create_app

SECRET = "whsec_" + base64.b64encode(b"reference-vendor-test-secret-32b").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"not-the-secret-the-vendor-knows!").decode()
API_KEY = "vk_reference_test_key"
EMAIL = "ada.lovelace@example.com"


# --- Servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 5.0) -> Any:
    """Polls `condition` until it is truthy; returns it, or fails naming `what`."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
    return value


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


@contextlib.contextmanager
def serve(app: FastAPI, port: int) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: port_open(port) or not thread.is_alive(), f"port {port}")
        assert thread.is_alive(), "the server stopped at its start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class StubHub:
    """Just enough of /vendor/v1: PUT packages, PATCH orders/{id}, PUT orders/{id}/report."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        # Answers to give before the default one, per "packages", "report" or "order".
        self.scripts: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self.app = FastAPI()

        @self.app.api_route("/vendor/v1/{path:path}", methods=["GET", "PUT", "PATCH"])
        async def vendor_api(path: str, request: Request) -> Response:
            body = await request.body()
            self.received.append(Received(request.method, "/" + path, dict(request.headers), body))
            kind = (
                "packages"
                if path == "packages"
                else "report"
                if path.endswith("/report")
                else "order"
            )
            if self.scripts.get(kind):
                status, payload, headers = self.scripts[kind].pop(0)
                return JSONResponse(payload, status_code=status, headers=headers)
            if kind == "report":
                return Response(status_code=204)
            if kind == "order":
                return JSONResponse({"id": path.split("/")[1], **json.loads(body)})
            return JSONResponse(json.loads(body))

    def script(self, kind: str, *answers: tuple[int, dict[str, Any], dict[str, str]]) -> None:
        self.scripts[kind] = list(answers)

    def calls(self, order_id: str) -> list[Received]:
        return [r for r in self.received if r.path.startswith(f"/orders/{order_id}")]

    def patches(self, order_id: str) -> list[Received]:
        return [r for r in self.calls(order_id) if r.method == "PATCH"]


def error(status: int, code: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    return status, {"message": code, "errors": [{"code": code, "message": code}]}, {}


def vendor_config(
    port: int, hub_url: str, database: Path, **overrides: Any
) -> ReferenceVendorConfig:
    settings: dict[str, Any] = {
        "retry_base_delay": 0.02,
        "retry_max_delay": 0.1,
        "retry_attempts": 4,
        "redeliver_interval": 60.0,
    } | overrides
    return ReferenceVendorConfig(
        public_url=f"http://127.0.0.1:{port}",
        hub_url=hub_url,
        api_key=API_KEY,
        webhook_secret=SECRET,
        database_path=database,
        **settings,
    )


@contextlib.contextmanager
def vendor_at(hub_url: str, database: Path, **overrides: Any) -> Iterator[str]:
    port = free_port()
    with serve(create_app(vendor_config(port, hub_url, database, **overrides)), port) as url:
        yield url


@pytest.fixture(scope="module")
def hub() -> Iterator[tuple[StubHub, str]]:
    stub = StubHub()
    with serve(stub.app, free_port()) as url:
        yield stub, url


@pytest.fixture(scope="module")
def vendor(hub: tuple[StubHub, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with vendor_at(hub[1], tmp_path_factory.mktemp("vendor") / "vendor.db") as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_scripts(hub: tuple[StubHub, str]) -> None:
    hub[0].scripts.clear()


@pytest.fixture
def stub(hub: tuple[StubHub, str]) -> StubHub:
    return hub[0]


# --- Webhooks, as the hub sends them -----------------------------------------------------------


def an_order(package_id: str = "ref-python", **fields: Any) -> dict[str, Any]:
    return {
        "id": "ord_" + uuid.uuid4().hex[:12],
        "status": "PENDING",
        "package": {"id": package_id, "name": package_id},
        "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email": EMAIL},
        "job": {"id": "job-1", "title": "Backend engineer"},
        "company": {"id": "company-1"},
        "inline": False,
        "return_url": None,
        "deadline": "2026-12-14T10:00:00Z",
        "test_url": None,
        "vendor_reference": None,
        "revision": 0,
        "closed": None,
    } | fields


def send(
    vendor_url: str,
    kind: str,
    order: dict[str, Any],
    *,
    webhook_id: str | None = None,
    secret: str = SECRET,
    at: datetime | None = None,
    **data: Any,
) -> httpx.Response:
    body = json.dumps(
        {"type": kind, "timestamp": "2026-01-01T00:00:00Z", "data": {"order": order, **data}}
    )
    webhook_id = webhook_id or "msg_" + uuid.uuid4().hex
    at = at or datetime.now(UTC)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
        "content-type": "application/json",
    }
    return httpx.post(f"{vendor_url}/webhooks/hub", content=body, headers=headers)


def stored(vendor_url: str, order_id: str) -> dict[str, Any] | None:
    orders = httpx.get(f"{vendor_url}/_sim/orders").json()
    return next((o for o in orders if o["id"] == order_id), None)


def created(vendor_url: str, **fields: Any) -> dict[str, Any]:
    order = an_order(**fields)
    assert send(vendor_url, "order.created", order).status_code == 200
    return order


def assert_valid_pdf(pdf: bytes) -> None:
    """A PDF whose cross-reference table points at each of its objects."""
    assert pdf.startswith(b"%PDF-1.") and pdf.endswith(b"%%EOF\n")
    xref_at = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    table = pdf[xref_at:].split(b"\n")
    assert table[0] == b"xref"
    for number in range(1, int(table[1].split()[1])):
        offset = int(table[2 + number][:10])
        assert pdf[offset:].startswith(b"%d 0 obj" % number)


# --- Tests -------------------------------------------------------------------------------------


def test_the_catalog_is_published_once_the_hub_starts_after_the_vendor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub_port = free_port()
    caplog.set_level(logging.INFO, logger="reference_vendor")
    with vendor_at(f"http://127.0.0.1:{hub_port}", tmp_path / "vendor.db") as vendor_url:
        assert httpx.get(vendor_url).status_code == 200  # the vendor is up with the hub down
        stub = StubHub()
        with serve(stub.app, hub_port):
            put = wait_until(
                lambda: next((r for r in stub.received if r.path == "/packages"), None),
                "the catalog",
            )
    assert put.method == "PUT"
    assert put.headers["authorization"] == f"Bearer {API_KEY}"
    packages = put.json()["packages"]
    assert [p["id"] for p in packages] == ["ref-python", "ref-sql", "ref-background"]
    assert {p["type"] for p in packages} == {"SKILL_TEST", "BACKGROUND_CHECK"}
    assert all({"deadline_days", "inline", "assessments", "name"} <= p.keys() for p in packages)
    assert [p["inline"] for p in packages] == [True, False, False]
    # A hub starting after us is expected: its first refusals are no warning to anyone.
    refusals = [r for r in caplog.records if r.getMessage().startswith("Catalog not published")]
    assert refusals and {r.levelno for r in refusals} == {logging.INFO}


def test_a_signed_order_created_is_answered_with_its_test_url(vendor: str) -> None:
    order = an_order(inline=True)
    answer = send(vendor, "order.created", order)
    assert answer.status_code == 200
    assert answer.json()["test_url"] == f"{vendor}/tests/{order['id']}"
    assert answer.json()["vendor_reference"]
    kept = stored(vendor, order["id"])
    assert kept["hub_order"] == order and kept["status"] == "PENDING"
    assert kept["vendor_reference"] == answer.json()["vendor_reference"]
    home = httpx.get(vendor).text
    assert "Python skills (reference)" in home and "Ada" in home and order["id"] in home
    assert EMAIL not in home


def test_a_mis_signed_or_stale_webhook_is_refused_and_stores_nothing(vendor: str) -> None:
    order = an_order()
    forged = send(vendor, "order.created", order, secret=OTHER_SECRET)
    stale = send(vendor, "order.created", order, at=datetime.now(UTC) - timedelta(minutes=10))
    unsigned = httpx.post(f"{vendor}/webhooks/hub", json={"type": "order.created"})
    assert [forged.status_code, stale.status_code, unsigned.status_code] == [401, 401, 401]
    assert stored(vendor, order["id"]) is None
    log = [d for d in httpx.get(f"{vendor}/_sim/webhooks").json() if d["order_id"] == order["id"]]
    assert [(d["verified"], d["status"]) for d in log] == [(False, 401), (False, 401)]


def test_a_replayed_webhook_is_answered_the_same_and_acted_on_once(vendor: str) -> None:
    order = an_order()
    first = send(vendor, "order.created", order, webhook_id="msg_replayed_" + order["id"])
    again = send(vendor, "order.created", order, webhook_id="msg_replayed_" + order["id"])
    assert (
        (again.status_code, again.json())
        == (first.status_code, first.json())
        == (200, first.json())
    )
    # The same order under another webhook-id is the same order too.
    assert send(vendor, "order.created", order).json() == first.json()
    orders = httpx.get(f"{vendor}/_sim/orders").json()
    assert [o["id"] for o in orders].count(order["id"]) == 1
    log = [d for d in httpx.get(f"{vendor}/_sim/webhooks").json() if d["order_id"] == order["id"]]
    assert [(d["verified"], d["status"], d["duplicate"]) for d in log] == [
        (True, 200, False),
        (True, 200, True),
        (True, 200, False),
    ]


def test_completing_puts_the_report_before_the_completed_patch(vendor: str, stub: StubHub) -> None:
    order = created(vendor)
    answer = httpx.post(f"{vendor}/_sim/orders/{order['id']}/complete", json={"score": 80})
    assert answer.status_code == 200 and answer.json()["status"] == "COMPLETED"
    report, patch = stub.calls(order["id"])
    assert (report.method, report.path) == ("PUT", f"/orders/{order['id']}/report")
    assert report.headers["content-type"] == "application/pdf"
    assert report.headers["authorization"] == f"Bearer {API_KEY}"
    assert_valid_pdf(report.body)
    assert (patch.method, patch.path) == ("PATCH", f"/orders/{order['id']}")
    assert patch.headers["authorization"] == f"Bearer {API_KEY}"
    assert patch.headers["idempotency-key"]
    result = patch.json()["result"]
    assert patch.json()["status"] == "COMPLETED"
    assert (result["score"], result["max_score"], result["label"]) == (80, 100, "passed")
    assert result["summary"] and len(result["summary"]) <= 2000
    datetime.fromisoformat(result["submitted_at"])
    assert [(s["id"], s["score"], s["label"]) for s in result["sub_results"]] == [
        ("ref-python-algorithms", 80, "passed"),
        ("ref-python-testing", 80, "passed"),
    ]
    assert stored(vendor, order["id"])["status"] == "COMPLETED"

    # A revision is another change: another Idempotency-Key, as the hub refuses a reused one.
    httpx.post(f"{vendor}/_sim/orders/{order['id']}/complete", json={"score": 30})
    revision = stub.patches(order["id"])[-1]
    assert revision.json()["result"]["label"] == "failed"
    assert revision.headers["idempotency-key"] != patch.headers["idempotency-key"]


def test_a_package_without_sub_assessments_sends_no_sub_results(vendor: str, stub: StubHub) -> None:
    order = created(vendor, package_id="ref-background")
    httpx.post(f"{vendor}/_sim/orders/{order['id']}/complete", json={"score": 59})
    result = stub.patches(order["id"])[-1].json()["result"]
    assert (result["score"], result["label"]) == (59, "failed") and "sub_results" not in result


def test_a_409_is_final_and_not_retried(vendor: str, stub: StubHub) -> None:
    order = created(vendor)
    stub.script("order", error(409, "INVALID_TRANSITION"))
    answer = httpx.post(
        f"{vendor}/_sim/orders/{order['id']}/status", json={"status": "IN_PROGRESS"}
    )
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["code"] == "INVALID_TRANSITION"
    assert len(stub.patches(order["id"])) == 1

    # ORDER_CLOSED: the order is closed on our side too, and its page takes no answers.
    stub.script("order", error(409, "ORDER_CLOSED"))
    answer = httpx.post(f"{vendor}/_sim/orders/{order['id']}/status", json={"status": "REJECTED"})
    assert answer.status_code == 409 and len(stub.patches(order["id"])) == 2
    assert stored(vendor, order["id"])["status"] == "CANCELLED"
    assert httpx.get(f"{vendor}/tests/{order['id']}").status_code == 409


def test_a_503_or_429_from_the_hub_is_retried_with_the_same_key(vendor: str, stub: StubHub) -> None:
    order = created(vendor)
    stub.script(
        "order", error(503, "UNAVAILABLE"), (429, {"message": "slow down"}, {"Retry-After": "0"})
    )
    answer = httpx.post(
        f"{vendor}/_sim/orders/{order['id']}/status",
        json={"status": "IN_PROGRESS", "status_detail": "started"},
    )
    assert answer.status_code == 200
    patches = stub.patches(order["id"])
    assert len(patches) == 3
    assert len({p.headers["idempotency-key"] for p in patches}) == 1
    assert len({p.body for p in patches}) == 1
    assert patches[0].json() == {"status": "IN_PROGRESS", "status_detail": "started"}


def test_a_4xx_other_than_429_is_not_retried(vendor: str, stub: StubHub) -> None:
    order = created(vendor)
    stub.script("order", error(400, "INVALID_FIELD"))
    answer = httpx.post(f"{vendor}/_sim/orders/{order['id']}/status", json={"status": "DONE"})
    assert answer.status_code == 400 and len(stub.patches(order["id"])) == 1


def test_refuse_mode_answers_422_with_a_message(vendor: str) -> None:
    httpx.put(f"{vendor}/_sim/mode", json={"webhooks": "refuse"}).raise_for_status()
    try:
        order = an_order()
        answer = send(vendor, "order.created", order)
    finally:
        httpx.put(f"{vendor}/_sim/mode", json={"webhooks": "accept"}).raise_for_status()
    assert answer.status_code == 422
    assert answer.json() == {"message": "We cannot test this candidate"}
    assert stored(vendor, order["id"]) is None


def test_down_mode_answers_503_and_the_next_attempt_is_taken(vendor: str) -> None:
    order = an_order()
    httpx.put(f"{vendor}/_sim/mode", json={"webhooks": "down"}).raise_for_status()
    try:
        down = send(vendor, "order.created", order, webhook_id="msg_down_" + order["id"])
    finally:
        httpx.put(f"{vendor}/_sim/mode", json={"webhooks": "accept"}).raise_for_status()
    assert down.status_code == 503 and stored(vendor, order["id"]) is None
    # The hub delivers the event again under the same webhook-id: now it is taken.
    again = send(vendor, "order.created", order, webhook_id="msg_down_" + order["id"])
    assert again.status_code == 200 and again.json()["test_url"]


def test_an_unknown_event_type_is_acknowledged_and_ignored(vendor: str) -> None:
    order = an_order()
    assert send(vendor, "order.reassigned", order).status_code == 200
    assert stored(vendor, order["id"]) is None


def test_a_cancelled_order_takes_no_submission(vendor: str, stub: StubHub) -> None:
    order = created(vendor)
    closed = {"reason": "expired", "at": "2026-01-01T00:00:00Z"}
    answer = send(vendor, "order.cancelled", order | {"closed": closed}, reason="expired")
    assert answer.status_code == 200
    kept = stored(vendor, order["id"])
    assert (kept["status"], kept["closed_reason"]) == ("CANCELLED", "expired")
    page = httpx.get(f"{vendor}/tests/{order['id']}")
    assert page.status_code == 409 and "closed" in page.text
    submitted = httpx.post(
        f"{vendor}/tests/{order['id']}",
        content="ref-python-algorithms=90&ref-python-testing=90",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert submitted.status_code == 409 and "closed" in submitted.text
    assert stub.calls(order["id"]) == []


def test_the_test_page_reports_in_progress_once_then_the_form_completes(
    vendor: str, stub: StubHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="reference_vendor")
    order = created(vendor, return_url="https://sr.example/back")
    first = httpx.get(f"{vendor}/tests/{order['id']}")
    assert first.status_code == 200
    assert "Python skills (reference)" in first.text and "Algorithms" in first.text
    wait_until(lambda: stub.patches(order["id"]), "the IN_PROGRESS PATCH")
    assert httpx.get(f"{vendor}/tests/{order['id']}").status_code == 200

    thanks = httpx.post(
        f"{vendor}/tests/{order['id']}",
        content="ref-python-algorithms=90&ref-python-testing=70",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert thanks.status_code == 200
    assert "Thank you" in thanks.text and "https://sr.example/back" in thanks.text
    wait_until(lambda: len(stub.patches(order["id"])) == 2, "the COMPLETED PATCH")
    calls = stub.calls(order["id"])
    assert [(c.method, (c.json() if c.method == "PATCH" else {}).get("status")) for c in calls] == [
        ("PATCH", "IN_PROGRESS"),
        ("PUT", None),
        ("PATCH", "COMPLETED"),
    ]
    result = calls[2].json()["result"]
    assert (result["score"], result["label"]) == (80, "passed")
    assert [s["score"] for s in result["sub_results"]] == [90, 70]
    assert calls[0].headers["idempotency-key"] != calls[2].headers["idempotency-key"]
    assert httpx.get(f"{vendor}/tests/{order['id']}").status_code == 409  # already submitted
    assert EMAIL not in caplog.text and API_KEY not in caplog.text and SECRET not in caplog.text


def test_complete_at_once_completes_each_new_order(vendor: str, stub: StubHub) -> None:
    httpx.post(f"{vendor}/_sim/complete-at-once", json={"score": 90}).raise_for_status()
    try:
        order = created(vendor)
        patch = wait_until(lambda: stub.patches(order["id"]), "the COMPLETED PATCH")[0]
    finally:
        off = httpx.post(
            f"{vendor}/_sim/complete-at-once",
            content="null",  # JSON null: off
            headers={"content-type": "application/json"},
        )
    assert patch.json()["result"]["score"] == 90
    assert off.json() == {"score": None}


def test_orders_and_seen_webhooks_survive_a_restart(
    tmp_path: Path, hub: tuple[StubHub, str]
) -> None:
    order = an_order()
    with vendor_at(hub[1], tmp_path / "vendor.db") as vendor_url:
        first = send(vendor_url, "order.created", order, webhook_id="msg_restart")
    with vendor_at(hub[1], tmp_path / "vendor.db") as vendor_url:
        assert stored(vendor_url, order["id"])["hub_order"] == order
        again = send(vendor_url, "order.created", order, webhook_id="msg_restart")
        assert again.json() == first.json()
        assert httpx.get(f"{vendor_url}/_sim/webhooks").json()[0]["duplicate"] is True


def test_a_result_the_hub_could_not_take_is_sent_again_later(
    tmp_path: Path, hub: tuple[StubHub, str]
) -> None:
    stub, order = hub[0], an_order()
    with vendor_at(hub[1], tmp_path / "vendor.db", retry_attempts=2, redeliver_interval=0.1) as url:
        assert send(url, "order.created", order).status_code == 200
        stub.script("report", error(503, "UNAVAILABLE"), error(503, "UNAVAILABLE"))
        answer = httpx.post(f"{url}/_sim/orders/{order['id']}/complete", json={"score": 75})
        assert answer.status_code == 503 and stub.patches(order["id"]) == []
        patch = wait_until(lambda: stub.patches(order["id"]), "the result sent again")[0]
        assert patch.json()["result"]["score"] == 75
        wait_until(lambda: stored(url, order["id"])["result_delivered"] == 1, "delivered")
