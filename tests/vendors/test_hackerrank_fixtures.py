"""Shared by the HackerRank tests (no tests here): the simulator on a real port, a webhook
receiver, and orders for the adapter.

Reports are finished through the control API unless a test sets a report delay, so no test
depends on timing; waits use `eventually`.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from orders.models import Candidate, Order
from orders.visibility import order_reference
from simulators.hackerrank import HackerRankSimConfig, create_app
from tests.support.http import client as http_client
from tests.support.servers import serve
from vendors.base import OrderCallback
from vendors.hackerrank import HackerRankVendor

API_KEY = "hr-test-api-key"
TEST_WITH_CUTOFF = "1529353"  # max 100, cutoff 60
TEST_WITHOUT_CUTOFF = "1529354"  # max 60, no cutoff
DRAFT_TEST = "1529355"
API = "/x/api/v3"


class Receiver:
    """Our side of the result webhook: records each push; `failures[order_id]` pushes answer 500."""

    def __init__(self) -> None:
        self.pushes: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.failures: dict[str, int] = {}
        self.url = ""
        self._lock = threading.Lock()
        self.app = FastAPI()
        self.app.add_api_route("/hooks/{order_id}", self._receive, methods=["POST"])

    async def _receive(self, order_id: str, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.pushes.append((dict(request.headers), body))
            if self.failures.get(order_id):
                self.failures[order_id] -= 1
                return Response(status_code=500)
        return Response(status_code=202)

    def callback(self, order_id: str) -> OrderCallback:
        return OrderCallback(url=f"{self.url}/hooks/{order_id}", token=f"token-{order_id}")

    def received(self, candidate_id: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        with self._lock:
            return [(headers, body) for headers, body in self.pushes if body["id"] == candidate_id]

    def bodies(self, candidate_id: str) -> list[dict[str, Any]]:
        return [body for _, body in self.received(candidate_id)]


class Sim:
    """A running simulator: its URL, a partner client and the control API."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self.http = http
        self.api = http_client(base_url=f"{url}{API}", auth=(API_KEY, ""), timeout=10)

    def vendor(self, timeout_seconds: float = 10.0) -> HackerRankVendor:
        return HackerRankVendor(api_key=API_KEY, base_url=self.url, timeout_seconds=timeout_seconds)

    async def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"/_sim{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    async def start(self, candidate_id: str) -> dict[str, Any]:
        return await self.control("POST", f"/candidates/{candidate_id}/start")

    async def submit(self, candidate_id: str, score: float, **extra: Any) -> dict[str, Any]:
        return await self.control(
            "POST", f"/candidates/{candidate_id}/submit", json={"score": score, **extra}
        )

    async def finish_report(self, candidate_id: str) -> dict[str, Any]:
        return await self.control("POST", f"/candidates/{candidate_id}/report")

    async def complete(self, candidate_id: str, score: float, **extra: Any) -> dict[str, Any]:
        await self.submit(candidate_id, score, **extra)
        return await self.finish_report(candidate_id)

    async def emails_to(self, address: str) -> int:
        return (await self.control("GET", "/outbox", params={"to": address}))["count"]

    async def webhook_attempts(self, candidate_id: str) -> list[dict[str, Any]]:
        return (await self.control("GET", "/webhooks", params={"candidate_id": candidate_id}))[
            "attempts"
        ]

    async def pushes_published(self, candidate_id: str) -> int:
        """Pushes the simulator decided on; recorded synchronously,
        so a missing one is really missing."""
        return len(
            (await self.control("GET", "/webhooks", params={"candidate_id": candidate_id}))[
                "published"
            ]
        )

    async def faults(self, **switches: Any) -> dict[str, Any]:
        return await self.control("POST", "/faults", json=switches)

    async def exchanges(self) -> list[dict[str, Any]]:
        return await self.control("GET", "/requests")

    async def invite(self, test_id: str = TEST_WITH_CUTOFF, **body: Any) -> httpx.Response:
        return await self.api.post(f"/tests/{test_id}/candidates", json=body)


SimFactory = Callable[..., Awaitable[Sim]]
# Tests share one simulator; each uses its own candidates,
# so only the faults are reset between tests.
SHARED_CONFIG = {"requests_per_second": 1000}


@contextlib.asynccontextmanager
async def _simulators() -> AsyncIterator[SimFactory]:
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Sim:
            settings = {
                "report_delay_seconds": None,
                "webhook_retry_delays": (0.05, 0.05, 0.05),
                **overrides,
            }
            url = stack.enter_context(
                serve(create_app(HackerRankSimConfig(api_key=API_KEY, **settings)))
            )
            sim = Sim(url, await stack.enter_async_context(http_client(base_url=url, timeout=10)))
            stack.push_async_callback(sim.api.aclose)
            return sim

        yield start


@pytest.fixture
async def start_sim() -> AsyncIterator[SimFactory]:
    """Starts simulators of their own, with config overrides; they stop when the test ends."""
    async with _simulators() as start:
        yield start


@pytest.fixture(scope="session")
async def shared_sim() -> AsyncIterator[Sim]:
    async with _simulators() as start:
        yield await start(**SHARED_CONFIG)


@pytest.fixture
async def sim(shared_sim: Sim) -> Sim:
    await shared_sim.control("DELETE", "/faults")
    return shared_sim


@pytest.fixture(scope="session")
def receiver() -> Any:
    receiver = Receiver()
    with serve(receiver.app) as url:
        receiver.url = url
        yield receiver


@pytest.fixture
async def vendor(sim: Sim) -> AsyncIterator[HackerRankVendor]:
    adapter = sim.vendor()
    yield adapter
    await adapter.aclose()


def unique_email() -> str:
    return f"cand-{uuid.uuid4().hex[:10]}@example.com"


def make_order(
    *,
    package_id: str = TEST_WITH_CUTOFF,
    email: str | None = None,
    received_at: datetime | None = None,
    deadline_days: float = 7.0,
    **extra: Any,
) -> Order:
    order_id = f"order-{uuid.uuid4().hex[:12]}"
    return Order(
        order_id=order_id,
        company_id="company-1",
        reference=extra.pop("reference", order_reference(order_id, "company-1")),
        package_id=package_id,
        package_name="HackerRank test",
        vendor="hackerrank",
        result_callback_url="http://sr.invalid/result",
        candidate=Candidate(first_name="Ada", last_name="Lovelace", email=email or unique_email()),
        deadline_days=deadline_days,
        poll_interval_seconds=60,
        received_at=received_at or datetime.now(UTC),
        **extra,
    )


def candidate_id(ref: str) -> str:
    return ref.split(":", 1)[1]
