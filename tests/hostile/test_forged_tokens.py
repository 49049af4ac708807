"""Bearer tokens signed with our key but shaped as we never issue them: each answers 401, never a
500 and never a token that speaks for any company or for ever."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest

from api.auth import AUDIENCE

MISSING = object()
DAY = 86400


def forged(settings, **changes) -> str:
    """A token signed with our key: the settings' credentials' claims as we issue them, with `changes`
    (MISSING drops a claim)."""
    now = int(time.time())
    claims = {
        "sub": settings.partner_client_id, "company": settings.partner_company_id, "connected_at": None,
        "aud": AUDIENCE, "iat": now, "exp": now + settings.token_ttl_seconds,
    } | changes  # fmt: skip
    return jwt.encode({name: value for name, value in claims.items() if value is not MISSING}, settings.token_signing_key.get_secret_value())


SHAPES = {
    "company is a list": {"company": ["sim-company-1"]},
    "company is an object": {"company": {"id": "sim-company-1"}},
    "company is a number": {"company": 7},
    "company is null (speaks for any company)": {"company": None},
    "company is missing": {"company": MISSING},
    "sub is missing": {"sub": MISSING},
    "iat is missing": {"iat": MISSING},
    "exp is missing": {"exp": MISSING},
    "exp in 10**20 seconds": {"exp": 10**20},
    "exp a day beyond the lifetime we give": {"exp": int(time.time()) + DAY},
    "exp is a string of digits": {"exp": str(int(time.time()) + 60)},
    "connected_at is missing": {"connected_at": MISSING},
    "connected_at is a string": {"connected_at": "2025-01-01T00:00:00Z"},
    "connected_at is a boolean": {"connected_at": True},
    "connected_at is a float": {"connected_at": 1e300},
    "connected_at is a huge integer": {"connected_at": 10**40},
}


@pytest.fixture(scope="module")
def api(stack):
    with httpx.Client(base_url=stack.settings.public_url, timeout=30) as http:
        yield http


def an_order_for_no_package(company_id) -> dict:
    """Accepted, it would be a 404 (no such package), so a token that passes starts no workflow."""
    order_id = f"forged-{uuid.uuid4()}"
    return {
        "resultCallbackURL": f"https://api.smartrecruiters.com/assessment-api/v202010/orders/{order_id}/results",
        "assessmentPackageId": "no-such-package", "companyId": company_id,
        "candidate": {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"}, "job": {"id": "job-1"},
    }  # fmt: skip


def test_a_token_shaped_as_we_issue_it_is_good(api, stack):
    bearer = {"Authorization": f"Bearer {forged(stack.settings)}"}
    assert api.get("/packages", headers=bearer).status_code == 200
    assert api.post("/packages/orders", json=an_order_for_no_package(stack.settings.partner_company_id), headers=bearer).status_code == 404


@pytest.mark.parametrize("changes", SHAPES.values(), ids=SHAPES.keys())
def test_a_token_with_claims_we_never_issue_is_a_401(api, stack, changes):
    bearer = {"Authorization": f"Bearer {forged(stack.settings, **changes)}"}
    company = changes.get("company", stack.settings.partner_company_id)
    for response in (
        api.get("/packages", headers=bearer),
        api.post("/packages/orders", json=an_order_for_no_package(company if isinstance(company, str) else "sim-company-1"), headers=bearer),
    ):
        assert response.status_code == 401, (response.status_code, response.text[:200])
        assert response.json()["errors"][0]["message"] == "The bearer token is invalid or expired"
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
