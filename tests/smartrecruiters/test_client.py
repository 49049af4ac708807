"""The SmartRecruiters client against the SR simulator over real HTTP."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from peers import PeerError
from smartrecruiters import observations
from smartrecruiters.client import AccessRefused, SmartRecruitersClient
from store import Store
from tests.support.http import client as http_client
from tests.support.servers import serve, smartrecruiters_alone


@pytest.fixture(scope="module")
def sr(tmp_path_factory):
    with smartrecruiters_alone(tmp_path_factory.mktemp("sr")) as (url, _):
        yield url


def client_for(base_url: str, **overrides) -> SmartRecruitersClient:
    options = dict(
        base_url=base_url,
        token_url=f"{base_url}/identity/oauth/token",
        client_id="our-id",
        client_secret="our-secret",
    )
    return SmartRecruitersClient(**(options | overrides))


async def an_order(sr: str) -> str:
    """An order SR knows about, placed as SR would (the partner is unreachable,
    which is fine here)."""
    async with http_client() as http:
        candidate = (await http.get(f"{sr}/__sim/candidates")).json()[0]
        response = await http.post(
            f"{sr}/__sim/orders",
            json={"candidate_id": candidate["id"], "package_id": "p", "kind": "manual"},
        )
        return response.json()["order_id"]


async def requests_to(sr: str, path_contains: str) -> list[dict]:
    async with http_client() as http:
        return (
            await http.get(f"{sr}/__sim/requests", params={"path_contains": path_contains})
        ).json()


async def fault(sr: str, **rule) -> None:
    async with http_client() as http:
        (await http.post(f"{sr}/__sim/faults", json=rule)).raise_for_status()


async def test_token_is_fetched_once_and_reused(sr):
    order_id = await an_order(sr)
    client = client_for(sr)
    token_requests_before = len(await requests_to(sr, "/identity/oauth/token"))
    for status in ("PENDING", "IN_PROGRESS", "COMPLETED"):
        await client.patch_result(order_id, {"status": status})
    await client.aclose()
    assert len(await requests_to(sr, "/identity/oauth/token")) == token_requests_before + 1
    assert [r["json"]["status"] for r in await requests_to(sr, f"/orders/{order_id}/results")] == [
        "PENDING",
        "IN_PROGRESS",
        "COMPLETED",
    ]


async def test_too_many_requests_carries_retry_after(sr):
    order_id = await an_order(sr)
    await fault(sr, status=429, count=1, retry_after=7, path_contains=order_id)
    client = client_for(sr)
    with pytest.raises(PeerError) as caught:
        await client.patch_result(order_id, {"status": "PENDING"})
    await client.aclose()
    assert (caught.value.status, caught.value.retryable, caught.value.retry_after) == (
        429,
        True,
        7.0,
    )


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (408, True), (409, True), (403, False), (404, False)],
)
async def test_errors_are_classified_for_retry(sr, status, retryable):
    order_id = await an_order(sr)
    await fault(sr, status=status, count=1, path_contains=order_id)
    client = client_for(sr)
    with pytest.raises(PeerError) as caught:
        await client.patch_result(order_id, {"status": "PENDING"})
    await client.aclose()
    assert caught.value.retryable is retryable


async def test_invalid_result_is_not_retried(sr):
    order_id = await an_order(sr)
    client = client_for(sr)
    with pytest.raises(PeerError) as caught:
        await client.patch_result(order_id, {"status": "DONE"})
    await client.aclose()
    assert (caught.value.status, caught.value.retryable) == (400, False)


async def test_a_rejected_token_is_replaced_once(sr):
    order_id = await an_order(sr)
    client = client_for(sr)
    await client.patch_result(order_id, {"status": "PENDING"})
    await fault(sr, status=401, count=1, path_contains=f"{order_id}/results")
    await client.patch_result(order_id, {"status": "IN_PROGRESS"})
    await client.aclose()
    statuses = [r["status"] for r in await requests_to(sr, f"{order_id}/results")]
    assert statuses == [200, 401, 200]


async def test_attachment_upload_returns_the_url_sr_keeps_the_file_at(sr):
    order_id = await an_order(sr)
    client = client_for(sr)
    url = await client.upload_attachment(
        order_id, "report.pdf", b"%PDF-1.4 test", "application/pdf"
    )
    await client.aclose()
    async with http_client() as http:
        assert (await http.get(url)).content == b"%PDF-1.4 test"


async def test_refused_credentials_are_sr_refusing_us_for_the_company(sr, caplog, monkeypatch):
    monkeypatch.setattr(observations, "_seen", set())  # logged once per process: this test's first
    caplog.set_level(logging.INFO, logger="assessments.smartrecruiters.protocol")
    client = client_for(sr, client_secret="wrong")
    with pytest.raises(AccessRefused) as caught:
        await client.patch_result(str(uuid.uuid4()), {"status": "PENDING"})
    await client.aclose()
    assert (caught.value.status, caught.value.retryable) == (401, True)
    assert "credentials" in str(caught.value) and "wrong" not in str(caught.value)
    assert (
        "SmartRecruiters protocol: refusal of a company it does not integrate is HTTP 401 "
        "at the token endpoint (first seen in this process)"
    ) in caplog.messages


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refusal_of_an_orders_call_with_a_fresh_token_is_sr_refusing_us_for_the_company(
    sr, status, caplog, monkeypatch
):
    """A 403, or a 401 again with a fresh token: SR refuses us for the company, whatever we sent;
    the activities then decide how long to try again (docs/reliability.md)."""
    monkeypatch.setattr(observations, "_seen", set())
    caplog.set_level(logging.INFO, logger="assessments.smartrecruiters.protocol")
    order_id = await an_order(sr)
    await fault(sr, status=status, count=4, path_contains=f"{order_id}/results")
    client = client_for(sr)
    for call in (
        client.patch_result(order_id, {"status": "PENDING"}),
        client.upload_attachment(order_id, "r.pdf", b"%PDF", "application/pdf"),
    ):
        with pytest.raises(AccessRefused) as caught:
            await call
        assert (caught.value.status, caught.value.retryable) == (status, False)
    await client.aclose()
    assert (
        "SmartRecruiters protocol: refusal of a company it does not integrate is HTTP "
        f"{status} to an order's result update (first seen in this process)"
    ) in caplog.messages
    # A 404 (or a 400) is about the order or the update: not SR refusing us for the company.
    with pytest.raises(PeerError) as unknown:
        await client_for(sr).patch_result(str(uuid.uuid4()), {"status": "PENDING"})
    assert unknown.value.status == 404 and not isinstance(unknown.value, AccessRefused)


def holding_server(state: dict) -> FastAPI:
    """An SR that counts requests in flight and holds the first 8 for half a second: a client
    allowed more than 8 sends the 9th meanwhile (the server then lets everything go)."""
    app = FastAPI()
    release = asyncio.Event()

    @app.post("/identity/oauth/token")
    async def token():
        return {"access_token": "t", "expires_in": 3600}

    @app.patch("/assessment-api/v202010/orders/{order_id}/results")
    async def patch(order_id: str):
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        if state["now"] == 8 and not release.is_set():
            asyncio.get_running_loop().call_later(0.5, release.set)
        elif state["now"] > 8:
            release.set()
        await asyncio.wait_for(release.wait(), timeout=5)
        state["now"] -= 1
        return {}

    return app


async def test_never_more_than_eight_requests_in_flight():
    """SR allows 8 concurrent requests per credential; one client keeps to it alone."""
    state = {"now": 0, "peak": 0}
    with serve(holding_server(state)) as url:
        client = client_for(url, requests_per_second=1000)
        await asyncio.gather(
            *(client.patch_result(str(i), {"status": "PENDING"}) for i in range(30))
        )
        await client.aclose()
    assert state["peak"] == 8


@pytest.mark.parametrize("shared", [True, False], ids=["shared limits", "each process alone"])
async def test_three_processes_send_one_credential_eight_requests_in_flight_at_most(
    tmp_path, shared
):
    """Three workers hold clients of one credential; through the store they keep SR's 8 in flight
    together. Each alone, they send up to 24 (the second case shows the test can fail)."""
    state = {"now": 0, "peak": 0}
    url_of_store = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    key = Fernet.generate_key().decode()
    stores = [Store(url_of_store, key) for _ in range(3)]
    await stores[0].migrate()
    with serve(holding_server(state)) as url:
        clients = [
            client_for(url, requests_per_second=1000, shared_limits=s.limits if shared else None)
            for s in stores
        ]
        await asyncio.gather(
            *(clients[i % 3].patch_result(str(i), {"status": "PENDING"}) for i in range(30))
        )
        for client in clients:
            await client.aclose()
    for store in stores:
        await store.dispose()
    assert (state["peak"] == 8) if shared else (state["peak"] > 8), state


async def test_never_more_than_ten_requests_in_any_second():
    """SR allows 10 requests/s per credential; the server records when each request arrived."""
    app = FastAPI()
    arrivals: list[float] = []

    @app.post("/identity/oauth/token")
    async def token():
        return {"access_token": "t", "expires_in": 3600}

    @app.patch("/assessment-api/v202010/orders/{order_id}/results")
    async def patch(order_id: str):
        arrivals.append(time.monotonic())
        return {}

    with serve(app) as url:
        client = client_for(url)
        await asyncio.gather(
            *(client.patch_result(str(i), {"status": "PENDING"}) for i in range(25))
        )
        await client.aclose()
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    # A slow machine only spreads requests out; a burst
    # (as a plain 10-per-second bucket allows) shows as ~20.
    assert len(arrivals) == 25 and busiest <= 11


@pytest.mark.parametrize(
    "answer",
    [
        {"token_type": "bearer", "expires_in": 3600},
        {"access_token": "", "expires_in": 3600},
        {"access_token": "t", "expires_in": "an hour"},
        ["t"],
    ],
)
async def test_a_token_answer_without_a_usable_token_is_final_and_sends_nothing(answer):
    """SR's token endpoint answering 200 without a token (or with an unreadable lifetime) is no
    transient failure: retrying asks the same endpoint the same question."""
    app = FastAPI()
    patched: list[str] = []

    @app.post("/identity/oauth/token")
    async def token():
        return answer

    @app.patch("/assessment-api/v202010/orders/{order_id}/results")
    async def patch(order_id: str):
        patched.append(order_id)
        return {}

    with serve(app) as url:
        client = client_for(url)
        with pytest.raises(PeerError) as refused:
            await client.patch_result("o-1", {"status": "PENDING"})
        await client.aclose()
    assert not refused.value.retryable and "without access_token" in str(refused.value)
    assert patched == []
