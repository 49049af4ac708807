"""The SR client posts results where SR's resultCallbackURL says, in the media type SR takes,
and never sends our SR token to a host that is not SR's."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI, Request

from orders import results
from orders.models import VendorResult
from peers import PeerError
from smartrecruiters.client import SmartRecruitersClient
from smartrecruiters.models import package_result_patch
from smartrecruiters.observations import log as protocol_log
from tests.support.http import client as http_client
from tests.support.servers import serve, smartrecruiters_alone


@pytest.fixture(scope="module")
def sr_sim(tmp_path_factory):
    with smartrecruiters_alone(tmp_path_factory.mktemp("sr-callbacks")) as (url, config):
        yield url, config


@pytest.fixture
async def sr(sr_sim):
    """The simulator's URL; the variants a test chooses last until it ends."""
    url, _ = sr_sim
    yield url
    async with http_client() as http:
        (await http.put(f"{url}/__sim/variants", json={})).raise_for_status()


def client_for(sr: str, **overrides) -> SmartRecruitersClient:
    options = dict(
        base_url=sr,
        token_url=f"{sr}/identity/oauth/token",
        client_id="our-id",
        client_secret="our-secret",
    )
    return SmartRecruitersClient(**(options | overrides))


async def an_order(sr: str, **variants: str) -> dict:
    """An order SR placed while behaving as `variants` say: its record, with its callback."""
    async with http_client() as http:
        (await http.put(f"{sr}/__sim/variants", json=variants)).raise_for_status()
        candidate = (await http.get(f"{sr}/__sim/candidates")).json()[0]
        placed = await http.post(
            f"{sr}/__sim/orders",
            json={"candidate_id": candidate["id"], "package_id": "p", "kind": "manual"},
        )
        return (await http.get(f"{sr}/__sim/orders/{placed.json()['order_id']}")).json()


async def sr_requests(sr: str, path_contains: str) -> list[dict]:
    async with http_client() as http:
        return (
            await http.get(f"{sr}/__sim/requests", params={"path_contains": path_contains})
        ).json()


async def stored(sr: str, order_id: str) -> dict:
    async with http_client() as http:
        return (await http.get(f"{sr}/__sim/orders/{order_id}")).json()


@pytest.mark.parametrize("path", ["results", "trailing-slash", "query", "other"])
async def test_the_result_and_the_report_go_to_the_callback_sr_gave(sr, path):
    order = await an_order(sr, callback_path=path)
    callback = urlsplit(order["result_callback_url"])
    client = client_for(sr)
    await client.patch_result(
        "our-id-of-it", {"status": "COMPLETED", "summary": "Done."}, order["result_callback_url"]
    )
    url = await client.upload_attachment(
        "our-id-of-it", "report.pdf", b"%PDF-1.4 r", "application/pdf", order["result_callback_url"]
    )
    await client.aclose()

    at_sr = await stored(sr, order["order_id"])
    assert at_sr["result"] == {"status": "COMPLETED", "summary": "Done."}
    assert [a["url"] for a in at_sr["attachments"]] == [url]
    [patch] = [
        r for r in await sr_requests(sr, callback.path.rstrip("/")) if r["method"] == "PATCH"
    ]
    assert (patch["path"], patch["query"], patch["status"]) == (callback.path, callback.query, 200)
    [upload] = await sr_requests(sr, callback.path.rstrip("/") + "/attachment")
    assert (upload["query"], upload["status"]) == (callback.query, 201)


async def test_sr_refuses_results_anywhere_but_at_the_callback_it_gave(sr):
    """What we did before: PATCH SR_BASE_URL/…/orders/{id}/results whatever the callback said."""
    order = await an_order(sr, callback_path="query")
    client = client_for(sr)
    with pytest.raises(PeerError) as refused:
        await client.patch_result(order["order_id"], {"status": "PENDING"})
    await client.aclose()
    assert refused.value.status == 404
    assert (await stored(sr, order["order_id"]))["result"] == {}


async def test_a_callback_on_another_allowed_origin_is_followed(sr, sr_sim):
    _, config = sr_sim
    order = await an_order(sr, callback_host="alias")
    assert order["result_callback_url"].startswith(config.alias_url)
    client = client_for(sr, callback_origins=[config.alias_url])
    await client.patch_result("x", {"status": "PENDING"}, order["result_callback_url"])
    await client.aclose()
    [patch] = await sr_requests(sr, f"/orders/{order['order_id']}/results")
    assert patch["host"] == urlsplit(config.alias_url).netloc and patch["status"] == 200


async def test_our_sr_token_never_goes_to_a_host_that_is_not_srs():
    """An order stored before the allowed origins changed names a host that is no longer SR's."""
    app = FastAPI()
    seen: list[dict] = []

    @app.post("/identity/oauth/token")
    async def token():
        return {"access_token": "our-sr-token", "expires_in": 3600}

    @app.api_route("/{path:path}", methods=["PATCH", "POST"])
    async def anything(path: str, request: Request):
        seen.append({"path": path, "authorization": request.headers.get("authorization")})
        return {"url": "https://x.example/f"}

    with serve(app) as sr, serve(FastAPI()) as elsewhere:
        foreign_host = elsewhere.replace("127.0.0.1", "localhost")
        foreign = f"{foreign_host}/assessment-api/v202010/orders/o-1/results"
        client = client_for(sr)
        for call in (
            client.patch_result("o-1", {"status": "PENDING"}, foreign),
            client.upload_attachment("o-1", "r.pdf", b"%PDF", "application/pdf", foreign),
        ):
            with pytest.raises(PeerError) as refused:
                await call
            assert (
                not refused.value.retryable
                and "not on an allowed SmartRecruiters origin" in str(refused.value)
            )
            assert "localhost" not in str(refused.value)  # the URL is not echoed
        await client.aclose()
    assert seen == []


async def test_a_refused_media_type_is_switched_once_and_kept(sr, caplog, monkeypatch):
    caplog.set_level("INFO", logger=protocol_log.name)
    monkeypatch.setattr("smartrecruiters.observations._seen", set())  # first sights in this test
    first, second = (
        await an_order(sr, patch_media_type="merge-patch"),
        await an_order(sr, patch_media_type="merge-patch"),
    )
    client = client_for(sr)  # application/json first, as SR's spec lists
    await client.patch_result("a", {"status": "PENDING"}, first["result_callback_url"])
    await client.patch_result("b", {"status": "PENDING"}, second["result_callback_url"])
    await client.aclose()

    tried = [
        (r["content_type"], r["status"])
        for o in (first, second)
        for r in await sr_requests(sr, f"/orders/{o['order_id']}/results")
    ]
    assert tried == [
        ("application/json", 415),
        ("application/merge-patch+json", 200),
        ("application/merge-patch+json", 200),
    ]
    assert (await stored(sr, second["order_id"]))["result"] == {"status": "PENDING"}
    assert "the result PATCH's media type is application/merge-patch+json" in caplog.text


async def test_a_configured_media_type_is_sent_first(sr):
    order = await an_order(sr, patch_media_type="both")
    client = client_for(sr, patch_media_type="application/merge-patch+json")
    await client.patch_result("x", {"status": "PENDING"}, order["result_callback_url"])
    await client.aclose()
    assert [
        r["content_type"] for r in await sr_requests(sr, f"/orders/{order['order_id']}/results")
    ] == ["application/merge-patch+json"]


async def test_no_report_is_uploaded_beside_a_callback_of_another_shape_when_the_setting_says_none(
    sr,
):
    order = await an_order(sr, callback_path="other")
    client = client_for(sr, other_callback_attachment="none")
    assert (
        await client.upload_attachment(
            "x", "r.pdf", b"%PDF", "application/pdf", order["result_callback_url"]
        )
        is None
    )
    await client.aclose()
    assert await sr_requests(sr, urlsplit(order["result_callback_url"]).path) == []


async def test_a_revision_without_a_score_leaves_none_at_sr(sr):
    """Before: the revision left score, label and date out of its patch, so SR kept the old ones."""
    order = await an_order(sr)
    client = client_for(sr)
    scored = VendorResult(
        score=8,
        max_score=10,
        outcome="passed",
        summary="8 of 10.",
        submitted_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    await client.patch_result(
        "x", package_result_patch(results.completed(scored)), order["result_callback_url"]
    )
    revised = VendorResult(summary="Revised after a dispute: clear.")
    await client.patch_result(
        "x", package_result_patch(results.completed(revised)), order["result_callback_url"]
    )
    await client.aclose()
    result = (await stored(sr, order["order_id"]))["result"]
    assert result == {
        "status": "COMPLETED",
        "summary": "Revised after a dispute: clear.",
        "assessmentResults": [],
    }
