"""Whole orders under each way SR may shape its resultCallbackURL and take its merge patches:
every update and the report reach SR at the URL it gave, in a media type it takes."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from orders.visibility import order_reference
from smartrecruiters.callbacks import read_callback
from tests.support.order_workflows import SIM_COMPANY


async def at_vendor(world, action: str, reference: str, **body) -> None:
    """As World.at_vendor, for an order whose reference is not SR's order id's."""
    response = await world.http.post(
        f"{world.vendor}/control/orders/{quote(reference, safe='')}/{action}", json=body or None
    )
    response.raise_for_status()


@pytest.mark.parametrize(
    "variants",
    [
        {"callback_path": "results"},
        {"callback_path": "trailing-slash"},
        {"callback_path": "query"},
        {"callback_path": "other"},
        {"callback_host": "alias", "callback_path": "query"},
        {"callback_host": "alias", "callback_path": "other"},
        {"patch_media_type": "json"},
        {"patch_media_type": "merge-patch"},
    ],
    ids=lambda variants: ",".join(f"{k}={v}" for k, v in variants.items()),
)
async def test_a_whole_order_reaches_sr_where_and_as_sr_says(world, variants):
    await world.sr_variants(**variants)
    placed = await world.order("skills-fullstack")
    assert placed["partner_status"] == 202
    order_id = placed["order_id"]
    callback = (await world.sr_order(order_id))["result_callback_url"]
    # Our name of the order: SR's id where the callback shows it, else a digest of the callback.
    reference = order_reference(read_callback(callback).order_id, SIM_COMPANY)

    await world.sr_status_becomes(order_id, "PENDING")
    await at_vendor(world, "start", reference)
    await world.sr_status_becomes(order_id, "IN_PROGRESS")
    await at_vendor(world, "complete", reference, score=80)
    done = await world.sr_status_becomes(order_id, "COMPLETED")

    assert done["result"]["score"] == {"raw": 80, "min": 0, "max": 100}
    assert [p["status"] for p in done["patches"]] == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    [report] = done["attachments"]
    assert (await world.http.get(report["url"])).content.startswith(b"%PDF")
    # Every request reached the host, path and query SR gave, and SR took it.
    expected = urlsplit(callback)
    patches = [
        r for r in await world.sr_requests(expected.path.rstrip("/")) if r["method"] == "PATCH"
    ]
    assert {(r["host"], r["path"], r["query"]) for r in patches} == {
        (expected.netloc, expected.path, expected.query)
    }
    taken = [r for r in patches if r["status"] == 200]
    assert len(taken) == 3
    # A media type SR refuses (415) is switched once, and the client keeps the one SR took.
    assert [r["status"] for r in patches] in ([200, 200, 200], [415, 200, 200, 200])
    media_type = {"json": "application/json", "merge-patch": "application/merge-patch+json"}.get(
        variants.get("patch_media_type", "")
    )
    if media_type:
        assert {r["content_type"] for r in taken} == {media_type}
    [upload] = await world.sr_requests(expected.path.rstrip("/") + "/attachment")
    assert (upload["host"], upload["query"], upload["status"]) == (
        expected.netloc,
        expected.query,
        201,
    )


async def test_an_order_whose_callback_is_not_on_srs_origins_is_refused(world, stack, api_bearer):
    """An order body naming a foreign callback: results (and our SR token) would go there."""
    candidate = await world.new_candidate()
    body = {
        "resultCallbackURL": "https://smartrecruiters.com.evil.example/assessment-api/v202010/orders/6f1c9b1e-0c47-4d51-8a7b-0f8d0c4e2a11/results",
        "assessmentPackageId": "skills-fullstack",
        "companyId": SIM_COMPANY,
        "jobId": candidate["job"]["id"],
        "candidate": {"email": candidate["email"], "firstName": "Test", "lastName": "Candidate"},
        "job": {"id": candidate["job"]["id"]},
    }
    response = await world.http.post(f"{world.api}/packages/orders", json=body, headers=api_bearer)
    assert response.status_code == 400
    answer = response.json()
    assert answer["errors"][0]["field"] == "resultCallbackURL"
    assert "origins" in answer["message"] and "evil" not in response.text


@pytest.fixture
async def api_bearer(world, stack) -> dict:
    settings = stack.settings
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.partner_client_id,
        "client_secret": settings.partner_client_secret.get_secret_value(),
    }
    token = (await world.http.post(f"{world.api}/oauth/token", data=form)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}
