"""Contract: what the Checkr adapter sends, and what the simulator answers, fit Checkr's spec.

The adapter runs a whole order life (and the refusals it can meet) against the simulator
through a transport that records every exchange; each is then checked against the published
OpenAPI document (simulators/checkr-openapi.yaml), whose paths are relative to /v1.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from orders.models import Candidate, Order
from peers import PeerError
from simulators.checkr import CheckrSimConfig, create_app
from simulators.openapi import ApiDescription
from tests.support.http import client as http_client
from tests.support.servers import serve
from tests.vendors.test_checkr_adapter import new_order
from vendors.base import OrderCallback
from vendors.checkr import CheckrVendor

API_KEY = "contract-test-api-key"
SPEC = ApiDescription.packaged("checkr-openapi.yaml")


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests on over HTTP and keeps (method,
    /v1-relative path, request body, status, response body)."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.exchanges: list[tuple[str, str, object, int, object]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        if request.url.path.startswith("/v1/"):
            sent = json.loads(request.content) if request.content else None
            self.exchanges.append(
                (
                    request.method,
                    request.url.path.removeprefix("/v1"),
                    sent,
                    response.status_code,
                    json.loads(content),
                )
            )
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def order(package_id: str = "driver_pro") -> Order:
    """An order for a candidate whose name uses what Checkr's name patterns allow."""
    candidate = Candidate(
        first_name="José",
        last_name="O'Brien-Núñez",
        email=f"jose-{uuid.uuid4().hex[:8]}@example.com",
    )
    return new_order(package_id).model_copy(update={"candidate": candidate})


@pytest.fixture(scope="module")
async def exchanges():
    """Every exchange of one full order life, a cancelled order and the usual refusals."""
    recorder = Recorder()
    with serve(create_app(CheckrSimConfig(api_key=API_KEY))) as url:
        adapter = CheckrVendor(
            api_key=API_KEY,
            base_url=url,
            work_location={"country": "US", "state": "NY", "city": "New York"},
            node="north-region",
            transport=recorder,
        )
        stranger = CheckrVendor(api_key="not-the-key", base_url=url, transport=recorder)
        async with http_client(base_url=f"{url}/_sim") as sim:
            (
                await sim.put("/variants", json={"nodes": ["north-region"]})
            ).raise_for_status()  # node and location required
            await adapter.list_packages()
            invitation = await adapter.create_invitation(order(), OrderCallback(url="", token=""))
            await adapter.create_invitation(order(), OrderCallback(url="", token=""))
            await adapter.get_status(invitation.vendor_ref)
            report_id = (
                await sim.post(f"/invitations/{invitation.vendor_ref.split(':')[1]}/complete")
            ).json()["report_id"]
            await adapter.get_status(invitation.vendor_ref)
            await sim.post(f"/reports/{report_id}/complete", json={"result": "consider"})
            await adapter.get_status(invitation.vendor_ref)
            await adapter.get_result(invitation.vendor_ref)
            await adapter.download_report(invitation.vendor_ref)
            cancelled = await adapter.create_invitation(order(), OrderCallback(url="", token=""))
            await adapter.cancel_invitation(cancelled.vendor_ref)
            await adapter.get_status(cancelled.vendor_ref)
            for refused in (
                adapter.create_invitation(
                    order("no_such_package"), OrderCallback(url="", token="")
                ),
                stranger.list_packages(),
            ):
                with pytest.raises(PeerError):
                    await refused
        await adapter.aclose()
        await stranger.aclose()
    await recorder.aclose()
    return recorder.exchanges


async def test_the_adapter_covers_the_api_it_needs(exchanges):
    seen = {
        (method, SPEC.operation(method, path).template, status)
        for method, path, _, status, _ in exchanges
    }
    assert seen >= {
        ("GET", "/packages", 200),
        ("POST", "/candidates", 201),
        ("POST", "/invitations", 201),
        ("GET", "/invitations/{id}", 200),
        ("GET", "/reports/{id}", 200),
        ("DELETE", "/invitations/{id}", 200),
        ("POST", "/invitations", 404),
        ("GET", "/packages", 401),
    }


async def test_every_request_body_fits_the_spec(exchanges):
    sent = [(method, path, body) for method, path, body, _, _ in exchanges if body is not None]
    assert {path for _, path, _ in sent} == {"/candidates", "/invitations"}
    for method, path, body in sent:
        assert SPEC.request_errors(method, path, body) == [], (method, path)


async def test_every_simulator_answer_fits_the_spec(exchanges):
    for method, path, _, status, body in exchanges:
        assert SPEC.response_errors(method, path, status, body) == [], (method, path, status)


def test_the_checks_catch_wrong_bodies(exchanges):
    # What Checkr refuses: no package, and a work location without its required state.
    problems = SPEC.request_errors(
        "post", "/invitations", {"candidate_id": "c1", "work_locations": [{"country": "US"}]}
    )
    assert any("'package' is a required property" in p for p in problems)
    assert any(p.startswith("work_locations[0]") and "'state'" in p for p in problems)
    # A recorded answer, spoiled: a status Checkr does not have, and a null where a string is due.
    method, path, _, status, report = next(
        e for e in exchanges if e[1].startswith("/reports/") and e[3] == 200
    )
    assert SPEC.response_errors(method, path, status, report) == []
    spoiled = SPEC.response_errors(
        method, path, status, report | {"status": "done", "completed_at": None}
    )
    assert (
        len(spoiled) == 2
        and any(p.startswith("status") for p in spoiled)
        and any(p.startswith("completed_at") for p in spoiled)
    )
    assert SPEC.response_errors("post", "/invitations", 418, {}) != []
