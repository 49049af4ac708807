"""The reference vendor: Vendor API v1 (docs/vendor-api.md) from the vendor's side, in one file.

It publishes a catalog, takes signed `order.created` / `order.cancelled` webhooks, shows the
candidate a test page, and reports progress, the report PDF and the result back to the hub. It
stands alone (fastapi, httpx, pydantic, standardwebhooks and the standard library): copy it and
replace the test page with your product. Routes under `/_sim/` are for tests and demos only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote

import httpx
from fastapi import BackgroundTasks, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

log = logging.getLogger("reference_vendor")
# The score a test order gets (one the hub marks `"test": true`).
TEST_ORDER_SCORE = 75
# How long after our start a refused catalog is taken for the hub still starting.
PUBLISH_GRACE_SECONDS = 60.0

DEFAULT_PACKAGES: list[dict[str, Any]] = [
    {
        "id": "ref-python",
        "name": "Python skills (reference)",
        "type": "SKILL_TEST",
        "description": "Two short tasks, 45 minutes",
        "deadline_days": 7,
        "inline": True,
        "assessments": [
            {"id": "ref-python-algorithms", "name": "Algorithms", "description": "Two tasks"},
            {"id": "ref-python-testing", "name": "Testing", "description": "One task"},
        ],
    },
    {
        "id": "ref-sql",
        "name": "SQL basics (reference)",
        "type": "SKILL_TEST",
        "description": "20 questions, 30 minutes",
        "deadline_days": 5,
        "inline": False,
        "assessments": [],
    },
    {
        "id": "ref-background",
        "name": "Background check (reference)",
        "type": "BACKGROUND_CHECK",
        "description": "Identity and employment history",
        "deadline_days": 14,
        "inline": False,
        "assessments": [],
    },
]

# Statuses only move forward at the hub; we never let our own copy move back either.
RANK = {"PENDING": 0, "IN_PROGRESS": 1, "COMPLETED": 2, "REJECTED": 2, "EXPIRED": 2}
# CANCELLED is ours: the hub closed the order (order.cancelled, or a 409 ORDER_CLOSED).
CLOSED = {"CANCELLED", "REJECTED", "EXPIRED"}


@dataclass
class ReferenceVendorConfig:
    public_url: str  # where candidates and the hub reach us, e.g. http://127.0.0.1:8600
    hub_url: str  # the hub's base URL; the Vendor API is under {hub_url}/vendor/v1
    api_key: str = field(repr=False)  # vk_…: never printed, never logged
    webhook_secret: str = field(repr=False)  # whsec_…
    database_path: Path = Path("reference_vendor.db")
    packages: list[dict[str, Any]] = field(default_factory=lambda: list(DEFAULT_PACKAGES))
    pass_mark: int = 60  # a score (out of 100) at or above it is labelled "passed"
    retry_base_delay: float = 0.5  # first wait between two tries of a call to the hub, doubling
    retry_max_delay: float = 30.0
    retry_attempts: int = 6  # tries of one call before the result waits for the redelivery loop
    redeliver_interval: float = 60.0  # how often results the hub has not taken are sent again
    hub_timeout: float = 10.0


# --- Storage: SQLite, so orders and seen webhook ids survive a restart -------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    vendor_reference TEXT NOT NULL,
    test_url TEXT NOT NULL,
    status TEXT NOT NULL,             -- what the hub last took from us, or CANCELLED
    closed_reason TEXT,
    started INTEGER NOT NULL DEFAULT 0,
    changes INTEGER NOT NULL DEFAULT 0, -- counts our PATCHes: the n of their Idempotency-Keys
    result TEXT, result_key TEXT, result_delivered INTEGER NOT NULL DEFAULT 0,
    hub_order TEXT NOT NULL,          -- the Order object as the hub last sent it
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, status INTEGER, answer TEXT);
"""


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OrderBook:
    """Every method is synchronous and quick: called from the event loop without an `await` in
    between, a check and the write after it cannot interleave with another request's."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    def open(self) -> None:
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        if self.db is not None:
            self.db.close()

    def _sql(self, query: str, *args: Any) -> list[sqlite3.Row]:
        assert self.db is not None, "the order book is opened by the app's lifespan"
        return self.db.execute(query, args).fetchall()

    def get(self, order_id: str) -> dict[str, Any] | None:
        rows = self._sql("SELECT * FROM orders WHERE id = ?", order_id)
        return _decoded(rows[0]) if rows else None

    def all(self) -> list[dict[str, Any]]:
        return [_decoded(row) for row in self._sql("SELECT * FROM orders ORDER BY received_at")]

    def insert(self, order: dict[str, Any], test_url: str, status: str, reason: str | None) -> str:
        reference = "rv_" + secrets.token_hex(6)  # our own id for the order
        self._sql(
            "INSERT INTO orders (id, vendor_reference, test_url, status, closed_reason,"
            " hub_order, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            *(order["id"], reference, test_url, status, reason, json.dumps(order), utc_now()),
        )
        return reference

    def update(self, order_id: str, **columns: Any) -> None:
        sets = ", ".join(f"{name} = ?" for name in columns)
        self._sql(f"UPDATE orders SET {sets} WHERE id = ?", *columns.values(), order_id)

    def next_key(self, order_id: str, status: str) -> str:
        """An Idempotency-Key for a new logical change: retries of it reuse it with the same
        body; the next change (a revision, say) gets another, as the hub refuses a key reused
        with another body (422 IDEMPOTENCY_KEY_REUSED)."""
        rows = self._sql(
            "UPDATE orders SET changes = changes + 1 WHERE id = ? RETURNING changes", order_id
        )
        return f"{order_id}:{status}:{rows[0]['changes']}"

    def undelivered(self) -> list[str]:
        rows = self._sql("SELECT id FROM orders WHERE result IS NOT NULL AND result_delivered = 0")
        return [row["id"] for row in rows]

    def answer_for(self, webhook_id: str) -> tuple[int, dict[str, Any]] | None:
        rows = self._sql("SELECT status, answer FROM webhooks WHERE id = ?", webhook_id)
        return (rows[0]["status"], json.loads(rows[0]["answer"])) if rows else None

    def remember(self, webhook_id: str, status: int, answer: dict[str, Any]) -> None:
        self._sql("INSERT INTO webhooks VALUES (?, ?, ?)", webhook_id, status, json.dumps(answer))


def _decoded(row: sqlite3.Row) -> dict[str, Any]:
    order = dict(row)
    order["hub_order"] = json.loads(order["hub_order"])
    order["result"] = json.loads(order["result"]) if order["result"] else None
    return order


# --- Calling the hub ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HubAnswer:
    status_code: int  # 0: the hub could not be reached
    body: bytes = b""
    content_type: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def transient(self) -> bool:
        """Worth trying again: no answer, 429 or 5xx. Any other 4xx is final."""
        return self.status_code in (0, 429) or self.status_code >= 500

    def __str__(self) -> str:  # for logs: the status and the hub's error code, no body
        return f"{self.status_code or 'no answer'} {self.error_code()}".strip()

    def error_code(self) -> str:
        try:
            return str(json.loads(self.body)["errors"][0]["code"])
        except (ValueError, KeyError, IndexError, TypeError):
            return ""


class Hub:
    def __init__(self, config: ReferenceVendorConfig) -> None:
        self.config = config
        self.base = config.hub_url.rstrip("/") + "/vendor/v1"
        self.catalog_published_at: str | None = None
        # Every call carries the key; httpx opens connections lazily, inside the running loop.
        self.client = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {config.api_key}"}, timeout=config.hub_timeout
        )

    async def call(
        self, method: str, path: str, body: bytes, headers: dict[str, str], attempts: int = 0
    ) -> HubAnswer:
        """One request, retried (same body, same headers) on no answer, 429 (after its
        Retry-After) and 5xx with doubling waits; any other answer is returned at once."""
        attempts = attempts or self.config.retry_attempts
        delay, answer = self.config.retry_base_delay, HubAnswer(0)
        for attempt in range(1, attempts + 1):
            try:
                r = await self.client.request(
                    method, self.base + path, content=body, headers=headers
                )
            except httpx.TransportError as exc:  # refused, reset, timed out
                answer, what = HubAnswer(0), type(exc).__name__
            else:
                retry_after = r.headers.get("retry-after", "")
                answer = HubAnswer(
                    r.status_code,
                    r.content,
                    r.headers.get("content-type", ""),
                    float(retry_after) if retry_after.isdigit() else None,
                )
                what = str(r.status_code)
                if not answer.transient:
                    return answer
            if attempt < attempts:
                wait = answer.retry_after if answer.retry_after is not None else delay
                log.warning(
                    "%s %s: %s; try %d/%d in %.2fs", method, path, what, attempt + 1, attempts, wait
                )
                await asyncio.sleep(wait)
                delay = min(delay * 2, self.config.retry_max_delay)
        return answer

    async def patch(self, order_id: str, change: dict[str, Any], key: str) -> HubAnswer:
        headers = {"content-type": "application/json", "idempotency-key": key}
        return await self.call("PATCH", _order_path(order_id), json.dumps(change).encode(), headers)

    async def put_report(self, order_id: str, pdf: bytes) -> HubAnswer:
        headers = {"content-type": "application/pdf"}
        return await self.call("PUT", _order_path(order_id) + "/report", pdf, headers)

    async def publish_catalog(self) -> None:
        """PUT the catalog until the hub takes it: the hub may start after us, so this runs in
        the background and never holds up our own start."""
        body = json.dumps({"packages": self.config.packages}).encode()
        delay = self.config.retry_base_delay
        started = time.monotonic()
        while True:
            answer = await self.call(
                "PUT", "/packages", body, {"content-type": "application/json"}, attempts=1
            )
            if answer.ok:
                self.catalog_published_at = utc_now()
                log.info("Catalog of %d packages published", len(self.config.packages))
                return
            # A 4xx will not mend itself (a bad catalog, a revoked key), but an operator may
            # mend it at the hub: keep trying, slowly, and say why.
            wait = max(answer.retry_after or 0, delay)
            # Started beside the hub, the first refusals are expected (the hub, or our key, is
            # not there yet): worth a warning only once they outlast a start.
            expected = time.monotonic() - started < PUBLISH_GRACE_SECONDS
            log.log(
                logging.INFO if expected else logging.WARNING,
                "Catalog not published: %s; again in %.2fs",
                answer,
                wait,
            )
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.config.retry_max_delay)


def _order_path(order_id: str) -> str:
    return "/orders/" + quote(order_id, safe="")


# --- The report: a one-page PDF written by hand, so the example needs no PDF library -----------


def report_pdf(lines: list[str]) -> bytes:
    def text(line: str) -> str:
        return "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj"

    stream = ("BT /F1 12 Tf 16 TL 56 780 Td " + " T* ".join(map(text, lines)) + " ET").encode(
        "latin-1", "replace"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)  # the offsets table
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    size = len(objects) + 1
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(pdf)


# --- The vendor's behaviour --------------------------------------------------------------------

WebhookMode = Literal["accept", "refuse", "down"]


class ReferenceVendor:
    def __init__(self, config: ReferenceVendorConfig) -> None:
        self.config = config
        self.book = OrderBook(config.database_path)
        self.hub = Hub(config)
        self.verifier = Webhook(config.webhook_secret)  # a malformed secret fails here, at once
        self.mode: WebhookMode = "accept"
        self.auto_score: int | None = None  # /_sim/complete-at-once
        self.deliveries: list[dict[str, Any]] = []  # every webhook received, for /_sim/webhooks
        self.delivering: set[str] = set()  # orders whose result is on its way right now

    def package_of(self, order: dict[str, Any]) -> dict[str, Any]:
        """Our catalog entry for the order; a package since retired keeps what the hub sent."""
        wanted = order["hub_order"].get("package") or {}
        known = {p["id"]: p for p in self.config.packages}
        return known.get(wanted.get("id"), {"assessments": [], **wanted})

    def parts_of(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """What the candidate is scored on: each sub-assessment, or the package as a whole."""
        package = self.package_of(order)
        return package.get("assessments") or [{"id": "overall", "name": "Overall"}]

    # Webhooks.

    def handle_event(self, webhook_id: str, event: object) -> tuple[int, dict[str, Any], bool]:
        """(status, answer, whether this delivery is new). No `await` in here: one delivery is
        handled whole before the next, so two copies of one event cannot both be acted on."""
        if (seen := self.book.answer_for(webhook_id)) is not None:
            return (*seen, False)
        body: dict[str, Any] = event if isinstance(event, dict) else {}
        data: dict[str, Any] = body["data"] if isinstance(body.get("data"), dict) else {}
        order, kind = data.get("order"), body.get("type")
        status, answer = 200, dict[str, Any]()  # a 2xx: what the hub reads as delivered
        if kind not in ("order.created", "order.cancelled"):
            pass  # a type added since (the versioning rule): answered 2xx, otherwise ignored
        elif not isinstance(order, dict) or not isinstance(order.get("id"), str):
            return 400, {"message": "data.order.id is missing"}, True
        elif kind == "order.created":
            status, answer = self.on_created(order)
        else:
            closed = order.get("closed") or {}
            status, answer = self.on_cancelled(order, data.get("reason") or closed.get("reason"))
        if status < 300 or status == 422:  # final answers: the hub will not send this event again
            self.book.remember(webhook_id, status, answer)
        return status, answer, True

    def on_created(self, order: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if known := self.book.get(order["id"]):  # the same order under another webhook-id
            return 200, {
                "test_url": known["test_url"],
                "vendor_reference": known["vendor_reference"],
            }
        if self.mode == "refuse":
            log.info("Order %s refused", order["id"])
            return 422, {"message": "We cannot test this candidate"}  # never candidate data here
        test_url = self.test_url(order["id"])
        reference = self.book.insert(order, test_url, "PENDING", None)
        log.info("Order %s received", order["id"])  # the candidate's details stay out of logs
        # Inline orders: SR sends the candidate straight to test_url, so it goes in the answer.
        return 200, {"test_url": test_url, "vendor_reference": reference}

    def test_url(self, order_id: str) -> str:
        return f"{self.config.public_url.rstrip('/')}/tests/{quote(order_id, safe='')}"

    def on_cancelled(self, order: dict[str, Any], reason: str | None) -> tuple[int, dict[str, Any]]:
        reason = reason or "cancelled"
        if self.book.get(order["id"]) is None:  # out of order: kept, so a late order.created
            # finds it closed
            self.book.insert(order, self.test_url(order["id"]), "CANCELLED", reason)
        else:
            self.book.update(
                order["id"], status="CANCELLED", closed_reason=reason, hub_order=json.dumps(order)
            )
        log.info("Order %s closed by the hub (%s)", order["id"], reason)
        return 200, {}

    # Reporting to the hub.

    async def report_status(self, order_id: str, status: str, detail: str | None) -> HubAnswer:
        change = {"status": status} | ({"status_detail": detail} if detail is not None else {})
        answer = await self.hub.patch(order_id, change, self.book.next_key(order_id, status))
        self.after_patch(order_id, status, answer)
        return answer

    def record_result(self, order_id: str, scores: dict[str, int]) -> None:
        """Keep the result before sending it: what the candidate did is not lost if the hub is
        down; the redelivery loop sends it later."""
        order = self.book.get(order_id)
        assert order is not None
        parts, mark = self.parts_of(order), self.config.pass_mark
        score = round(sum(scores[p["id"]] for p in parts) / len(parts))
        label = "passed" if score >= mark else "failed"
        name = self.package_of(order).get("name", "the test")
        result: dict[str, Any] = {
            "score": score,
            "max_score": 100,
            "label": label,
            "submitted_at": utc_now(),
            "summary": f"{score}/100 on {name}: {label} (pass mark {mark}).",
        }
        if len(parts) > 1 or parts[0]["id"] != "overall":
            result["sub_results"] = [
                {
                    "id": p["id"],
                    "name": p["name"],
                    "score": scores[p["id"]],
                    "max_score": 100,
                    "label": "passed" if scores[p["id"]] >= mark else "failed",
                }
                for p in parts
            ]
        self.book.update(
            order_id,
            result=json.dumps(result),
            result_delivered=0,
            result_key=self.book.next_key(order_id, "COMPLETED"),
        )

    async def deliver_result(self, order_id: str) -> HubAnswer:
        """The report first, then the COMPLETED PATCH, so SR gets both together."""
        order = self.book.get(order_id)
        assert order is not None and order["result"] is not None
        self.delivering.add(order_id)
        try:
            report = await self.hub.put_report(order_id, report_pdf(self.report_lines(order)))
            if report.transient:  # the PATCH would fare no better; the loop tries again later
                return report
            if not report.ok:
                log.warning("Report of order %s refused: %s", order_id, report)
            change = {"status": "COMPLETED", "result": order["result"]}
            answer = await self.hub.patch(order_id, change, order["result_key"])
            if not answer.transient and answer.status_code != 401:  # 401: wait for a new key
                self.book.update(order_id, result_delivered=1)
            self.after_patch(order_id, "COMPLETED", answer)
            return answer
        finally:
            self.delivering.discard(order_id)

    def after_patch(self, order_id: str, status: str, answer: HubAnswer) -> None:
        order = self.book.get(order_id)
        assert order is not None
        if answer.ok:
            log.info("PATCH %s of order %s: %s", status, order_id, answer)
            if RANK.get(status, -1) >= RANK.get(order["status"], 99):
                self.book.update(order_id, status=status)
        elif answer.status_code == 409:
            # Final, per the protocol: a late IN_PROGRESS after COMPLETED (INVALID_TRANSITION),
            # or an order the hub has closed (ORDER_CLOSED). Log it; do not retry.
            log.info("PATCH %s of order %s: %s, final", status, order_id, answer)
            if answer.error_code() == "ORDER_CLOSED" and order["status"] not in CLOSED:
                self.book.update(order_id, status="CANCELLED", closed_reason="closed by the hub")
        else:
            log.warning("PATCH %s of order %s: %s", status, order_id, answer)

    def report_lines(self, order: dict[str, Any]) -> list[str]:
        result, candidate = order["result"], order["hub_order"].get("candidate") or {}
        name = f"{candidate.get('first_name', '')} {candidate.get('last_name', '')}".strip()
        return [
            f"Reference vendor - {self.package_of(order).get('name', '')}",
            f"Order {order['id']}, candidate {name}",
            f"Score: {result['score']} / {result['max_score']} ({result['label']})",
            *(
                f"  {s['name']}: {s['score']} / {s['max_score']} ({s['label']})"
                for s in result.get("sub_results", [])
            ),
            f"Submitted {result['submitted_at']}",
        ]

    async def complete_now(self, order_id: str, score: int) -> HubAnswer:
        order = self.book.get(order_id)
        assert order is not None
        self.record_result(order_id, {p["id"]: score for p in self.parts_of(order)})
        return await self.deliver_result(order_id)

    async def redeliver_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.redeliver_interval)
            for order_id in self.book.undelivered():
                if order_id in self.delivering:
                    continue
                try:
                    await self.deliver_result(order_id)
                except Exception:  # one order's surprise must not stop the others' redelivery
                    log.exception("Redelivery of order %s failed", order_id)


# --- HTML: plain pages, nothing to load ---------------------------------------------------------

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;"
    "text-align:left}label{display:block;margin:.6rem 0}button{padding:.5rem 1.5rem}"
)


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>",
        status_code=status_code,
    )


def closed_page(order: dict[str, Any]) -> HTMLResponse:
    if order["status"] == "COMPLETED" or order["result"] is not None:
        return page("Already submitted", "<p>Your answers are in. Thank you.</p>", 409)
    reason = escape(order["closed_reason"] or order["status"].lower())
    return page("This test is closed", f"<p>It accepts no answers ({reason}).</p>", 409)


def thank_you(order: dict[str, Any]) -> HTMLResponse:
    back = order["hub_order"].get("return_url")
    link = f"<p><a href='{escape(back)}'>Back to your application</a></p>" if back else ""
    return page("Thank you", f"<p>Your answers are in.</p>{link}")


# --- The app -----------------------------------------------------------------------------------


class ScoreIn(BaseModel):
    score: int = Field(ge=0, le=100)


class StatusIn(BaseModel):
    status: str  # passed through as given, so a test can see the hub refuse a wrong one
    status_detail: str | None = None


class AutoScoreIn(BaseModel):
    score: int | None = Field(default=None, ge=0, le=100)


class ModeIn(BaseModel):
    webhooks: WebhookMode


def _hub_answer(answer: HubAnswer) -> Response:
    """What the hub answered, passed on as is (/_sim/ routes)."""
    if answer.status_code == 0:
        return JSONResponse({"message": "The hub could not be reached"}, status_code=502)
    return Response(answer.body, answer.status_code, media_type=answer.content_type or None)


def _peek(body: bytes) -> tuple[str | None, str | None]:
    """The type and order id of a webhook body, for the /_sim/webhooks log only."""
    try:
        event = json.loads(body)
        return event.get("type"), event["data"]["order"].get("id")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None


def create_app(config: ReferenceVendorConfig) -> FastAPI:
    vendor = ReferenceVendor(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        vendor.book.open()
        tasks = [
            asyncio.create_task(vendor.hub.publish_catalog()),
            asyncio.create_task(vendor.redeliver_loop()),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await vendor.hub.client.aclose()
            vendor.book.close()

    app = FastAPI(title="Reference vendor (Vendor API v1)", lifespan=lifespan)
    app.state.vendor = vendor

    @app.post("/webhooks/hub")
    async def receive_webhook(request: Request, background: BackgroundTasks) -> JSONResponse:
        body = await request.body()
        headers = dict(request.headers)
        kind, order_id = _peek(body)
        entry: dict[str, Any] = {
            "webhook_id": headers.get("webhook-id"),
            "type": kind,
            "order_id": order_id,
            "verified": None,
            "status": None,
            "duplicate": False,
            "at": utc_now(),
        }
        vendor.deliveries.append(entry)
        if vendor.mode == "down":  # an outage: nothing is read, the hub delivers again later
            entry["status"] = 503
            return JSONResponse({"message": "Down for maintenance"}, status_code=503)
        try:
            event = vendor.verifier.verify(body, headers)  # signature, and a timestamp within 5 min
        except (WebhookVerificationError, ValueError) as exc:
            entry.update(verified=False, status=401)
            log.warning("Webhook %s refused: %s", entry["webhook_id"], exc)
            return JSONResponse({"message": "Invalid signature"}, status_code=401)
        status, answer, new = vendor.handle_event(headers["webhook-id"], event)
        entry.update(verified=True, status=status, duplicate=not new)
        created = new and status == 200 and event["type"] == "order.created"
        # A test order (the hub's conformance kit) is completed at once, without a candidate.
        score = TEST_ORDER_SCORE if created and event["data"]["order"].get("test") else None
        if created and (score := vendor.auto_score if score is None else score) is not None:
            # Runs after the answer is sent: the hub's wait for it is not made longer.
            background.add_task(vendor.complete_now, event["data"]["order"]["id"], score)
        return JSONResponse(answer, status_code=status)

    @app.get("/", response_class=HTMLResponse)
    async def home() -> HTMLResponse:
        rows = "".join(
            f"<tr><td>{escape(vendor.package_of(o).get('name', '?'))}</td>"
            f"<td>{escape(o['status'])}</td>"
            f"<td>{escape((o['hub_order'].get('candidate') or {}).get('first_name', ''))}</td>"
            f"<td><a href='{escape(o['test_url'])}'>{escape(o['id'])}</a></td></tr>"
            for o in vendor.book.all()
        )
        published = vendor.hub.catalog_published_at or "not yet"
        return page(
            "Reference vendor",
            f"<p>Catalog published: {escape(published)}. Webhooks: {vendor.mode}.</p>"
            f"<table><tr><th>Package</th><th>Status</th><th>Candidate</th><th>Test</th></tr>"
            f"{rows}</table>",
        )

    @app.get("/tests/{order_id}", response_class=HTMLResponse)
    async def test_page(order_id: str, background: BackgroundTasks) -> HTMLResponse:
        order = vendor.book.get(order_id)
        if order is None:
            return page("No such test", "<p>Check the link you were sent.</p>", 404)
        if order["status"] in CLOSED | {"COMPLETED"} or order["result"] is not None:
            return closed_page(order)
        if not order["started"]:  # the first opening only: marked now, reported after the answer
            vendor.book.update(order_id, started=1)
            background.add_task(vendor.report_status, order_id, "IN_PROGRESS", None)
        first_name = (order["hub_order"].get("candidate") or {}).get("first_name", "")
        inputs = "".join(
            f"<label>{escape(p['name'])} (0–100) <input type='number' name='{escape(p['id'])}'"
            f" min='0' max='100' required></label>"
            for p in vendor.parts_of(order)
        )
        return page(
            vendor.package_of(order).get("name", "Your test"),
            f"<p>Hello {escape(first_name)}. Score yourself, then submit.</p>"
            f"<form method='post' action='{escape(order['test_url'])}'>{inputs}"
            f"<button type='submit'>Submit</button></form>",
        )

    @app.post("/tests/{order_id}", response_class=HTMLResponse)
    async def submit_test(
        order_id: str, request: Request, background: BackgroundTasks
    ) -> HTMLResponse:
        form = parse_qs((await request.body()).decode(errors="replace"))  # no multipart needed
        order = vendor.book.get(order_id)
        if order is None:
            return page("No such test", "<p>Check the link you were sent.</p>", 404)
        if order["status"] in CLOSED | {"COMPLETED"} or order["result"] is not None:
            return closed_page(order)
        try:
            scores = {p["id"]: int(form[p["id"]][0]) for p in vendor.parts_of(order)}
        except (KeyError, ValueError):
            scores = {}
        if not scores or not all(0 <= score <= 100 for score in scores.values()):
            return page("Please check your answers", "<p>Each score is 0 to 100.</p>", 400)
        vendor.record_result(order_id, scores)
        background.add_task(vendor.deliver_result, order_id)  # the candidate need not wait
        return thank_you(order)

    # --- /_sim/: a control API for tests and demos; not part of the Vendor API --------------

    @app.post("/_sim/orders/{order_id}/complete")
    async def sim_complete(order_id: str, body: ScoreIn) -> Response:
        if vendor.book.get(order_id) is None:
            return JSONResponse({"message": "No such order"}, status_code=404)
        return _hub_answer(await vendor.complete_now(order_id, body.score))

    @app.post("/_sim/orders/{order_id}/status")
    async def sim_status(order_id: str, body: StatusIn) -> Response:
        if vendor.book.get(order_id) is None:
            return JSONResponse({"message": "No such order"}, status_code=404)
        return _hub_answer(await vendor.report_status(order_id, body.status, body.status_detail))

    @app.put("/_sim/mode")
    async def sim_mode(body: ModeIn) -> dict[str, str]:
        vendor.mode = body.webhooks
        return {"webhooks": vendor.mode}

    @app.post("/_sim/complete-at-once")
    async def sim_complete_at_once(body: AutoScoreIn | None = None) -> dict[str, int | None]:
        vendor.auto_score = body.score if body is not None else None
        return {"score": vendor.auto_score}

    @app.get("/_sim/webhooks")
    async def sim_webhooks() -> list[dict[str, Any]]:
        return vendor.deliveries

    @app.get("/_sim/orders")
    async def sim_orders() -> list[dict[str, Any]]:
        return vendor.book.all()

    return app
