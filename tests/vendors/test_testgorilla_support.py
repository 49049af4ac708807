"""Shared by the TestGorilla tests: the simulator on a real port, its control API, our adapter and
orders.

Holds no tests itself; the simulator, adapter and contract tests import from it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from orders.models import Candidate, Order
from settings import Settings
from simulators.testgorilla.app import create_app
from simulators.testgorilla.config import TestGorillaSimConfig, Variants
from tests.support.http import client as http_client
from tests.support.servers import free_port, serve
from vendors import testgorilla
from vendors.testgorilla import TestGorillaVendor

USERNAME = TestGorillaSimConfig.username
PASSWORD = TestGorillaSimConfig.password


@dataclass
class SimHandle:
    """A running simulator: its URL, and its API and control API over HTTP."""

    url: str
    http: httpx.AsyncClient
    config: TestGorillaSimConfig

    async def login(self) -> str:
        response = await self.http.post(
            "/api/profiles/login/", json={"username": USERNAME, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return response.json()["token"]

    async def api(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Token {token}"} if token else {}
        return await self.http.request(method, f"/api{path}", headers=headers, **kwargs)

    async def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"/_sim{path}", **kwargs)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    async def set_variants(self, **variants: Any) -> dict[str, Any]:
        return await self.control("PUT", "/variants", json=variants)

    async def set_limits(self, window_seconds: float, **limits: int) -> None:
        await self.control(
            "PUT", "/limits", json={"window_seconds": window_seconds, "limits": limits}
        )

    async def fault(self, kind: str, **fields: Any) -> None:
        await self.control("POST", "/faults", json={"kind": kind, **fields})

    async def endpoint_stats(self, endpoint: str) -> dict[str, Any]:
        return (await self.control("GET", "/requests"))["endpoints"][endpoint]

    async def logins(self) -> int:
        return (await self.control("GET", "/requests"))["logins"]

    async def candidatures(self, email: str) -> list[dict[str, Any]]:
        return await self.control("GET", "/candidatures", params={"email": email})

    async def candidatures_of(self, vendor_ref: str) -> list[dict[str, Any]]:
        """The candidature our vendor_ref names, if TestGorilla still has it."""
        return [
            c
            for c in await self.control("GET", "/candidatures")
            if str(c["id"]) == candidature_id(vendor_ref)
        ]

    async def emails_to(self, email: str) -> int:
        return (await self.control("GET", "/outbox"))["counts"].get(email.lower(), 0)

    async def complete(
        self,
        candidature_id: int | str,
        scores: dict[str, Any] | None = None,
        percentiles: dict[str, float] | None = None,
    ) -> dict[str, Any]:
        body = {"scores": scores or {}, "percentiles": percentiles or {}}
        return await self.control("POST", f"/candidatures/{candidature_id}/complete", json=body)


@contextlib.asynccontextmanager
async def running_sim(wrap=None, **config: Any) -> AsyncIterator[SimHandle]:
    """The simulator under uvicorn; `wrap` puts an ASGI middleware (a recorder) in front of it.
    Keyword arguments named as Variants fields choose the answers' forms."""
    port = free_port()
    forms = {
        name: config.pop(name) for name in list(config) if name in Variants.__dataclass_fields__
    }
    settings = TestGorillaSimConfig(
        public_url=f"http://127.0.0.1:{port}", variants=Variants(**forms), **config
    )
    app = create_app(settings)
    with serve(wrap(app) if wrap else app, port) as url:
        async with http_client(base_url=url, timeout=10) as http:
            yield SimHandle(url, http, settings)


def adapter_for(sim: SimHandle, **credentials: Any) -> TestGorillaVendor:
    """Our adapter for the simulator's account, with the simulator's window and limits."""
    base = {
        "base_url": sim.url,
        "username": USERNAME,
        "password": PASSWORD,
        "rate_window_seconds": sim.config.window_seconds,
        "rate_limits": sim.config.limits,
    }
    return testgorilla.from_account(Settings(vendor_timeout_seconds=5), base | credentials)


def new_email() -> str:
    return f"candidate-{uuid.uuid4().hex[:8]}@example.com"


def order_for(
    assessment_id: int | str, email: str | None = None, order_id: str | None = None
) -> Order:
    return Order(
        order_id=order_id or f"order-{uuid.uuid4().hex[:8]}",
        company_id="company-1",
        package_id=str(assessment_id),
        package_name="TestGorilla assessment",
        vendor="testgorilla",
        result_callback_url="http://127.0.0.1:1/unused",
        candidate=Candidate(first_name="Grace", last_name="Hopper", email=email or new_email()),
        deadline_days=7,
        poll_interval_seconds=300,
        received_at=datetime.now(UTC),
    )


def candidature_id(vendor_ref: str) -> str:
    """The candidature id inside our vendor_ref `<assessment>:<candidature>`."""
    return vendor_ref.split(":")[1]
