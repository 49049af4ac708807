"""The Vendor API's accounts, keys and documents on the running stack: an operator makes an API
vendor account (its webhook secret shown once) and its keys; vendors read the published document."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from api.app import vendor_api_document
from tests.support.http import client as http_client
from tests.support.session_stack import ADMIN_KEY

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "vendor-api.openapi.json"
REGENERATE = (
    ".venv/bin/python -c 'import json; from api.app import vendor_api_document as d; "
    "print(json.dumps(d(), indent=2))' > docs/vendor-api.openapi.json"
)


@pytest.fixture
async def admin(stack):
    async with http_client(
        base_url=f"{stack.settings.public_url}/admin",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=30,
    ) as http:
        yield http


async def new_api_account(admin, **credentials) -> dict:
    created = await admin.post(
        "/vendor-accounts",
        json={
            "name": f"api-{uuid.uuid4().hex[:8]}",
            "adapter": "api",
            "credentials": {"webhook_url": "https://vendor.example/hooks"} | credentials,
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


async def test_an_api_vendor_account_gets_a_webhook_secret_once_and_keys_that_rotate(admin, stack):
    account = await new_api_account(admin)
    secret = account["webhook_secret"]
    assert secret.startswith("whsec_")
    Webhook(secret)  # the Standard Webhooks libraries take it as it is
    listed = [a for a in (await admin.get("/vendor-accounts")).json() if a["id"] == account["id"]]
    assert listed[0]["webhook_secret"] is None  # never shown again

    first = await admin.post(f"/vendor-accounts/{account['id']}/api-keys", json={"label": "a"})
    second = await admin.post(f"/vendor-accounts/{account['id']}/api-keys")
    assert first.status_code == second.status_code == 201
    assert first.headers["Cache-Control"] == "no-store"
    keys = [first.json()["key"], second.json()["key"]]
    async with http_client(base_url=f"{stack.settings.public_url}/vendor/v1") as vendor:
        for key in keys:  # both work at once: a rotation without downtime
            answer = await vendor.get("/packages", headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == 200 and answer.json() == {"packages": []}
        listed_keys = (await admin.get(f"/vendor-accounts/{account['id']}/api-keys")).json()
        assert [(k["label"], k["state"]) for k in listed_keys] == [
            ("a", "active"),
            ("default", "active"),
        ]
        assert not any(key in json.dumps(listed_keys) for key in keys)

        assert (await admin.delete(f"/api-keys/{first.json()['id']}")).status_code == 204
        revoked = await vendor.get("/packages", headers={"Authorization": f"Bearer {keys[0]}"})
        assert revoked.status_code == 401
        kept = await vendor.get("/packages", headers={"Authorization": f"Bearer {keys[1]}"})
        assert kept.status_code == 200
    assert (await admin.delete("/api-keys/no-such-key")).status_code == 404
    async with http_client(base_url=stack.settings.public_url) as other:
        # A vendor's key opens no admin route, and the admin key no vendor's.
        as_vendor = {"Authorization": f"Bearer {keys[1]}"}
        assert (await other.get("/admin/vendor-accounts", headers=as_vendor)).status_code == 401
        as_admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        assert (await other.get("/vendor/v1/packages", headers=as_admin)).status_code == 401


async def test_only_api_vendor_accounts_have_keys_and_their_credentials_are_checked(admin, stack):
    sandbox = await admin.post(
        "/vendor-accounts",
        json={
            "name": f"sandbox-{uuid.uuid4().hex[:8]}",
            "adapter": "sandbox",
            "credentials": {"api_key": stack.settings.sandbox_vendor_api_key.get_secret_value()},
        },
    )
    refused = await admin.post(f"/vendor-accounts/{sandbox.json()['id']}/api-keys")
    assert refused.status_code == 400 and "only API vendor accounts" in refused.text
    assert (await admin.post("/vendor-accounts/no-such-account/api-keys")).status_code == 404
    for credentials in (
        {"webhook_url": "ftp://vendor.example"},
        {"webhook_url": "https://vendor.example", "webhook_secret": "whsec_not base64!"},
        {},
    ):
        bad = await admin.post(
            "/vendor-accounts",
            json={
                "name": f"api-{uuid.uuid4().hex[:8]}",
                "adapter": "api",
                "credentials": credentials,
            },
        )
        assert bad.status_code == 400, credentials
        assert "not base64" not in bad.text  # never the value
    given = await new_api_account(admin, webhook_secret="whsec_" + "QUJD" * 8)
    assert given["webhook_secret"] is None  # the operator's own: nothing to show


async def test_the_vendor_api_document_is_served_to_anyone_and_committed(stack):
    async with http_client(base_url=stack.settings.public_url) as http:
        served = (await http.get("/vendor/v1/openapi.json")).json()
        main = (await http.get("/openapi.json")).json()
    assert served == vendor_api_document()
    assert json.loads(DOCUMENT.read_text()) == served, f"regenerate it: {REGENERATE}"
    assert set(served["paths"]) == {path for path in main["paths"] if path.startswith("/vendor/")}
    assert all(path.startswith("/vendor/v1/") for path in served["paths"])
