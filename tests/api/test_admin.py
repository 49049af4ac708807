"""The operators' admin API: its key, vendor accounts, trigger tokens, connections,
partner configuration."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import SecretStr

from admin.operations import VendorUnchecked
from admin.temporal import TemporalFailed
from api import admin, errors
from api.deps import DISABLED
from settings import Settings
from store import ConnectionState, Store, UnreadableSecret
from tests.support.http import client as http_client
from tests.support.servers import free_port
from tests.support.session_stack import ADMIN_KEY


def admin_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """The admin router on its own, as create_app mounts it (create_app needs Temporal)."""
    app = FastAPI()
    errors.install(app)
    app.include_router(admin.router)
    app.state.settings = settings
    app.state.store = store
    return app


def local(app: FastAPI, key: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://admin.test", headers=headers
    )


ROUTES = [
    ("POST", "/admin/vendor-accounts"),
    ("GET", "/admin/vendor-accounts"),
    ("POST", "/admin/vendor-accounts/x/trigger-tokens"),
    ("PUT", "/admin/vendor-accounts/x/credentials"),
    ("GET", "/admin/trigger-tokens"),
    ("DELETE", "/admin/trigger-tokens/x"),
    ("POST", "/admin/vendor-accounts/x/api-keys"),
    ("GET", "/admin/vendor-accounts/x/api-keys"),
    ("DELETE", "/admin/api-keys/x"),
    ("GET", "/admin/connections"),
    ("DELETE", "/admin/connections/x"),
    ("PUT", "/admin/smartrecruiters/partner-configuration"),
    ("GET", "/admin/smartrecruiters/partner-configuration"),
    ("GET", "/admin/orders"),
    ("POST", "/admin/orders/find"),
    ("GET", "/admin/orders/x"),
    ("POST", "/admin/orders/x/repairs/{kind}"),
    ("POST", "/admin/orders/bulk-repairs/{kind}"),
]


@pytest.fixture
async def api(stack):
    async with http_client(
        base_url=stack.settings.public_url,
        timeout=30,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ) as http:
        yield http


def a_name() -> str:
    return f"admin-{uuid.uuid4().hex[:8]}"


# --- the admin key --------------------------------------------------------------------------


def test_every_admin_route_is_listed_here():
    assert sorted(
        (
            next(iter(r.methods)),
            r.path.replace("{vendor_account_id}", "x")
            .replace("{token_id}", "x")
            .replace("{key_id}", "x")
            .replace("{company_id}", "x")
            .replace("{order_id}", "x"),
        )
        for r in admin.router.routes
        if isinstance(r, APIRoute)
    ) == sorted(ROUTES)


@pytest.mark.parametrize("key", [None, ""])
async def test_without_a_configured_key_every_route_answers_503(key):
    settings = Settings(admin_api_key=None if key is None else SecretStr(key))
    async with local(admin_app(settings), key="anything") as http:
        for method, path in ROUTES:
            response = await http.request(method, path, json={})
            assert response.status_code == 503, (method, path)
            assert response.json()["message"] == DISABLED


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": f"Bearer {ADMIN_KEY}x"},
        {"Authorization": f"Basic {ADMIN_KEY}"},
    ],
)
async def test_a_missing_or_wrong_key_is_refused(stack, headers):
    async with http_client(base_url=stack.settings.public_url, timeout=30) as http:
        for method, path in ROUTES:
            response = await http.request(
                method,
                path,
                headers=headers,
                json={"name": "x", "adapter": "sandbox", "credentials": {}},
            )
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"] == "Bearer"


# --- vendor accounts and trigger tokens ------------------------------------------------------


async def test_account_token_lifecycle(api, store):
    name = a_name()
    created = await api.post(
        "/admin/vendor-accounts",
        json={
            "name": name,
            "adapter": "sandbox",
            "credentials": {"api_key": "very-secret-key"},
            "package_settings": {"skills-fullstack": {"deadline_days": 3}},
        },
    )
    assert created.status_code == 201
    account = created.json()
    assert account["name"] == name and account["adapter"] == "sandbox"
    assert account["package_settings"] == {"skills-fullstack": {"deadline_days": 3}}
    assert "credentials" not in account and "very-secret-key" not in created.text
    assert (await store.vendor_account(account["id"])).credentials == {"api_key": "very-secret-key"}

    duplicate = await api.post(
        "/admin/vendor-accounts", json={"name": name, "adapter": "sandbox", "credentials": {}}
    )
    assert duplicate.status_code == 409 and name in duplicate.json()["message"]

    listed = await api.get("/admin/vendor-accounts")
    assert listed.status_code == 200 and "very-secret-key" not in listed.text
    [mine] = [a for a in listed.json() if a["id"] == account["id"]]
    assert mine == account

    issued = await api.post(
        f"/admin/vendor-accounts/{account['id']}/trigger-tokens", json={"expires_in_days": 2}
    )
    assert issued.status_code == 201 and issued.headers["cache-control"] == "no-store"
    token = issued.json()
    assert (
        token["token"].startswith("ett_")
        and token["vendor_account_id"] == account["id"]
        and token["expires_at"]
    )
    assert "only once" in token["notice"]
    redeemed = await store.redeem_trigger_token(token["token"])
    assert (
        redeemed is not None
        and redeemed.id == token["id"]
        and redeemed.vendor_account_id == account["id"]
    )

    tokens = await api.get("/admin/trigger-tokens", params={"vendor_account_id": account["id"]})
    assert tokens.status_code == 200 and token["token"] not in tokens.text
    assert [(t["id"], t["state"]) for t in tokens.json()] == [(token["id"], "active")]
    assert token["id"] in {t["id"] for t in (await api.get("/admin/trigger-tokens")).json()}

    revoked = await api.delete(f"/admin/trigger-tokens/{token['id']}")
    assert revoked.status_code == 204 and revoked.content == b""
    assert await store.redeem_trigger_token(token["token"]) is None
    [after] = (
        await api.get("/admin/trigger-tokens", params={"vendor_account_id": account["id"]})
    ).json()
    assert after["state"] == "revoked" and after["revoked_at"]
    assert (
        await api.delete(f"/admin/trigger-tokens/{token['id']}")
    ).status_code == 204  # idempotent


async def test_a_token_without_a_body_expires_after_the_default_days(api, stack):
    account = (
        await api.post(
            "/admin/vendor-accounts",
            json={"name": a_name(), "adapter": "sandbox", "credentials": {}},
        )
    ).json()
    before = datetime.now(UTC)
    issued = await api.post(f"/admin/vendor-accounts/{account['id']}/trigger-tokens")
    assert issued.status_code == 201
    expires_at = datetime.fromisoformat(issued.json()["expires_at"])
    default = timedelta(days=stack.settings.trigger_token_days)
    assert default == timedelta(days=7)
    assert before + default <= expires_at <= datetime.now(UTC) + default
    assert issued.json()["company_id"] is None


async def test_a_token_can_be_limited_to_one_company(api, store):
    account = (
        await api.post(
            "/admin/vendor-accounts",
            json={"name": a_name(), "adapter": "sandbox", "credentials": {}},
        )
    ).json()
    issued = await api.post(
        f"/admin/vendor-accounts/{account['id']}/trigger-tokens", json={"company_id": "acme-co.1"}
    )
    assert issued.status_code == 201 and issued.json()["company_id"] == "acme-co.1"
    [listed] = (
        await api.get("/admin/trigger-tokens", params={"vendor_account_id": account["id"]})
    ).json()
    assert listed["company_id"] == "acme-co.1"
    assert (await store.redeem_trigger_token(issued.json()["token"])).company_id == "acme-co.1"


@pytest.mark.parametrize("company_id", ["", "a b", "x" * 201, "acme\n", ["acme"]])
async def test_a_token_for_an_impossible_company_is_400(api, company_id):
    account = (
        await api.post(
            "/admin/vendor-accounts",
            json={"name": a_name(), "adapter": "sandbox", "credentials": {}},
        )
    ).json()
    response = await api.post(
        f"/admin/vendor-accounts/{account['id']}/trigger-tokens", json={"company_id": company_id}
    )
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "company_id"


async def test_unknown_vendor_accounts_and_tokens_are_404(api):
    unknown = str(uuid.uuid4())
    for response in (
        await api.post(f"/admin/vendor-accounts/{unknown}/trigger-tokens", json={}),
        await api.get("/admin/trigger-tokens", params={"vendor_account_id": unknown}),
        await api.delete(f"/admin/trigger-tokens/{unknown}"),
    ):
        assert response.status_code == 404 and unknown in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"adapter": "sandbox", "credentials": {}}, "name"),
        ({"name": "  ", "adapter": "sandbox", "credentials": {}}, "name"),
        ({"name": "x", "adapter": "acme", "credentials": {}}, "adapter"),
        ({"name": "x", "adapter": "sandbox", "credentials": "api_key=1"}, "credentials"),
        (
            {
                "name": "x",
                "adapter": "sandbox",
                "credentials": {},
                "package_settings": {"skills-fullstack": {"deadline_days": 0}},
            },
            "package_settings.skills-fullstack.deadline_days",
        ),
        (
            {
                "name": "x",
                "adapter": "sandbox",
                "credentials": {},
                "package_settings": {"skills-fullstack": {"deadline": 3}},
            },
            "package_settings.skills-fullstack.deadline",
        ),
    ],
)
async def test_invalid_vendor_accounts_are_400_naming_the_field(api, body, field):
    response = await api.post("/admin/vendor-accounts", json=body)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("days", [0, -1, 100000, "soon"])
async def test_an_invalid_expiry_is_400(api, days):
    account = (
        await api.post(
            "/admin/vendor-accounts",
            json={"name": a_name(), "adapter": "sandbox", "credentials": {}},
        )
    ).json()
    response = await api.post(
        f"/admin/vendor-accounts/{account['id']}/trigger-tokens", json={"expires_in_days": days}
    )
    assert (
        response.status_code == 400 and response.json()["errors"][0]["field"] == "expires_in_days"
    )


# --- connections -------------------------------------------------------------------------------


async def test_connections_are_listed_with_their_state(api, store):
    account = await store.create_vendor_account(name=a_name(), adapter="sandbox", credentials={})
    token = await store.issue_trigger_token(account.id)
    company_id = f"admin-co-{uuid.uuid4().hex[:8]}"
    client_id, client_secret = Store.mint_partner_credentials()
    await store.complete_connection(
        company_id=company_id,
        vendor_account_id=account.id,
        trigger_token_id=token.token_id,
        consent_email="admin@example.com",
        partner_client_id=client_id,
        partner_client_secret=client_secret,
        sr_client_id="sr-id",
        sr_client_secret="sr-secret",
    )

    response = await api.get("/admin/connections")
    assert (
        response.status_code == 200
        and client_secret not in response.text
        and "sr-secret" not in response.text
    )
    [connection] = [c for c in response.json() if c["company_id"] == company_id]
    assert (
        connection["vendor_account_id"] == account.id
        and connection["vendor_account_name"] == account.name
    )
    assert (
        connection["consent_email"] == "admin@example.com"
        and connection["trigger_token_id"] == token.token_id
    )
    assert (
        connection["state"] == "connected"
        and connection["connected_at"]
        and connection["disconnected_at"] is None
    )

    await store.disconnect(company_id)
    [connection] = [
        c for c in (await api.get("/admin/connections")).json() if c["company_id"] == company_id
    ]
    assert connection["state"] == ConnectionState.DISCONNECTED and connection["disconnected_at"]


# --- partner configuration at SmartRecruiters ----------------------------------------------------


async def test_partner_configuration_is_registered_and_shown(api, stack):
    registered = await api.put("/admin/smartrecruiters/partner-configuration")
    assert registered.status_code == 200
    assert registered.json()["consentUrl"] == f"{stack.settings.public_url}/integration"
    assert registered.json()["oauthTokenUrl"] == f"{stack.settings.public_url}/oauth/token"

    shown = await api.get("/admin/smartrecruiters/partner-configuration")
    assert shown.status_code == 200 and shown.json() == registered.json()


@pytest.mark.parametrize("method", ["PUT", "GET"])
async def test_smartrecruiters_refusing_our_master_credentials_is_502(stack, store, method):
    settings = stack.settings.model_copy(
        update={
            "admin_api_key": SecretStr(ADMIN_KEY),
            "sr_master_client_secret": SecretStr("wrong"),
        }
    )
    async with local(admin_app(settings, store), ADMIN_KEY) as http:
        response = await http.request(method, "/admin/smartrecruiters/partner-configuration")
    assert response.status_code == 502
    assert "master credentials" in response.json()["message"] and "wrong" not in response.text


async def test_smartrecruiters_unreachable_is_502(store):
    settings = Settings(
        admin_api_key=SecretStr(ADMIN_KEY),
        sr_base_url=f"http://127.0.0.1:{free_port()}",
        sr_timeout_seconds=2,
    )
    async with local(admin_app(settings, store), ADMIN_KEY) as http:
        response = await http.put("/admin/smartrecruiters/partner-configuration")
    assert response.status_code == 502 and "could not be reached" in response.json()["message"]


class Refusing:
    """Operations or an order lookup whose every call fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str):
        async def refuse(*args, **kwargs):
            raise self.error

        return refuse


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (TemporalFailed("Temporal did not answer in time"), 503),
        (UnreadableSecret("a vendor account's credentials need a retired key"), 500),
        (VendorUnchecked("the vendor account's catalog could not be read"), 502),
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/admin/vendor-accounts", None),
        ("GET", "/admin/orders/some-order", None),
        ("POST", "/admin/orders/find", {"order_id": "some-order"}),
    ],
)
async def test_refusals_answer_their_status_and_message_on_every_route(
    error, status, method, path, body
):
    app = admin_app(Settings(admin_api_key=SecretStr(ADMIN_KEY)))
    app.dependency_overrides[admin.operations] = lambda: Refusing(error)
    app.dependency_overrides[admin.order_lookup] = lambda: Refusing(error)
    async with local(app, ADMIN_KEY) as http:
        response = await http.request(method, path, json=body)
    assert response.status_code == status and response.json()["message"] == str(error)


async def test_operator_disconnects_a_company_sr_still_shows_connected(api, store):
    account = await store.create_vendor_account(name=a_name(), adapter="sandbox", credentials={})
    issued = await store.issue_trigger_token(account.id)
    client_id, secret = Store.mint_partner_credentials()
    company_id = f"co-{uuid.uuid4().hex[:8]}"
    await store.complete_connection(
        company_id=company_id,
        vendor_account_id=account.id,
        trigger_token_id=issued.token_id,
        consent_email="a@example.com",
        partner_client_id=client_id,
        partner_client_secret=secret,
        sr_client_id="sr",
        sr_client_secret="sr-secret",
    )
    response = await api.delete(f"/admin/connections/{company_id}")
    assert response.status_code == 200 and response.json() == {
        "company_id": company_id,
        "orders_cancelled": 0,
    }
    assert (await store.connection(company_id)).state == "disconnected"
    assert await store.authenticate_partner(client_id, secret) is None
    assert (await api.delete("/admin/connections/never-connected")).status_code == 404


@pytest.mark.parametrize(
    ("adapter", "credentials", "missing"),
    [
        ("hackerrank", {}, "api_key"),
        ("checkr", {"base_url": "https://api.checkr.com"}, "api_key"),
        ("testgorilla", {"username": "u"}, "password"),
        # Checkr's hierarchy accounts need a work location with the node, a US one its state.
        ("checkr", {"api_key": "k", "node": "north-region"}, "work_location"),
        ("checkr", {"api_key": "k", "node": "", "work_location": {"state": "CA"}}, "node"),
        ("checkr", {"api_key": "k", "work_location": {"country": "US"}}, "work_location.state"),
        (
            "checkr",
            {"api_key": "k", "work_location": {"country": "USA", "state": "CA"}},
            "work_location.country",
        ),
        ("checkr", {"api_key": "k", "work_location": "CA"}, "work_location"),
    ],
)
async def test_credentials_an_adapter_cannot_use_are_refused_at_once(
    api, adapter, credentials, missing
):
    name = a_name()
    response = await api.post(
        "/admin/vendor-accounts",
        json={"name": name, "adapter": adapter, "credentials": credentials},
    )
    assert response.status_code == 400
    assert adapter in response.json()["message"] and missing in response.json()["message"]
    assert name not in [
        a["name"] for a in (await api.get("/admin/vendor-accounts")).json()
    ]  # nothing stored


async def test_an_accounts_credentials_can_be_replaced_but_only_with_usable_ones(api, store):
    account = (
        await api.post(
            "/admin/vendor-accounts",
            json={"name": a_name(), "adapter": "checkr", "credentials": {"api_key": "old-key"}},
        )
    ).json()
    refused = await api.put(
        f"/admin/vendor-accounts/{account['id']}/credentials",
        json={"credentials": {"base_url": "https://api.checkr.com"}},
    )
    assert refused.status_code == 400 and "api_key" in refused.json()["message"]
    replaced = await api.put(
        f"/admin/vendor-accounts/{account['id']}/credentials",
        json={"credentials": {"api_key": "new-key"}},
    )
    assert replaced.status_code == 200 and "credentials" not in replaced.json()
    assert (await store.vendor_account(account["id"])).credentials == {"api_key": "new-key"}
    missing = await api.put(
        "/admin/vendor-accounts/no-such-account/credentials", json={"credentials": {"api_key": "k"}}
    )
    assert missing.status_code == 404
