"""Bearer tokens signed with our key but shaped as we never issue them: each answers 401, never a
500 and never a token that speaks for any company or for ever. The shapes an attack found, then a
fuzzer of every claim (its counts join the fuzzing summary, docs/reliability.md)."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from api.auth import AUDIENCE, CLOCK_SKEW_SECONDS
from tests.hostile.fuzz_ledger import LEDGER

MISSING = object()
DAY = 86400


def forged(settings, **changes) -> str:
    """A token signed with our key: the settings' credentials' claims as we issue them, with
    `changes` (MISSING drops a claim)."""
    now = int(time.time())
    claims = {
        "sub": settings.partner_client_id,
        "company": settings.partner_company_id,
        "connected_at": None,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + settings.token_ttl_seconds,
    } | changes
    return jwt.encode(
        {name: value for name, value in claims.items() if value is not MISSING},
        settings.token_signing_key.get_secret_value(),
    )


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
    "company is another, for the settings' credentials": {"company": "another-company"},
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
        "assessmentPackageId": "no-such-package",
        "companyId": company_id,
        "candidate": {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"},
        "job": {"id": "job-1"},
    }


def test_a_token_shaped_as_we_issue_it_is_good(api, stack):
    bearer = {"Authorization": f"Bearer {forged(stack.settings)}"}
    assert api.get("/packages", headers=bearer).status_code == 200
    assert (
        api.post(
            "/packages/orders",
            json=an_order_for_no_package(stack.settings.partner_company_id),
            headers=bearer,
        ).status_code
        == 404
    )


@pytest.mark.parametrize("changes", SHAPES.values(), ids=SHAPES.keys())
def test_a_token_with_claims_we_never_issue_is_a_401(api, stack, changes):
    bearer = {"Authorization": f"Bearer {forged(stack.settings, **changes)}"}
    company = changes.get("company", stack.settings.partner_company_id)
    for response in (
        api.get("/packages", headers=bearer),
        api.post(
            "/packages/orders",
            json=an_order_for_no_package(company if isinstance(company, str) else "sim-company-1"),
            headers=bearer,
        ),
    ):
        assert response.status_code == 401, (response.status_code, response.text[:200])
        assert response.json()["errors"][0]["message"] == "The bearer token is invalid or expired"
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


# Any JSON a claim could hold: huge and negative numbers, NaN and infinities, strings, nesting.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([10**20, -(10**20), 10**4000])
    | st.floats()
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
CLAIMS = ("sub", "company", "connected_at", "iat", "exp")


@hypothesis_settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_fuzzed_claims_never_answer_5xx_nor_speak_beyond_the_settings_company(api, stack, data):
    """Each claim kept as we issue it, dropped, or any JSON value;
    only the shape we issue gets in."""
    settings = stack.settings
    now = int(time.time())
    issued = {
        "sub": settings.partner_client_id,
        "company": settings.partner_company_id,
        "connected_at": None,
        "iat": now,
        "exp": now + settings.token_ttl_seconds,
    }
    changes = {
        claim: data.draw(st.sampled_from([issued[claim], MISSING]) | JSON_VALUES, label=claim)
        for claim in CLAIMS
    }
    started = time.monotonic()
    response = api.get(
        "/packages", headers={"Authorization": f"Bearer {forged(settings, **changes)}"}
    )
    LEDGER.record(
        "SmartRecruiters, forged bearer tokens",
        "GET /packages",
        response.status_code,
        time.monotonic() - started,
    )
    assert response.status_code in (200, 401), (response.status_code, response.text[:200])
    if response.status_code == 200:
        assert changes["company"] == settings.partner_company_id and changes["connected_at"] is None
        assert (
            type(changes["exp"]) is int
            and changes["exp"] <= now + settings.token_ttl_seconds + CLOCK_SKEW_SECONDS + 5
        )
