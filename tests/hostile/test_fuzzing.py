"""Property-based fuzzing of our own OpenAPI document (schemathesis) against the running stack,
and against an API of ours whose store is PostgreSQL (the production database).

Every operation of `/openapi.json`, with valid and invalid inputs (schemathesis' examples, coverage
and fuzzing phases, positive and negative modes), with valid credentials where a route needs them
so that the cases get past authentication, and some cases made deep on purpose: orders with a
resolvable order id and a real package (they start workflows, terminated afterwards), token
requests with the real client credentials, consent forms with a real CSRF token and cookie.
Vendor webhooks get bodies that pass their signature checks from a second fuzzer below (the
document cannot describe signatures). Checked: never a 5xx, never a hang (every request has a
timeout), answers conform to the document. The counts are printed at the end of the run
(section "fuzzing"); docs/reliability.md records them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import re
import time
import uuid
import zlib
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import jwt
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.service import RPCError

from api.app import create_app
from api.auth import AUDIENCE
from api.consent import _COMPANY_ID as COMPANY_ID
from codec import ENCODING, KEY_ID
from settings import Settings
from simulators.sandbox_vendor.webhooks import sign
from tests.hostile.conftest import sr_token
from tests.hostile.fuzz_ledger import LEDGER
from tests.support.order_workflows import order_workflow_id
from vendors.webhooks import callback_token

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long

# Above the stack's inline-order timeout (5 s): the slowest answer a valid case may take.
REQUEST_TIMEOUT_SECONDS = 15
# The suite's budget (about 50 s on two cores); FUZZ_EXAMPLES and FUZZ_SEED explore further.
DEFAULT_EXAMPLES = 25
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
SEED = int(os.environ.get("FUZZ_SEED", "20251128"))
# Strings that broke services like ours, slipped into a fifth of the generated strings: a NUL
# (PostgreSQL refuses it), JSON nested past the parser's recursion limit, an unclosed IPv6 URL,
# non-ASCII and over-long text, escapes, path and SQL tricks, markup, a right-to-left override,
# a number past int()'s 4,300 digits.
HOSTILE_STRINGS = [
    "\x00",
    "a\x00b",
    "[" * 3000 + "]" * 3000,
    '{"email": ' * 3000 + "1" + "}" * 3000,
    "http://[::1",
    "https://[",
    "ÿþ",
    "é" * 300,
    "a" * 5000,
    "\\",
    '"',
    "%00",
    "%2F..%2F",
    "../../etc/passwd",
    "' OR '1'='1",
    "\n",
    "\r\n",
    "\u202e",
    "🙂",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "Bearer",
    "Basic ÿÿ",
    "1e999",
    "-0",
    "NaN",
    "9" * 5000,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "database": "none",
            "dictionaries": {"string": {"dictionary": "hostile", "probability": 0.2}},
        },
        "dictionaries": {"hostile": {"values": HOSTILE_STRINGS}},
        "request-timeout": REQUEST_TIMEOUT_SECONDS,
    }
)
# Bodies and content types are checked everywhere; SR's routes and the operations routes document
# every status and header they answer, so those are checked there too. The vendor webhooks and the
# admin routes do not document all of theirs (e.g. 404 for an unknown vendor or order) yet.
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
DOCUMENTED_IN_FULL = [*CHECKS, status_code_conformance, response_headers_conformance]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)

# The document the running API serves (a test below checks that they are the same), loaded at
# collection so that every operation is a test of its own.
OPENAPI = create_app(Settings()).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI, config=CONFIG)
ORDER_PATHS = ("/packages/orders", "/packages/inline/orders")


# Where the cases go: the session stack (its store on SQLite), and an API of ours on the same
# Temporal with its store on PostgreSQL, as in production (NUL characters, say, fare differently).
TARGETS = ["stack", "postgresql"]


@pytest.fixture
def target(request, stack) -> str:
    """The base URL of the parametrized target."""
    return (
        stack.settings.public_url
        if request.param == "stack"
        else request.getfixturevalue("postgresql_api")
    )


def _family(name: str, target: str, stack) -> str:
    return name if target == stack.settings.public_url else f"{name}, on PostgreSQL"


@pytest.fixture(scope="module")
def credentials(stack) -> dict[str, dict[str, str]]:
    """The Authorization header each route family needs (our tokens are good on every replica)."""
    return {
        "smartrecruiters": {
            "Authorization": f"Bearer {sr_token(stack.settings.public_url, stack.settings)}"
        },
        "admin": {"Authorization": f"Bearer {stack.settings.admin_api_key.get_secret_value()}"},
    }


@pytest.fixture(scope="module")
def packages(stack, credentials) -> list[str]:
    catalog = httpx.get(
        f"{stack.settings.public_url}/packages", headers=credentials["smartrecruiters"], timeout=30
    )
    return [package["id"] for package in catalog.raise_for_status().json()]


@pytest.fixture(scope="module")
async def fuzzed_orders(temporal):
    """Order ids the fuzzer placed; their workflows are ended afterwards (they would poll on)."""
    placed: list[str] = []
    yield placed
    for order_id in placed:
        # Never started (refused) or already finished: either is fine.
        with contextlib.suppress(RPCError):
            await temporal.get_workflow_handle(order_workflow_id(order_id)).terminate(
                "fuzzed order"
            )


def _run(
    case,
    base_url: str,
    family: str,
    headers: dict[str, str] | None = None,
    checks: list = CHECKS,
    **kwargs,
) -> requests.Response:
    started = time.monotonic()
    response = case.call(
        base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS, **kwargs
    )
    LEDGER.record(family, case.operation.label, response.status_code, time.monotonic() - started)
    if EXAMPLES_PER_OPERATION <= DEFAULT_EXAMPLES:  # longer explorations may well exceed it
        assert response.status_code != 429, (
            "the default rate limit must never bite SR or this suite"
        )
    case.validate_response(response, checks=checks)
    return response


def _deep(case) -> bool:
    """Half the cases, chosen by their content so that a run repeats exactly."""
    return zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode()) % 2 == 0


def _deepen(case, target: str, stack, packages: list[str], fuzzed_orders: list[str]) -> dict:
    """Make a generated case reach past the first check: a resolvable order id and a real package,
    the real client credentials, or a consent form with its CSRF token and cookie."""
    settings = stack.settings
    path, body = case.operation.path, case.body
    if not _deep(case) or not isinstance(body, dict):
        return {}
    if path in ORDER_PATHS:
        order_id = f"fuzz-{uuid.uuid4()}"
        body["resultCallbackURL"] = (
            f"{settings.sr_base_url}/assessment-api/v202010/orders/{order_id}/results"
        )
        body["assessmentPackageId"] = packages[zlib.crc32(repr(body).encode()) % len(packages)]
        body["companyId"] = (
            settings.partner_company_id
        )  # the one company the fuzzer's token speaks for
        if isinstance(candidate := body.get("candidate"), dict):
            # Names the sandbox vendor takes (1 to 100 characters), or intake refuses the order.
            for name in ("firstName", "lastName"):
                value = candidate.get(name)
                candidate[name] = (
                    value[:100] if isinstance(value, str) and value.strip() else "Fuzz"
                )
        fuzzed_orders.append(order_id)
    elif path == "/oauth/token":
        body |= {
            "grant_type": "client_credentials",
            "client_id": settings.partner_client_id,
            "client_secret": settings.partner_client_secret.get_secret_value(),
        }
    elif path == "/integration" and case.method == "POST":
        company = body.get("companyId")
        company = (
            company if isinstance(company, str) and COMPANY_ID.fullmatch(company) else "fuzz-co"
        )
        form = requests.get(
            f"{target}/integration", params={"companyId": company}, timeout=REQUEST_TIMEOUT_SECONDS
        )
        if not (form_token := re.search(r'name="form_token" value="([^"]+)"', form.text)):
            return {}  # no form (a long exploration may exhaust the consent page's rate)
        body |= {"companyId": company, "form_token": form_token.group(1)}
        body.pop("redirect", None)
        return {"cookies": form.cookies.get_dict()}
    return {}


# --- what the document describes -------------------------------------------------------------

SMARTRECRUITERS_ROUTES = r"^/(oauth/token|packages|integration|integrations/)"


@pytest.mark.parametrize("target", TARGETS, indirect=True)
@schema.include(path_regex=SMARTRECRUITERS_ROUTES).parametrize()
@FUZZ_SETTINGS
def test_smartrecruiters_routes(case, target, stack, credentials, packages, fuzzed_orders):
    extra = _deepen(case, target, stack, packages, fuzzed_orders)
    needs_token = case.operation.path not in ("/oauth/token", "/integration")
    _run(
        case,
        target,
        _family("SmartRecruiters", target, stack),
        credentials["smartrecruiters"] if needs_token else None,
        DOCUMENTED_IN_FULL,
        **extra,
    )


@pytest.mark.parametrize("target", TARGETS, indirect=True)
@schema.include(path_regex=r"^/webhooks/").parametrize()
@FUZZ_SETTINGS
def test_vendor_routes_as_documented(case, target, stack, checkr_account):
    """Unsigned: half of them at our real vendors' URLs, where the signature check refuses them."""
    if _deep(case) and case.path_parameters:
        vendor = {
            "/webhooks/{vendor}": "sandbox",
            "/webhooks/{vendor}/accounts/{account_id}": "checkr",
        }.get(case.operation.path, "hackerrank")
        case.path_parameters |= {"vendor": vendor} | (
            {"account_id": checkr_account[0]} if "account_id" in case.path_parameters else {}
        )
    _run(case, target, _family("vendor webhooks, unsigned", target, stack))


@pytest.mark.parametrize("target", TARGETS, indirect=True)
@schema.include(path_regex=r"^/admin/").parametrize()
@FUZZ_SETTINGS
def test_admin_routes(case, target, stack, credentials):
    _run(case, target, _family("admin", target, stack), credentials["admin"])


@pytest.mark.parametrize("target", TARGETS, indirect=True)
@schema.include(path_regex=r"^/(healthz|readyz|codec)").parametrize()
@FUZZ_SETTINGS
def test_operations_routes(case, target, stack, credentials):
    _run(
        case, target, _family("operations", target, stack), credentials["admin"], DOCUMENTED_IN_FULL
    )


def test_the_fuzzed_document_is_the_one_the_api_serves(stack):
    assert httpx.get(f"{stack.settings.public_url}/openapi.json", timeout=30).json() == OPENAPI


def test_every_operation_is_fuzzed():
    fuzzed = re.compile(rf"{SMARTRECRUITERS_ROUTES}|^/webhooks/|^/admin/|^/(healthz|readyz|codec)")
    assert [path for path in OPENAPI["paths"] if not fuzzed.search(path)] == []


# --- signed webhooks: bodies that pass each vendor's check -----------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=10,
)
texts = st.text(max_size=40) | st.uuids().map(str)
sandbox_events = st.fixed_dictionaries(
    {
        "id": texts,
        "type": st.sampled_from(
            ["invitation.started", "invitation.completed", "invitation.declined"]
        )
        | texts,
        "data": st.fixed_dictionaries({"invitation_id": texts, "reference": texts, "status": texts})
        | json_values,
    }
)
checkr_events = st.fixed_dictionaries(
    {
        "id": texts,
        "type": st.sampled_from(["report.completed", "invitation.completed", "candidate.updated"])
        | texts,
        "created_at": st.just(datetime.now(UTC).isoformat()) | texts,
        "data": st.fixed_dictionaries(
            {
                "object": st.fixed_dictionaries(
                    {"id": texts, "object": texts, "candidate_id": texts}
                )
                | json_values
            }
        ),
    }
)
webhook_bodies = st.one_of(json_values.map(json.dumps), st.binary(max_size=200)).map(
    lambda b: b if isinstance(b, bytes) else b.encode()
)


@pytest.fixture(scope="module")
def webhooks(stack):
    with httpx.Client(base_url=stack.settings.public_url, timeout=REQUEST_TIMEOUT_SECONDS) as http:
        yield http


def _post(
    http: httpx.Client,
    label: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    expected=(202, 400),
    family: str = "vendor webhooks, signed",
) -> None:
    started = time.monotonic()
    response = http.post(path, content=body, headers=headers | {"Content-Type": "application/json"})
    LEDGER.record(family, label, response.status_code, time.monotonic() - started)
    assert response.status_code < 500, response.text
    assert response.status_code in expected, response.text  # never 401: the signature was right


_SIGNED = itertools.count()


@given(body=sandbox_events.map(lambda e: json.dumps(e).encode()) | webhook_bodies)
@FUZZ_SETTINGS
def test_signed_sandbox_webhooks(body, webhooks, stack):
    secret = stack.settings.sandbox_webhook_secret.get_secret_value()
    # A timestamp of its own per request (within the window): Hypothesis repeats bodies, and the
    # same body signed in the same second is a replay, rightly refused.
    signed_at = int(time.time()) - next(_SIGNED) % 200
    _post(
        webhooks,
        "POST /webhooks/sandbox",
        "/webhooks/sandbox",
        body,
        {"Sandbox-Signature": sign(secret, body, signed_at)},
    )


@given(body=checkr_events.map(lambda e: json.dumps(e).encode()) | webhook_bodies)
@FUZZ_SETTINGS
def test_signed_checkr_webhooks(body, webhooks, checkr_account):
    account_id, key = checkr_account
    signature = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    _post(
        webhooks,
        "POST /webhooks/checkr/accounts/{account_id}",
        f"/webhooks/checkr/accounts/{account_id}",
        body,
        {"X-Checkr-Signature": signature},
    )


@given(order_id=st.text(min_size=1, max_size=60), body=webhook_bodies)
@FUZZ_SETTINGS
def test_hackerrank_order_webhooks_with_their_token(order_id, body, webhooks, stack):
    token = callback_token(stack.settings.token_signing_key.get_secret_value().encode(), order_id)
    path = f"/webhooks/hackerrank/orders/{quote(order_id, safe='')}"
    # An id with a "/" is another route (404), or this one with a trailing slash (redirected).
    expected = (202, 400) if "/" not in order_id else (307, 404)
    _post(
        webhooks,
        "POST /webhooks/hackerrank/orders/{order_id}",
        path,
        body,
        {"Authorization": f"Bearer {token}"},
        expected,
    )


# --- shapes the document cannot describe: headers, payloads and tokens that parse ------------
# Each reaches past the first check (a well-formed signature header, a payload labelled as
# ours, a token with our signature) with a value of the wrong size or type.

# Digit strings around Python's int() limit (4,300 digits) and around 64-bit integers.
huge_numbers = (
    st.integers(min_value=4_000, max_value=6_000) | st.integers(min_value=1, max_value=40)
).map(lambda n: "9" * n) | st.integers(min_value=2**62, max_value=2**70).map(str)
header_texts = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)


@given(
    timestamp=huge_numbers | header_texts,
    signatures=st.lists(header_texts | st.just("0" * 64), max_size=3),
    body=webhook_bodies,
)
@FUZZ_SETTINGS
def test_sandbox_signature_headers(timestamp, signatures, body, webhooks):
    """Well-formed `t=…,v1=…` headers with huge or odd values, none made with the secret: 401."""
    header = ",".join([f"t={timestamp}", *(f"v1={signature}" for signature in signatures)])
    _post(
        webhooks,
        "POST /webhooks/sandbox",
        "/webhooks/sandbox",
        body,
        {"Sandbox-Signature": header},
        expected=(401,),
        family="shapes the document cannot describe",
    )


# What a payload labelled "ours" may hold: nothing, a few bytes, less than a nonce and a tag.
sealed_data = st.binary(max_size=40) | st.binary(min_size=28, max_size=200)


@given(
    data=sealed_data, key_id=st.sampled_from(["current"]) | st.text(max_size=20), ui=st.booleans()
)
@FUZZ_SETTINGS
def test_codec_payloads_labelled_as_encrypted(data, key_id, ui, webhooks, stack):
    """Payloads that claim our encoding but were never sealed: a 422 naming the key, never a 5xx."""
    settings = stack.settings
    key_id = (
        settings.payload_keys.get_secret_value().partition(":")[0]
        if key_id == "current"
        else key_id
    )
    metadata = {"encoding": ENCODING, KEY_ID: key_id.encode()}
    payload = {
        "metadata": {name: base64.b64encode(value).decode() for name, value in metadata.items()},
        "data": base64.b64encode(data).decode(),
    }
    path, headers = (
        (f"/codec/ui/{settings.ui_codec_capability}/decode", {})
        if ui
        else (
            "/codec/decode",
            {"Authorization": f"Bearer {settings.admin_api_key.get_secret_value()}"},
        )
    )
    label = "POST /codec/ui/{capability}/{direction}" if ui else "POST /codec/{direction}"
    _post(
        webhooks,
        label,
        path,
        json.dumps({"payloads": [payload]}).encode(),
        headers,
        expected=(422,),
        family="shapes the document cannot describe",
    )


# Times far past any expiry (10**20), past 64 bits, negative; JSON cannot carry 4,300 digits.
claim_values = json_values | st.just(10**20) | st.integers(min_value=-(10**40), max_value=10**40)
CLAIMS = ("sub", "company", "aud", "exp", "iat")


def _our_claims() -> dict:
    now = int(time.time())
    return {"sub": "fuzz-client", "company": None, "aud": AUDIENCE, "iat": now, "exp": now + 60}


# A token as we issue it, with one claim replaced: every case gets past the signature.
token_claims = st.tuples(st.sampled_from(CLAIMS), claim_values).map(
    lambda changed: _our_claims() | {changed[0]: changed[1]}
)


def _as_we_issue(claims: dict, ttl_seconds: int) -> bool:
    """Text ids, our audience (alone or in a list), whole-number times (not bools), an expiry no
    later than we set."""
    times = [claims["exp"], claims["iat"]]
    return (
        isinstance(claims["sub"], str)
        and (claims["company"] is None or isinstance(claims["company"], str))
        and (
            claims["aud"] == AUDIENCE
            or (isinstance(claims["aud"], list) and AUDIENCE in claims["aud"])
        )
        and all(isinstance(t, int) and not isinstance(t, bool) for t in times)
        and claims["exp"] <= time.time() + ttl_seconds
    )


@given(claims=token_claims)
@FUZZ_SETTINGS
def test_bearer_tokens_signed_with_our_key_carrying_claims_of_any_type(claims, webhooks, stack):
    """Only we can sign, but a signed token whose claims have the wrong type must be refused
    (401), never crash a route or act for anyone."""
    token = jwt.encode(
        claims, stack.settings.token_signing_key.get_secret_value(), algorithm="HS256"
    )
    started = time.monotonic()
    response = webhooks.get("/packages", headers={"Authorization": f"Bearer {token}"})
    LEDGER.record(
        "shapes the document cannot describe",
        "GET /packages",
        response.status_code,
        time.monotonic() - started,
    )
    assert response.status_code < 500, response.text
    if not _as_we_issue(claims, stack.settings.token_ttl_seconds):
        assert response.status_code == 401, (claims, response.text)
