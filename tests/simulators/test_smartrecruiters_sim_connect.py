"""The SmartRecruiters simulator's side of Connect, over real HTTP.

The partner registers its configuration with its master credentials; a company's admin consents;
the partner hands over the credentials it issued for that company and gets SR-issued customer
credentials back; SR then reaches the partner for that company at the configured URLs with the
company's credentials, until the admin disconnects. A small fake partner app plays the partner:
it mints credentials and tokens per company and records what SR sends it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from simulators.smartrecruiters.config import SmartRecruitersSimConfig
from tests.simulators.test_smartrecruiters_sim import (
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_SECRET,
    SR_CLIENT_ID,
    SR_CLIENT_SECRET,
    Auth,
    make_config,
    results_path,
    running,
)
from tests.support.http import client as http_client
from tests.support.servers import serve

MASTER_CLIENT_ID, MASTER_CLIENT_SECRET = "partner-master", "partner-master-secret"
DEFAULT_COMPANY, ACME = "sim-company-1", "acme"
PARTNER_CONFIGURATION_PATH = "/assessment-api/v202010/partner/configuration"
ALL_ASSESSMENT_TYPES = [
    "VIDEO_INTERVIEW",
    "BEHAVIORAL_ASSESSMENT",
    "BACKGROUND_CHECK",
    "REFERENCE_CHECK",
    "SKILL_TEST",
    "INLINE_ASSESSMENT",
]
INLINE_URL = "https://partner.example/take/7"


def token_form(client_id: str, client_secret: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
    }


MASTER_TOKEN_FORM = token_form(MASTER_CLIENT_ID, MASTER_CLIENT_SECRET)


class ConnectPartner:
    """The partner as SR sees it once Connect is configured.

    Its URLs differ from the embedded defaults (`/oauth/token`, `/packages`, …) so a test can
    tell which ones SR used; those defaults answer too, for the embedded company.
    """

    def __init__(self) -> None:
        self.url = ""
        self.sr_url = ""  # the simulator its consent page calls back
        self.calls: list[dict[str, Any]] = []
        self.credentials: dict[str, tuple[str, str]] = {}  # client id -> (secret, company)
        self.sr_credentials: dict[str, dict[str, str]] = {}  # company -> what SR issued
        self._tokens: dict[str, str] = {}  # token -> company
        self.app = self._build()

    def reset(self, sr_url: str) -> None:
        self.sr_url = sr_url
        self.calls.clear()
        self.sr_credentials.clear()
        self._tokens.clear()
        self.credentials = {PARTNER_CLIENT_ID: (PARTNER_CLIENT_SECRET, DEFAULT_COMPANY)}

    def issue_credentials(self, company_id: str) -> dict[str, str]:
        """Credentials for SR to use toward the partner on behalf of one company."""
        client_id = f"partner-for-{company_id}-{secrets.token_hex(4)}"
        client_secret = secrets.token_urlsafe(16)
        self.credentials[client_id] = (client_secret, company_id)
        return {"clientId": client_id, "clientSecret": client_secret}

    def configuration(self, **overrides: Any) -> dict[str, Any]:
        """A `PartnerConfigurationRequest` pointing at this partner."""
        return {
            "consentUrl": f"{self.url}/integration",
            "consentDisplayMode": "REDIRECT",
            "assessmentPackageListUrl": f"{self.url}/connect/packages",
            "singleAssessmentPackageUrl": f"{self.url}/connect/packages/{{assessmentPackageId}}",
            "packageOrderUrl": f"{self.url}/connect/orders",
            "inlineAssessmentPackageOrderUrl": f"{self.url}/connect/inline-orders",
            "oauthTokenUrl": f"{self.url}/connect/token",
            "integrationDisableUrl": f"{self.url}/integrations/companies",
            "supportedAssessmentTypes": ["SKILL_TEST", "INLINE_ASSESSMENT"],
            **overrides,
        }

    def calls_to(self, path: str, method: str | None = None) -> list[dict[str, Any]]:
        return [
            call
            for call in self.calls
            if call["path"] == path and (method is None or call["method"] == method)
        ]

    def _build(self) -> FastAPI:
        app = FastAPI()

        async def record(request: Request) -> dict[str, Any]:
            authorization = request.headers.get("authorization", "")
            call = {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                # The company whose token authorized the call, if any.
                "company": self._tokens.get(authorization.removeprefix("Bearer ")),
            }
            if request.headers.get("content-type", "").startswith("application/json"):
                call["json"] = await request.json()
            elif request.method == "POST":
                call["form"] = dict(await request.form())
            self.calls.append(call)
            return call

        async def token(request: Request) -> JSONResponse:
            call = await record(request)
            form = call["form"]
            basic = request.headers.get("authorization", "").removeprefix("Basic ")
            if basic:  # RFC 6749 §2.3.1: each part form-urlencoded, then base64
                client_id, _, client_secret = base64.b64decode(basic).decode().partition(":")
                form = call["basic"] = {
                    "client_id": unquote_plus(client_id),
                    "client_secret": unquote_plus(client_secret),
                }
            secret, company = self.credentials.get(form.get("client_id"), (None, None))
            if secret is None or form.get("client_secret") != secret:
                return JSONResponse({"error": "invalid_client"}, status_code=400)
            issued = secrets.token_urlsafe(8)
            self._tokens[issued] = company
            return JSONResponse({"access_token": issued, "expires_in": 3600})

        async def packages(request: Request) -> JSONResponse:
            company = (await record(request))["company"]
            if company is None:
                return JSONResponse({}, status_code=401)
            package = {
                "id": f"skills-{company}",
                "name": f"Skills test for {company}",
                "description": "Coding exercises",
                "type": "SKILL_TEST",
                "assessments": [],
            }
            return JSONResponse([package])

        async def order(request: Request) -> JSONResponse:
            if (await record(request))["company"] is None:
                return JSONResponse({}, status_code=401)
            return JSONResponse({}, status_code=202)

        async def inline_order(request: Request) -> JSONResponse:
            if (await record(request))["company"] is None:
                return JSONResponse({}, status_code=401)
            return JSONResponse({"url": INLINE_URL, "assessmentPackageURL": INLINE_URL})

        # The embedded defaults under `partner_api_url`, then the configured Connect URLs.
        app.post("/oauth/token")(token)
        app.get("/packages")(packages)
        app.post("/packages/orders")(order)
        app.post("/packages/inline/orders")(inline_order)
        app.post("/connect/token")(token)
        app.get("/connect/packages")(packages)
        app.post("/connect/orders")(order)
        app.post("/connect/inline-orders")(inline_order)

        @app.get("/integration")
        async def consent_page(request: Request) -> Response:
            """The partner's consent page: integrate the company with SR, then send the admin
            back to SR (REDIRECT mode) or say so (POPUP mode)."""
            query = (await record(request))["query"]
            company = query["companyId"]
            async with http_client(base_url=self.sr_url) as sr:
                grant = await sr.post("/identity/oauth/token", data=MASTER_TOKEN_FORM)
                integrated = await sr.post(
                    f"/assessment-api/v202010/integration/company/{company}",
                    json=self.issue_credentials(company),
                    headers={"Authorization": f"Bearer {grant.json()['access_token']}"},
                )
            integrated.raise_for_status()
            self.sr_credentials[company] = integrated.json()
            if "redirect" in query:
                return RedirectResponse(query["redirect"], status_code=302)
            return HTMLResponse("<p>Connected</p>")

        @app.get("/connect/packages/{package_id}")
        @app.get("/connect/packages/{placeholder}/{package_id}")
        async def package(request: Request, package_id: str) -> JSONResponse:
            if (await record(request))["company"] is None:
                return JSONResponse({}, status_code=401)
            return JSONResponse(
                {
                    "id": package_id,
                    "name": package_id,
                    "description": "Coding exercises",
                    "type": "SKILL_TEST",
                    "assessments": [],
                }
            )

        @app.delete("/integrations/companies/{company_id}")
        @app.delete("/integrations/companies/{placeholder}/{company_id}")
        async def disable(request: Request, company_id: str) -> Response:
            call = await record(request)
            # Whether the company's SR-issued credentials still worked when SR called.
            issued = self.sr_credentials.get(company_id)
            if issued is not None:
                async with http_client(base_url=self.sr_url) as sr:
                    form = token_form(issued["clientId"], issued["clientSecret"])
                    call["sr_credentials_status"] = (
                        await sr.post("/identity/oauth/token", data=form)
                    ).status_code
            return Response(status_code=204)

        return app


@pytest.fixture(scope="module")
def partner() -> Iterator[ConnectPartner]:
    fake = ConnectPartner()
    with serve(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture
def config(tmp_path: Path, partner: ConnectPartner) -> SmartRecruitersSimConfig:
    config = make_config(tmp_path / "sr.db", partner.url)
    partner.reset(config.public_url)
    return config


@pytest.fixture
def sr(config: SmartRecruitersSimConfig) -> Iterator[httpx.Client]:
    with running(config) as client:
        yield client


def token_for(sr: httpx.Client, client_id: str, client_secret: str) -> Auth:
    response = sr.post("/identity/oauth/token", data=token_form(client_id, client_secret))
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def master(sr: httpx.Client) -> Auth:
    return token_for(sr, MASTER_CLIENT_ID, MASTER_CLIENT_SECRET)


@pytest.fixture
def customer(sr: httpx.Client) -> Auth:
    """A token of the embedded default company."""
    return token_for(sr, SR_CLIENT_ID, SR_CLIENT_SECRET)


def configure(sr: httpx.Client, master: Auth, configuration: dict[str, Any]) -> httpx.Response:
    return sr.put(PARTNER_CONFIGURATION_PATH, json=configuration, headers=master)


def integrate(
    sr: httpx.Client, master: Auth, company_id: str, credentials: dict[str, str]
) -> httpx.Response:
    path = f"/assessment-api/v202010/integration/company/{company_id}"
    return sr.post(path, json=credentials, headers=master)


def consent(sr: httpx.Client, company_id: str) -> str:
    response = sr.post(f"/__sim/companies/{company_id}/consent")
    assert response.status_code == 200, response.text
    return response.json()["consent_url"]


def connect(
    sr: httpx.Client, master: Auth, partner: ConnectPartner, company_id: str
) -> dict[str, str]:
    """Configure, consent and integrate a company; returns its SR-issued credentials."""
    assert configure(sr, master, partner.configuration()).status_code == 200
    consent(sr, company_id)
    response = integrate(sr, master, company_id, partner.issue_credentials(company_id))
    assert response.status_code == 200, response.text
    return response.json()


def candidate_of(sr: httpx.Client, company_id: str) -> dict[str, Any]:
    new = {"first_name": "Ada", "last_name": "Byron", "email": "ada@example.com"}
    response = sr.post("/__sim/candidates", json={**new, "company_id": company_id})
    assert response.status_code == 201, response.text
    return response.json()


def order_for(sr: httpx.Client, candidate: dict[str, Any], kind: str = "manual") -> dict[str, Any]:
    body = {"candidate_id": candidate["id"], "package_id": "skills", "kind": kind}
    response = sr.post("/__sim/orders", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def patch_status(sr: httpx.Client, auth: Auth, order_id: str) -> int:
    return sr.patch(results_path(order_id), json={"status": "PENDING"}, headers=auth).status_code


def company(sr: httpx.Client, company_id: str) -> dict[str, Any]:
    [found] = [c for c in sr.get("/__sim/companies").json() if c["company_id"] == company_id]
    return found


# --- token scopes --------------------------------------------------------------------------------


def test_master_and_customer_tokens_each_reach_only_their_own_endpoints(
    sr: httpx.Client, master: Auth, customer: Auth, partner: ConnectPartner
) -> None:
    order_id = order_for(sr, candidate_of(sr, DEFAULT_COMPANY))["order_id"]
    grants = [
        sr.post("/identity/oauth/token", data=form).json()
        for form in (MASTER_TOKEN_FORM, token_form(SR_CLIENT_ID, SR_CLIENT_SECRET))
    ]

    assert [grant["scope"] for grant in grants] == [
        "partner_configuration_manage",
        "assessment_result_manage assessment_orders_read",
    ]
    refused = [
        sr.patch(results_path(order_id), json={"status": "PENDING"}, headers=master),
        sr.post(f"{results_path(order_id)}/attachment", files={"attachment": b"x"}, headers=master),
        sr.get(PARTNER_CONFIGURATION_PATH, headers=customer),
        configure(sr, customer, partner.configuration()),
        integrate(sr, customer, ACME, partner.issue_credentials(ACME)),
    ]
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert {r.json()["errors"][0]["code"] for r in refused} == {"INSUFFICIENT_SCOPE"}
    assert patch_status(sr, customer, order_id) == 200
    assert configure(sr, master, partner.configuration()).status_code == 200
    assert sr.get(PARTNER_CONFIGURATION_PATH).status_code == 401


# --- partner configuration ------------------------------------------------------------------------


def changed(configuration: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The configuration with `patch` merged in; as in a JSON merge patch, None removes a key."""
    merged = {**configuration, **patch}
    return {name: value for name, value in merged.items() if value is not None}


SEVEN_TYPES = [*ALL_ASSESSMENT_TYPES, "SKILL_TEST"]
SIX_FIELDS = [{"id": f"f{i}", "name": "F", "description": "D"} for i in range(6)]


@pytest.mark.parametrize(
    ("patch", "message_start"),
    [
        ({"consentUrl": None}, "(body): 'consentUrl' is a required property"),
        ({"oauthTokenUrl": None}, "(body): 'oauthTokenUrl' is a required property"),
        ({"consentDisplayMode": "SIDEWAYS"}, "consentDisplayMode: 'SIDEWAYS' is not one of"),
        ({"supportedAssessmentTypes": SEVEN_TYPES}, "supportedAssessmentTypes: "),
        ({"supportedAssessmentTypes": []}, "supportedAssessmentTypes: "),
        ({"supportedAssessmentTypes": ["SKILL_TEST", "SKILL_TEST"]}, "supportedAssessmentTypes: "),
        ({"supportedAssessmentTypes": ["CODING"]}, "supportedAssessmentTypes[0]: 'CODING'"),
        ({"fields": SIX_FIELDS}, "fields: "),
        ({"fields": [{"id": "f", "name": "F"}]}, "fields[0]: 'description' is a required property"),
        ({"packageOrderUrl": "/packages/orders"}, "packageOrderUrl: "),
    ],
    ids=[
        "no-consentUrl",
        "no-oauthTokenUrl",
        "bad-display-mode",
        "seven-types",
        "no-types",
        "repeated-types",
        "unknown-type",
        "six-fields",
        "field-without-description",
        "relative-url",
    ],
)
def test_invalid_partner_configuration_is_refused_naming_the_field(
    sr: httpx.Client, master: Auth, partner: ConnectPartner, patch: dict, message_start: str
) -> None:
    response = configure(sr, master, changed(partner.configuration(), patch))

    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Invalid configuration provided"
    assert {error["code"] for error in body["errors"]} == {"INVALID_CONFIGURATION"}
    messages = [error["message"] for error in body["errors"]]
    assert any(message.startswith(message_start) for message in messages), messages
    assert sr.get(PARTNER_CONFIGURATION_PATH, headers=master).status_code == 404


def test_partner_configuration_round_trip(
    sr: httpx.Client, master: Auth, partner: ConnectPartner
) -> None:
    fields = [{"id": "seniority", "name": "Seniority", "description": "Level of the role"}]
    configuration = partner.configuration(
        supportedAssessmentTypes=ALL_ASSESSMENT_TYPES, fields=fields
    )

    missing = sr.get(PARTNER_CONFIGURATION_PATH, headers=master)
    saved = configure(sr, master, {**configuration, "notInTheSpec": True})
    read = sr.get(PARTNER_CONFIGURATION_PATH, headers=master)
    changed = configure(sr, master, {**configuration, "consentDisplayMode": "POPUP"})

    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "CONFIGURATION_NOT_FOUND"
    assert (saved.status_code, saved.json()) == (200, configuration)
    assert (read.status_code, read.json()) == (200, configuration)
    assert changed.json()["consentDisplayMode"] == "POPUP"
    assert sr.get(PARTNER_CONFIGURATION_PATH, headers=master).json() == changed.json()


# --- consent and integration ----------------------------------------------------------------------


def test_consent_url_carries_the_company_and_where_to_come_back(
    sr: httpx.Client, master: Auth, partner: ConnectPartner, config: SmartRecruitersSimConfig
) -> None:
    assert sr.post(f"/__sim/companies/{ACME}/consent").status_code == 409  # nothing registered
    consent_page = f"{partner.url}/integration?lang=en"
    configure(sr, master, partner.configuration(consentUrl=consent_page))

    redirect_mode = urlsplit(consent(sr, "acme corp"))
    popup = partner.configuration(consentUrl=consent_page, consentDisplayMode="POPUP")
    configure(sr, master, popup)
    popup_mode = urlsplit(consent(sr, ACME))

    assert redirect_mode._replace(query="").geturl() == f"{partner.url}/integration"
    assert parse_qs(redirect_mode.query) == {
        "lang": ["en"],
        "companyId": ["acme corp"],
        "redirect": [f"{config.public_url}/__sim/companies/acme%20corp/connected"],
    }
    assert "redirect=http%3A%2F%2F127.0.0.1" in redirect_mode.query  # URL-encoded
    assert parse_qs(popup_mode.query) == {"lang": ["en"], "companyId": [ACME]}
    assert (company(sr, ACME)["consented"], company(sr, ACME)["integrated"]) == (True, False)


def test_integration_needs_a_configuration_consent_and_a_valid_body(
    sr: httpx.Client, master: Auth, partner: ConnectPartner
) -> None:
    credentials = partner.issue_credentials(ACME)

    unconfigured = integrate(sr, master, ACME, credentials)
    configure(sr, master, partner.configuration())
    unconsented = integrate(sr, master, ACME, credentials)
    consent(sr, ACME)
    invalid = integrate(sr, master, ACME, {"clientId": "only-an-id"})

    assert unconfigured.status_code == 404
    assert unconfigured.json()["errors"][0]["code"] == "CONFIGURATION_NOT_FOUND"
    assert unconsented.status_code == 403
    assert unconsented.json()["errors"][0]["code"] == "CONSENT_REQUIRED"
    assert invalid.status_code == 400
    assert "'clientSecret'" in invalid.json()["errors"][0]["message"]
    assert company(sr, ACME)["integrated"] is False


def test_integration_issues_credentials_that_reach_only_the_company_s_orders(
    sr: httpx.Client, master: Auth, customer: Auth, partner: ConnectPartner
) -> None:
    acme_order = order_for(sr, candidate_of(sr, ACME))["order_id"]
    default_order = order_for(sr, candidate_of(sr, DEFAULT_COMPANY))["order_id"]
    configure(sr, master, partner.configuration())
    consent(sr, ACME)
    partner_issued = partner.issue_credentials(ACME)

    response = integrate(sr, master, ACME, partner_issued)
    again = integrate(sr, master, ACME, partner.issue_credentials(ACME))

    assert response.status_code == 200
    issued = response.json()
    assert set(issued) == {"clientId", "clientSecret"}
    assert issued["clientId"] not in (SR_CLIENT_ID, partner_issued["clientId"])
    acme = token_for(sr, issued["clientId"], issued["clientSecret"])
    assert patch_status(sr, acme, acme_order) == 200
    assert patch_status(sr, acme, default_order) == 403
    assert patch_status(sr, customer, acme_order) == 403
    assert patch_status(sr, customer, default_order) == 200
    upload = {"attachment": ("r.pdf", b"%PDF", "application/pdf")}
    for order_id, status in ((acme_order, 201), (default_order, 403)):
        attached = sr.post(f"{results_path(order_id)}/attachment", files=upload, headers=acme)
        assert attached.status_code == status
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "ALREADY_INTEGRATED"
    assert company(sr, ACME) == {
        "company_id": ACME,
        "embedded": False,
        "consented": True,
        "integrated": True,
        "partner_client_id": partner_issued["clientId"],
        "sr_client_id": issued["clientId"],
        "last_disconnect": None,
    }
    listing = sr.get("/__sim/companies").text
    assert partner_issued["clientSecret"] not in listing
    assert issued["clientSecret"] not in listing


def test_connect_requests_are_recorded_and_subject_to_faults(
    sr: httpx.Client, master: Auth, partner: ConnectPartner
) -> None:
    configure(sr, master, partner.configuration())
    consent(sr, ACME)
    credentials = partner.issue_credentials(ACME)
    fault = {"status": 503, "count": 1, "path_contains": "/integration/company/"}
    assert sr.post("/__sim/faults", json=fault).status_code == 201

    statuses = [integrate(sr, master, ACME, credentials).status_code for _ in range(2)]

    assert statuses == [503, 200]
    records = sr.get("/__sim/requests", params={"path_contains": "/assessment-api/"}).json()
    assert [(r["method"], r["status"]) for r in records] == [
        ("PUT", 200),
        ("POST", 503),
        ("POST", 200),
    ]
    assert records[1]["json"] == credentials


# --- SR calling the partner for a connected company -----------------------------------------------


def test_orders_of_a_connected_company_use_its_credentials_and_the_configured_urls(
    sr: httpx.Client, master: Auth, partner: ConnectPartner
) -> None:
    connect(sr, master, partner, ACME)
    candidate = candidate_of(sr, ACME)
    partner.calls.clear()

    manual = order_for(sr, candidate)
    inline = order_for(sr, candidate, kind="inline")
    catalog = sr.get("/__sim/packages", params={"company_id": ACME}).json()

    assert (manual["partner_status"], inline["candidate_url"]) == (202, INLINE_URL)
    [token_call] = partner.calls_to("/connect/token")
    (acme_secret, _) = partner.credentials[token_call["form"]["client_id"]]
    assert token_call["form"]["client_secret"] == acme_secret
    assert company(sr, ACME)["partner_client_id"] == token_call["form"]["client_id"]
    [order_call] = partner.calls_to("/connect/orders")
    [inline_call] = partner.calls_to("/connect/inline-orders")
    [catalog_call] = partner.calls_to("/connect/packages")
    assert {call["company"] for call in (order_call, inline_call, catalog_call)} == {ACME}
    assert (order_call["json"]["companyId"], inline_call["json"]["companyId"]) == (ACME, ACME)
    assert [package["id"] for package in catalog] == [f"skills-{ACME}"]
    assert partner.calls_to("/oauth/token") == partner.calls_to("/packages/orders") == []
    stored = sr.get(f"/__sim/orders/{manual['order_id']}").json()
    assert stored["company_id"] == ACME


def test_companies_not_connected_keep_the_embedded_partner_url_and_credentials(
    sr: httpx.Client, master: Auth, partner: ConnectPartner
) -> None:
    connect(sr, master, partner, ACME)
    partner.calls.clear()

    placed = order_for(sr, candidate_of(sr, DEFAULT_COMPANY))
    catalog = sr.get("/__sim/packages").json()

    assert placed["partner_status"] == 202
    [token_call] = partner.calls_to("/oauth/token")
    assert token_call["form"]["client_id"] == PARTNER_CLIENT_ID
    [order_call] = partner.calls_to("/packages/orders")
    assert order_call["company"] == order_call["json"]["companyId"] == DEFAULT_COMPANY
    assert [package["id"] for package in catalog] == [f"skills-{DEFAULT_COMPANY}"]
    assert partner.calls_to("/connect/token") == []


def test_disconnect_tells_the_partner_and_the_company_may_connect_again(
    sr: httpx.Client, master: Auth, partner: ConnectPartner
) -> None:
    issued = connect(sr, master, partner, ACME)
    acme = token_for(sr, issued["clientId"], issued["clientSecret"])
    order_id = order_for(sr, candidate_of(sr, ACME))["order_id"]
    assert patch_status(sr, acme, order_id) == 200

    response = sr.post(f"/__sim/companies/{ACME}/disconnect")

    assert response.json() == {"company_id": ACME, "partner_status": 204, "partner_error": None}
    [disable] = partner.calls_to(f"/integrations/companies/{ACME}", method="DELETE")
    assert disable["company"] == ACME  # with a token from the company's partner credentials
    state = company(sr, ACME)
    assert (state["integrated"], state["consented"]) == (False, False)
    assert state["partner_client_id"] is None
    assert state["last_disconnect"] == {"partner_status": 204, "partner_error": None}
    assert patch_status(sr, acme, order_id) == 401  # its tokens and credentials are revoked
    revoked = token_form(issued["clientId"], issued["clientSecret"])
    assert sr.post("/identity/oauth/token", data=revoked).status_code == 401
    assert sr.post(f"/__sim/companies/{ACME}/disconnect").status_code == 409
    # Connecting again takes the admin's consent again, then integration works.
    assert integrate(sr, master, ACME, partner.issue_credentials(ACME)).status_code == 403
    consent(sr, ACME)
    again = integrate(sr, master, ACME, partner.issue_credentials(ACME))
    assert again.status_code == 200
    renewed = token_for(sr, again.json()["clientId"], again.json()["clientSecret"])
    assert patch_status(sr, renewed, order_id) == 200


@pytest.mark.parametrize("auth", ["bearer", "none"])
@pytest.mark.parametrize("revokes", ["after-delete", "before-delete"])
@pytest.mark.parametrize("expansion", ["placeholder", "append"])
def test_disconnect_variants(
    sr: httpx.Client, master: Auth, partner: ConnectPartner, auth: str, revokes: str, expansion: str
) -> None:
    configuration = partner.configuration(
        integrationDisableUrl=f"{partner.url}/integrations/companies/{{companyId}}"
    )
    assert configure(sr, master, configuration).status_code == 200
    consent(sr, ACME)
    issued = integrate(sr, master, ACME, partner.issue_credentials(ACME)).json()
    partner.sr_credentials[ACME] = issued
    sr.put(
        "/__sim/variants",
        json={"disconnect_auth": auth, "disconnect_revokes": revokes, "url_expansion": expansion},
    ).raise_for_status()

    assert sr.post(f"/__sim/companies/{ACME}/disconnect").json()["partner_status"] == 204

    path = (
        f"/integrations/companies/{ACME}"
        if expansion == "placeholder"
        else f"/integrations/companies/{{companyId}}/{ACME}"
    )
    [disable] = partner.calls_to(path, method="DELETE")
    assert disable["company"] == (ACME if auth == "bearer" else None)
    assert disable["sr_credentials_status"] == (401 if revokes == "before-delete" else 200)
    assert (
        sr.post(
            "/identity/oauth/token", data=token_form(issued["clientId"], issued["clientSecret"])
        ).status_code
        == 401
    )


@pytest.mark.parametrize("expansion", ["placeholder", "append"])
def test_a_single_package_is_read_at_the_registered_url_as_the_variant_expands_it(
    sr: httpx.Client, master: Auth, partner: ConnectPartner, expansion: str
) -> None:
    connect(sr, master, partner, ACME)
    sr.put("/__sim/variants", json={"url_expansion": expansion}).raise_for_status()
    read = sr.get("/__sim/packages/skills-1", params={"company_id": ACME}).json()
    path = (
        "/connect/packages/skills-1"
        if expansion == "placeholder"
        else "/connect/packages/{assessmentPackageId}/skills-1"
    )
    [call] = partner.calls_to(path, method="GET")
    assert (
        call["company"] == ACME
        and read["partner_status"] == 200
        and read["partner_body"]["id"] == "skills-1"
    )
    # A registered URL without a placeholder gets the id appended under either variant.
    assert (
        configure(
            sr,
            master,
            partner.configuration(singleAssessmentPackageUrl=f"{partner.url}/connect/packages"),
        ).status_code
        == 200
    )
    assert (
        sr.get("/__sim/packages/skills-2", params={"company_id": ACME}).json()["partner_status"]
        == 200
    )
    assert partner.calls_to("/connect/packages/skills-2", method="GET")


@pytest.mark.parametrize("token_auth", ["form", "basic"])
def test_sr_presents_its_credentials_at_the_partner_as_the_variant_says(
    sr: httpx.Client, partner: ConnectPartner, token_auth: str
) -> None:
    sr.put("/__sim/variants", json={"token_auth": token_auth}).raise_for_status()
    assert sr.get("/__sim/packages").status_code == 200
    [token_call] = partner.calls_to("/oauth/token")
    if token_auth == "basic":
        assert token_call["basic"] == {
            "client_id": PARTNER_CLIENT_ID,
            "client_secret": PARTNER_CLIENT_SECRET,
        }
        assert token_call["form"] == {
            "grant_type": "client_credentials"
        }  # one method only (RFC 6749 §2.3)
    else:
        assert (
            "basic" not in token_call
            and token_call["form"]["client_secret"] == PARTNER_CLIENT_SECRET
        )


def test_the_consent_redirect_leads_to_srs_web_origin_under_the_web_variant(
    sr: httpx.Client, master: Auth, partner: ConnectPartner
) -> None:
    configure(sr, master, partner.configuration())
    sr.put("/__sim/variants", json={"consent_redirect": "web"}).raise_for_status()
    [redirect] = parse_qs(urlsplit(consent(sr, ACME)).query)["redirect"]
    assert redirect.startswith("https://www.smartrecruiters.com/") and ACME in redirect


# --- the admin's pages ---------------------------------------------------------------------------


def test_admin_connects_and_disconnects_through_the_pages(
    sr: httpx.Client, master: Auth, partner: ConnectPartner, config: SmartRecruitersSimConfig
) -> None:
    unregistered = sr.get("/").text
    configure(sr, master, partner.configuration())

    clicked = sr.post("/companies/connect", data={"company_id": ACME})
    # The browser follows SR to the partner's consent page, which integrates the company and
    # sends the admin back to SR.
    landed = httpx.get(clicked.headers["location"], follow_redirects=True)
    home = sr.get("/").text
    disconnected = sr.post("/companies/disconnect", data={"company_id": ACME})
    after = sr.get(f"/__sim/companies/{ACME}/connected")

    assert 'id="connect-sim-company-1"' in unregistered
    assert "has not registered its configuration" in unregistered
    assert clicked.status_code == 303
    assert clicked.headers["location"].startswith(f"{partner.url}/integration?companyId={ACME}&")
    assert landed.url == f"{config.public_url}/__sim/companies/{ACME}/connected"
    assert "Assessment partner is connected" in landed.text
    assert ACME in partner.sr_credentials
    assert "Apps &amp; Integrations" in home
    assert f'id="disconnect-{ACME}"' in home and 'id="connect-sim-company-1"' in home
    assert (disconnected.status_code, disconnected.headers["location"]) == (303, "/#integrations")
    assert "Assessment partner is not connected" in after.text
    assert f'id="connect-{ACME}"' in sr.get("/").text


def test_a_company_disconnected_at_sr_alone_never_reaches_the_partner(
    sr: httpx.Client, master: Auth, partner: ConnectPartner
) -> None:
    issued = connect(sr, master, partner, ACME)
    acme = token_for(sr, issued["clientId"], issued["clientSecret"])
    order_id = order_for(sr, candidate_of(sr, ACME))["order_id"]

    response = sr.post(f"/__sim/companies/{ACME}/disconnect", params={"tell_partner": "false"})

    assert response.json() == {
        "company_id": ACME,
        "partner_status": None,
        "partner_error": "SR's call to the partner was lost (tell_partner=false)",
    }
    assert partner.calls_to(f"/integrations/companies/{ACME}", method="DELETE") == []
    assert company(sr, ACME)["integrated"] is False
    # The partner still holds the credentials SR issued, and SR refuses them: 401 invalid_client.
    assert patch_status(sr, acme, order_id) == 401
    refused = sr.post(
        "/identity/oauth/token", data=token_form(issued["clientId"], issued["clientSecret"])
    )
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")


# --- the hiring process: an admin configures what the assessment step orders --------------------


def move_to_skills_test(sr: httpx.Client, candidate: dict[str, Any]) -> dict[str, Any]:
    move = f"/__sim/candidates/{candidate['id']}/move"
    response = sr.post(move, json={"step": "Skills Test"})
    assert response.status_code == 200, response.text
    return response.json()


def configure_step(sr: httpx.Client, company_id: str, **form: str) -> httpx.Response:
    return sr.post(f"/hiring-process/{company_id}", data=form, follow_redirects=False)


def test_a_connected_company_s_step_orders_only_what_its_admin_configured(
    sr: httpx.Client, master: Auth, partner: ConnectPartner
) -> None:
    connect(sr, master, partner, ACME)
    connect(sr, master, partner, "globex")
    first = candidate_of(sr, ACME)

    # Connected, but the step is not configured: moving orders nothing, and the profile says why.
    assert move_to_skills_test(sr, first)["order"] is None
    profile = sr.get(f"/candidates/{first['id']}").text
    assert 'id="step-not-configured"' in profile and f'href="/hiring-process/{ACME}"' in profile

    # The editor offers the company's own catalog, by type, and refuses a package of another type.
    page = sr.get(f"/hiring-process/{ACME}").text
    assert f'<option value="skills-{ACME}" data-type="SKILL_TEST"' in page
    assert "skills-globex" not in page
    wrong = configure_step(sr, ACME, package_type="BACKGROUND_CHECK", package_id=f"skills-{ACME}")
    assert wrong.status_code == 422 and "offers no BACKGROUND_CHECK package" in wrong.text
    other = configure_step(sr, ACME, package_type="SKILL_TEST", package_id="skills-globex")
    assert other.status_code == 422

    saved = configure_step(
        sr, ACME, package_type="SKILL_TEST", package_id=f"skills-{ACME}", auto_triggered="true"
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/#hiring-process")
    ordered = move_to_skills_test(sr, candidate_of(sr, ACME))["order"]
    assert (ordered["package_id"], ordered["trigger"], ordered["partner_status"]) == (
        f"skills-{ACME}",
        "auto",
        202,
    )
    home = sr.get("/").text
    assert f"<code>skills-{ACME}</code>" in home

    # Another company's step is its own: still unconfigured.
    assert move_to_skills_test(sr, candidate_of(sr, "globex"))["order"] is None

    # Switched off, the step orders nothing again.
    off = configure_step(sr, ACME, package_type="SKILL_TEST", package_id=f"skills-{ACME}")
    assert off.status_code == 303
    assert move_to_skills_test(sr, candidate_of(sr, ACME))["order"] is None


def test_a_company_not_connected_cannot_configure_its_step(sr: httpx.Client) -> None:
    page = sr.get("/hiring-process/initech")
    assert 'id="not-connected"' in page.text and "<form" not in page.text
    refused = configure_step(sr, "initech", package_type="SKILL_TEST", package_id="skills")
    assert refused.status_code == 409
    assert move_to_skills_test(sr, candidate_of(sr, "initech"))["order"] is None
