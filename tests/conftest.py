"""The whole service on real sockets: Temporal dev server, worker, API and both simulators.

One stack per test session (starting Temporal costs seconds); each test uses its own candidates
and orders, so tests do not see each other's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from embedded import Stack, free_port, settings_on_free_ports
from origins import SMARTRECRUITERS_ORIGINS
from settings import Settings
from simulators.smartrecruiters.config import alias_of
from store import Store
from temporal_client import connect
from tests.support.order_workflows import companies_of_orders, order_reference_of
from tests.support.waiting import eventually

# Short enough for a test to see it pass; the package is only used by the expiry test.
EXPIRING_PACKAGE = "logic-quiz"
EXPIRY_DAYS = 8 / 86400  # eight seconds
# An order SR refuses us for gives up this soon (tests/e2e/test_sr_refusing.py).
SR_REFUSAL_GIVE_UP_DAYS = 15 / 86400


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("stack")
    settings = settings_on_free_ports(
        data_dir,
        poll_interval_seconds=2,
        # Slack for a loaded CI machine, within the SR simulator's 10 s.
        inline_order_timeout_seconds=8,
        package_deadline_days={EXPIRING_PACKAGE: EXPIRY_DAYS},
        admin_api_key="test-admin-key",
        worker_metrics_address=f"127.0.0.1:{free_port()}",
        order_census_seconds=1,
        sr_refusal_give_up_days=SR_REFUSAL_GIVE_UP_DAYS,
    )
    # The SR simulator's other origin (callback_host "alias") is SR's too, as are SR's own.
    settings = settings.model_copy(
        update={"sr_callback_origins": [*SMARTRECRUITERS_ORIGINS, alias_of(settings.sr_base_url)]}
    )
    running = Stack(settings, headless_ui=True, log_dir=data_dir / "logs")
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
async def temporal(stack):
    client = await connect(stack.settings)
    return client


class World:
    """What a test does to the outside world: SR (the simulator) and the sandbox vendor."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.sr = settings.sr_base_url
        self.vendor = settings.sandbox_vendor_url
        self.api = settings.public_url

    async def new_candidate(self, company_id: str | None = None) -> dict:
        suffix = uuid.uuid4().hex[:8]
        candidate = {
            "first_name": "Test",
            "last_name": f"Candidate {suffix}",
            "email": f"candidate-{suffix}@example.com",
        }
        response = await self.http.post(
            f"{self.sr}/__sim/candidates",
            json=candidate | ({"company_id": company_id} if company_id else {}),
        )
        response.raise_for_status()
        return response.json()

    async def order(
        self,
        package_id: str = "skills-fullstack",
        kind: str = "manual",
        company_id: str | None = None,
    ) -> dict:
        candidate = await self.new_candidate(company_id)
        response = await self.http.post(
            f"{self.sr}/__sim/orders",
            json={"candidate_id": candidate["id"], "package_id": package_id, "kind": kind},
        )
        response.raise_for_status()
        if company_id is not None:
            companies_of_orders[response.json()["order_id"]] = company_id
        return response.json() | {"candidate": candidate}

    async def sr_order(self, order_id: str) -> dict:
        return (await self.http.get(f"{self.sr}/__sim/orders/{order_id}")).raise_for_status().json()

    async def sr_status_becomes(self, order_id: str, status: str, timeout: float = 30.0) -> dict:
        async def probe():
            order = await self.sr_order(order_id)
            return order if order["result"].get("status") == status else None

        return await eventually(
            probe, timeout=timeout, what=f"SR to show {status} for order {order_id}"
        )

    async def sr_refuses(
        self,
        order_id: str,
        status: int,
        count: int = 1,
        method: str | None = "PATCH",
        path: str | None = None,
    ) -> None:
        """SR answers `status` to the order's next `count` requests of `method` (any with None)
        whose path contains `path`: by default its result updates (`PATCH
        …/orders/{id}/results`)."""
        rule = {
            "status": status,
            "count": count,
            "method": method,
            "path_contains": path or f"/orders/{order_id}/results",
        }
        (await self.http.post(f"{self.sr}/__sim/faults", json=rule)).raise_for_status()

    async def sr_requests(self, path_contains: str) -> list[dict]:
        return (
            (
                await self.http.get(
                    f"{self.sr}/__sim/requests", params={"path_contains": path_contains}
                )
            )
            .raise_for_status()
            .json()
        )

    async def outbox(self, order_id: str) -> list[dict]:
        """The sandbox vendor's emails for an order (our reference there names its company)."""
        reference = order_reference_of(order_id)
        return (
            (await self.http.get(f"{self.vendor}/control/outbox", params={"reference": reference}))
            .raise_for_status()
            .json()
        )

    async def invitation_email(self, order_id: str) -> dict:
        emails = await eventually(
            lambda: self.outbox(order_id), what=f"the vendor's email for order {order_id}"
        )
        return emails[0]

    async def at_vendor(self, action: str, order_id: str, **body) -> dict:
        """Drive the candidate at the vendor: start, complete (score=…) or decline."""
        reference = quote(order_reference_of(order_id), safe="")
        response = await self.http.post(
            f"{self.vendor}/control/orders/{reference}/{action}", json=body or None
        )
        return response.raise_for_status().json()

    async def sr_variants(self, **variants: str) -> None:
        """SR behaves in these ways (simulators/smartrecruiters/variants.py) until the test ends."""
        (await self.http.put(f"{self.sr}/__sim/variants", json=variants)).raise_for_status()

    async def webhook_mode(self, mode: str) -> None:
        (
            await self.http.post(f"{self.vendor}/control/webhooks", json={"mode": mode})
        ).raise_for_status()


@pytest.fixture
async def store(stack):
    """Our store, as the running API and worker see it."""
    opened = Store(stack.settings.store_url, stack.settings.encryption_keys.get_secret_value())
    yield opened
    await opened.dispose()


@pytest.fixture
async def world(stack):
    async with httpx.AsyncClient(timeout=30) as http:
        yield World(stack.settings, http)
        # The next test meets SR as it behaves by default.
        (await http.put(f"{stack.settings.sr_base_url}/__sim/variants", json={})).raise_for_status()
