"""Hostile inputs aimed at parsers, encodings and the store, on the stack (SQLite) and on an API of
ours whose store is PostgreSQL: each answered 4xx, never 5xx. Every case here was a 500 (or a
7-second 503) before its fix; see docs/reliability.md."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest

from simulators.sandbox_vendor.webhooks import sign
from tests.hostile.conftest import sr_token

NESTED = b"[" * 100_000 + b"]" * 100_000  # 200 kB, far past the JSON parser's recursion limit
NUL_IN_PATHS = [
    ("DELETE", "/integrations/companies/a%00b", "smartrecruiters"),
    ("GET", "/packages/a%00b", "smartrecruiters"),
    ("DELETE", "/admin/connections/a%00b", "admin"),
    ("PUT", "/admin/vendor-accounts/a%00b/credentials", "admin"),
    ("POST", "/admin/vendor-accounts/a%00b/trigger-tokens", "admin"),
    ("DELETE", "/admin/trigger-tokens/a%00b", "admin"),
    ("GET", "/admin/trigger-tokens?vendor_account_id=a%00b", "admin"),
    ("POST", "/webhooks/checkr/accounts/a%00b", None),
]


@pytest.fixture(params=["stack", "postgresql"])
def base_url(request, stack) -> str:
    return (
        stack.settings.public_url
        if request.param == "stack"
        else request.getfixturevalue("postgresql_api")
    )


@pytest.fixture
def auth(stack, base_url) -> dict[str | None, dict[str, str]]:
    return {
        "smartrecruiters": {"Authorization": f"Bearer {sr_token(base_url, stack.settings)}"},
        "admin": {"Authorization": f"Bearer {stack.settings.admin_api_key.get_secret_value()}"},
        None: {},
    }


def assert_refused(response: httpx.Response, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.text[:200])


@pytest.mark.parametrize(("method", "path", "who"), NUL_IN_PATHS)
def test_a_nul_in_a_path_or_query_is_a_400(base_url, auth, method, path, who):
    response = httpx.request(
        method,
        base_url + path,
        headers=auth[who],
        json={"credentials": {}} if method == "PUT" else None,
        timeout=30,
    )
    assert_refused(response)
    assert response.json()["errors"][0]["code"] == "INVALID_VALUE"


def test_a_nul_in_a_stored_name_is_a_400(base_url, auth, stack):
    account = {
        "name": f"nul\x00{uuid.uuid4().hex[:6]}",
        "adapter": "sandbox",
        "credentials": {"api_key": stack.settings.sandbox_vendor_api_key.get_secret_value()},
    }
    response = httpx.post(
        f"{base_url}/admin/vendor-accounts", json=account, headers=auth["admin"], timeout=30
    )
    # Refused before the store (SQLite would keep a NUL, PostgreSQL refuse it): a name is
    # printable text. Nothing of the request is echoed.
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0] == {
        "code": "INVALID_FIELD",
        "field": "name",
        "message": "name: Value error, must be printable text",
    }
    assert "nul" not in response.text


def test_an_order_for_a_company_id_with_a_nul_is_no_500(base_url, auth, stack):
    order = {
        "resultCallbackURL": (
            f"{stack.settings.sr_base_url}/assessment-api/v202010/orders/"
            f"hostile-{uuid.uuid4()}/results"
        ),
        "assessmentPackageId": "skills-fullstack",
        "companyId": "a\x00b",
        "candidate": {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"},
        "job": {"id": "job-1"},
    }
    response = httpx.post(
        f"{base_url}/packages/orders", json=order, headers=auth["smartrecruiters"], timeout=30
    )
    assert response.status_code < 500, response.text


def test_client_credentials_with_a_nul_are_an_invalid_client(base_url, stack):
    form = {
        "grant_type": "client_credentials",
        "client_id": "sr_a\x00b",
        "client_secret": "secret\x00",
    }
    basic = base64.b64encode(b"sr_a%00b:x").decode()
    for response, status in (
        (httpx.post(f"{base_url}/oauth/token", data=form, timeout=30), 400),
        (
            httpx.post(
                f"{base_url}/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}"},
                timeout=30,
            ),
            401,
        ),
    ):
        assert_refused(response, status)
        assert response.json()["error"] == "invalid_client"


def test_a_basic_header_with_non_ascii_characters_is_an_invalid_client(base_url):
    response = httpx.post(
        f"{base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={b"Authorization": b"Basic \xff\xfe"},
        timeout=30,
    )
    assert_refused(response, 401)
    assert response.json()["error"] == "invalid_client"


def test_a_requester_header_nested_too_deep_is_ignored_not_a_500(base_url, auth):
    """The header is never used, so no form of it refuses the catalog, and none breaks it."""
    headers = auth["smartrecruiters"] | {"requester": "[" * 3000 + "]" * 3000}
    response = httpx.get(f"{base_url}/packages", headers=headers, timeout=30)
    assert response.status_code == 200 and response.json()


@pytest.mark.parametrize("redirect", ["http://[::1", "https://[", "http://a:99999"])
def test_an_unparseable_return_address_is_explained_on_the_page(base_url, redirect):
    page = httpx.get(
        f"{base_url}/integration", params={"companyId": "acme", "redirect": redirect}, timeout=30
    )
    assert_refused(page)
    assert "return address is not a SmartRecruiters address" in page.text


def test_a_company_id_with_a_final_newline_is_not_a_company(base_url):
    page = httpx.get(f"{base_url}/integration", params={"companyId": "acme\n"}, timeout=30)
    assert_refused(page)
    assert "does not name a SmartRecruiters company" in page.text


def test_signed_webhooks_nested_too_deep_are_unreadable_not_a_crash(stack, checkr_account):
    """Only a vendor can sign, but a vendor's bug must not become our 500 (which it retries)."""
    settings = stack.settings
    account_id, key = checkr_account
    sandbox = httpx.post(
        f"{settings.public_url}/webhooks/sandbox",
        content=NESTED,
        headers={
            "Sandbox-Signature": sign(
                settings.sandbox_webhook_secret.get_secret_value(), NESTED, int(time.time())
            ),
            "Content-Type": "application/json",
        },
        timeout=30,
    )
    checkr = httpx.post(
        f"{settings.public_url}/webhooks/checkr/accounts/{account_id}",
        content=NESTED,
        headers={
            "X-Checkr-Signature": hmac.new(key.encode(), NESTED, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json",
        },
        timeout=30,
    )
    for response in (sandbox, checkr):
        assert_refused(response)
        assert json.loads(response.text)["message"] == "Webhook body is not a readable event"


def test_an_order_body_nested_too_deep_is_a_400(base_url, auth):
    response = httpx.post(
        f"{base_url}/packages/orders",
        content=NESTED,
        headers=auth["smartrecruiters"] | {"Content-Type": "application/json"},
        timeout=30,
    )
    assert_refused(response)


def test_a_signature_timestamp_past_the_integer_digit_limit_is_a_401(base_url, stack):
    """Python's int() refuses strings of more than 4,300 digits; an unsigned caller can send one."""
    body = (
        b'{"id": "evt-1", "type": "invitation.started", "data": {"invitation_id": "i", '
        b'"reference": "r"}}'
    )
    secret = stack.settings.sandbox_webhook_secret.get_secret_value()
    signature = sign(secret, body, int(time.time())).replace("t=", "t=" + "9" * 5000, 1)
    response = httpx.post(
        f"{base_url}/webhooks/sandbox",
        content=body,
        headers={"Sandbox-Signature": signature, "Content-Type": "application/json"},
        timeout=30,
    )
    assert_refused(response, 401)
    assert response.json()["message"] == "Webhook signature rejected"


@pytest.mark.parametrize("data", [b"", b"\x01", b"n" * 11, b"n" * 12, b"n" * 27])
def test_a_ciphertext_too_short_to_hold_its_nonce_and_tag_is_a_422(base_url, stack, data):
    key_id = stack.settings.payload_keys.get_secret_value().partition(":")[0]
    payload = {
        "metadata": {
            "encoding": base64.b64encode(b"binary/encrypted").decode(),
            "encryption-key-id": base64.b64encode(key_id.encode()).decode(),
        },
        "data": base64.b64encode(data).decode(),
    }
    admin = {"Authorization": f"Bearer {stack.settings.admin_api_key.get_secret_value()}"}
    response = httpx.post(
        f"{base_url}/codec/decode", json={"payloads": [payload]}, headers=admin, timeout=30
    )
    assert_refused(response, 422)
    assert response.json()["message"] == f"payload under key {key_id!r} failed its integrity check"
