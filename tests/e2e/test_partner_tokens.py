"""The bearer tokens SR calls us with: each speaks for the one company, and the one connection,
whose credentials earned it. A token from before a disconnect stays dead after the company
reconnects, and the settings' credentials never act for a company that connected through Connect."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import WorkflowExecutionStatus

from store import ConnectionState
from tests.hostile.conftest import own_api
from tests.support.connect import disconnect_checked, fill_in_consent
from tests.support.http import client as http_client
from tests.support.order_workflows import terminate_quietly, workflow_becomes

NOT_THIS_COMPANY = "These credentials are not valid for this company"
TOKEN_DEAD = "The bearer token is invalid or expired"


async def connect_through_sr(world, trigger_token: str, company_id: str) -> tuple[str, str]:
    """Connect (or reconnect) the company at SR the way its admin does; the partner credentials SR
    received from us for it, as SR's own record of our call shows them."""
    consent = (await world.http.post(f"{world.sr}/__sim/companies/{company_id}/consent")).json()
    async with http_client(timeout=30) as admin:
        connected = await fill_in_consent(
            admin, consent["consent_url"], trigger_token, "admin@example.com"
        )
    assert connected.status_code == 200, connected.text
    handed_over = [
        r
        for r in await world.sr_requests(f"/integration/company/{company_id}")
        if r["method"] == "POST" and r["status"] == 200
    ]
    latest = handed_over[-1]["json"]
    return latest["clientId"], latest["clientSecret"]


async def token_of(api: httpx.AsyncClient, client_id: str, secret: str) -> dict[str, str]:
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def an_order(settings, company_id: str) -> dict:
    order_id = f"tokens-{uuid.uuid4()}"
    return {
        "resultCallbackURL": (
            f"{settings.sr_base_url}/assessment-api/v202010/orders/{order_id}/results"
        ),
        "assessmentPackageId": "skills-fullstack",
        "companyId": company_id,
        "job": {"id": "job-1"},
        "candidate": {
            "email": "ada@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "applicationLanguage": "en",
        },
        # Inline orders only.
        "completedAssessmentCallbackUrl": f"{settings.sr_base_url}/candidates/back",
    }


def order_id_of(body: dict) -> str:
    return body["resultCallbackURL"].rsplit("/", 2)[-2]


async def every_route(
    api: httpx.AsyncClient, bearer: dict, company_id: str, settings
) -> dict[str, Any]:
    """Each SR route, called for `company_id` with `bearer`;
    the orders' bodies name fresh order ids."""
    orders = {
        "/packages/orders": an_order(settings, company_id),
        "/packages/inline/orders": an_order(settings, company_id),
    }
    answers: dict[str, Any] = {
        "GET /packages": await api.get("/packages", headers=bearer),
        "GET /packages/{id}": await api.get("/packages/skills-fullstack", headers=bearer),
    }
    for path, body in orders.items():
        answers[f"POST {path}"] = await api.post(path, json=body, headers=bearer)
    answers["DELETE /integrations/companies/{id}"] = await api.delete(
        f"/integrations/companies/{company_id}", headers=bearer
    )
    answers["order ids"] = [order_id_of(body) for body in orders.values()]
    return answers


def refusals(answers: dict, status: int, message: str) -> dict[str, tuple[int, str]]:
    """The routes that did not refuse as expected, with what they answered instead."""
    wrong = {}
    for route, response in answers.items():
        if route == "order ids":
            continue
        if route.startswith("DELETE"):
            # Without the company's own token a DELETE is only a hint, answered as every other one;
            # the check with SR decides (disconnect_checked).
            if (response.status_code, response.content) != (204, b""):
                wrong[route] = (response.status_code, response.text[:200])
            continue
        if response.status_code != status or response.json()["errors"][0]["message"] != message:
            wrong[route] = (response.status_code, response.text[:200])
    return wrong


async def test_a_token_from_before_a_disconnect_stays_dead_after_a_reconnect(
    world, registered, trigger_token, stack, store, temporal
):
    settings = stack.settings
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    async with http_client(base_url=settings.public_url, timeout=30) as api:
        old = await token_of(api, *await connect_through_sr(world, trigger_token, company_id))
        assert (await api.get("/packages", headers=old)).status_code == 200

        assert (
            await world.http.post(f"{world.sr}/__sim/companies/{company_id}/disconnect")
        ).json()["partner_status"] == 204
        new_credentials = await connect_through_sr(world, trigger_token, company_id)
        assert (await store.connection(company_id)).state == ConnectionState.CONNECTED
        new = await token_of(api, *new_credentials)

        answers = await every_route(api, old, company_id, settings)
        try:
            assert refusals(answers, 401, TOKEN_DEAD) == {}
            assert (
                answers["GET /packages"].headers["WWW-Authenticate"]
                == 'Bearer error="invalid_token"'
            )
            # The old token's DELETE disconnected nothing (SR honours the new credentials); the new
            # token speaks for the company.
            await disconnect_checked(temporal, company_id)
            assert (await store.connection(company_id)).state == ConnectionState.CONNECTED
            catalog = await api.get("/packages", headers=new)
            assert catalog.status_code == 200 and "skills-fullstack" in {
                p["id"] for p in catalog.json()
            }
        finally:
            for order_id in answers["order ids"]:
                await terminate_quietly(temporal, order_id)

    # SR orders with the company's new credentials as before.
    placed = await world.order("skills-fullstack", company_id=company_id)
    try:
        assert placed["partner_status"] == 202
        await world.sr_status_becomes(placed["order_id"], "PENDING")
    finally:
        await terminate_quietly(temporal, placed["order_id"])


@pytest.fixture
async def two_connected_companies(world, registered, trigger_token, temporal):
    """Two companies connected through Connect, each with an order waiting for its candidate."""
    companies = [f"co-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    orders = {}
    for company_id in companies:
        await connect_through_sr(world, trigger_token, company_id)
        orders[company_id] = (await world.order("skills-fullstack", company_id=company_id))[
            "order_id"
        ]
    for order_id in orders.values():
        await world.sr_status_becomes(order_id, "PENDING")
    try:
        yield orders
    finally:
        for order_id in orders.values():
            await terminate_quietly(temporal, order_id)


async def assert_untouched(
    world, store, temporal, orders: dict[str, str], deleted: list[str]
) -> None:
    """`deleted`: the companies a DELETE was sent for, whose check with SR must have run first."""
    for company_id in deleted:
        await disconnect_checked(temporal, company_id)
    for company_id, order_id in orders.items():
        assert (await store.connection(company_id)).state == ConnectionState.CONNECTED
        await workflow_becomes(temporal, order_id, WorkflowExecutionStatus.RUNNING)
        assert [p["status"] for p in (await world.sr_order(order_id))["patches"]] == ["PENDING"]


async def test_the_settings_credentials_act_for_no_company_that_connected(
    world, stack, store, temporal, two_connected_companies
):
    settings = stack.settings
    async with http_client(base_url=settings.public_url, timeout=30) as api:
        bearer = await token_of(
            api, settings.partner_client_id, settings.partner_client_secret.get_secret_value()
        )
        placed: list[str] = []
        try:
            for company_id in two_connected_companies:
                answers = await every_route(api, bearer, company_id, settings)
                placed += answers["order ids"]
                # The catalog routes name no company: they answer with the settings' own company's.
                del answers["GET /packages"], answers["GET /packages/{id}"]
                assert refusals(answers, 403, NOT_THIS_COMPANY) == {}
                assert company_id not in answers["DELETE /integrations/companies/{id}"].text
            await assert_untouched(
                world,
                store,
                temporal,
                two_connected_companies,
                deleted=list(two_connected_companies),
            )
        finally:
            for order_id in placed:
                await terminate_quietly(temporal, order_id)


async def test_the_settings_credentials_lose_their_company_once_it_connects(
    world, stack, store, temporal, two_connected_companies
):
    """Configured for a company that then connected through Connect, the settings' credentials act
    for nobody: that company's own credentials, which its disconnect revokes, are the only ones."""
    settings = stack.settings
    company_id = next(iter(two_connected_companies))
    with own_api(settings, partner_company_id=company_id) as url:
        async with http_client(base_url=url, timeout=30) as api:
            bearer = await token_of(
                api, settings.partner_client_id, settings.partner_client_secret.get_secret_value()
            )
            answers = await every_route(api, bearer, company_id, settings)
    try:
        assert refusals(answers, 403, NOT_THIS_COMPANY) == {}
        await assert_untouched(
            world, store, temporal, two_connected_companies, deleted=[company_id]
        )
    finally:
        for order_id in answers["order ids"]:
            await terminate_quietly(temporal, order_id)


async def test_turning_the_settings_credentials_off_ends_their_tokens(stack):
    settings = stack.settings
    secret = settings.partner_client_secret.get_secret_value()
    async with http_client(base_url=settings.public_url, timeout=30) as api:
        bearer = await token_of(api, settings.partner_client_id, secret)
    with own_api(settings, partner_client_secret=SecretStr("")) as url:
        async with http_client(base_url=url, timeout=30) as api:
            catalog = await api.get("/packages", headers=bearer)
            token = await api.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": settings.partner_client_id,
                    "client_secret": secret,
                },
            )
    assert catalog.status_code == 401 and catalog.json()["errors"][0]["message"] == TOKEN_DEAD
    assert token.status_code == 400 and token.json()["error"] == "invalid_client"
