"""What a test does to the outside world of a running stack: SR (its simulator) and the sandbox
vendor."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import httpx

from settings import Settings
from tests.support.order_workflows import companies_of_orders, order_reference_of
from tests.support.waiting import eventually


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
