"""The partner API as SmartRecruiters and vendors meet it: auth, catalog, validation, webhooks."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from temporalio.service import RPCError, RPCStatusCode

from settings import Settings
from simulators.hackerrank import HackerRankSimConfig, create_app
from simulators.sandbox_vendor.webhooks import sign
from simulators.smartrecruiters.validation import validator
from tests.e2e.test_connect import connected_directly
from tests.support.order_workflows import order_reference_of, order_workflow_id
from tests.support.servers import serve
from tests.support.waiting import eventually
from workflows.order import AssessmentOrderWorkflow

# The company the settings' credentials (the `bearer` below) speak for.
COMPANY = Settings.model_fields["partner_company_id"].default


def an_order_body(**changes) -> dict:
    order_id = str(uuid.uuid4())
    body = {
        "resultCallbackURL": f"https://api.smartrecruiters.com/assessment-api/v202010/orders/{order_id}/results",
        "assessmentPackageId": "skills-fullstack",
        "companyId": COMPANY,
        "jobId": "job-1",
        "candidate": {
            "id": "c-1",
            "email": "ada@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
        },
        "job": {"id": "job-1", "title": "Engineer"},
    }
    return body | changes


# --- POST /oauth/token ----------------------------------------------------------------------


async def test_token_for_valid_client_credentials(api, stack):
    settings = stack.settings
    secret = settings.partner_client_secret.get_secret_value()
    form = await api.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": settings.partner_client_id,
            "client_secret": secret,
        },
    )
    basic = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(settings.partner_client_id, secret),
    )
    for response in (form, basic):
        assert response.status_code == 200
        body = response.json()
        assert (
            body["token_type"] == "bearer"
            and body["expires_in"] == settings.token_ttl_seconds
            and body["access_token"]
        )
        assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        # Credentials in the body: invalid_client is 400, as SR's description of this endpoint says.
        (
            {
                "grant_type": "client_credentials",
                "client_id": "smartrecruiters",
                "client_secret": "wrong",
            },
            400,
            "invalid_client",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "someone",
                "client_secret": "embedded-partner-secret",
            },
            400,
            "invalid_client",
        ),
        (
            {"grant_type": "password", "client_id": "smartrecruiters", "client_secret": "x"},
            400,
            "unsupported_grant_type",
        ),
        ({"client_id": "smartrecruiters", "client_secret": "x"}, 400, "invalid_request"),
        ({"grant_type": "client_credentials"}, 400, "invalid_request"),
    ],
)
async def test_token_errors_follow_rfc_6749(api, form, status, error):
    response = await api.post("/oauth/token", data=form)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["error_description"]


async def test_undecodable_basic_credentials_are_an_invalid_client(api):
    response = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic !!!"},
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


async def test_invalid_client_is_401_with_a_challenge_only_for_http_basic(api, stack):
    """RFC 6749 §5.2: 401 and WWW-Authenticate when the client used Basic; 400 for the form body."""
    wrong = (stack.settings.partner_client_id, "wrong")
    basic = await api.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=wrong)
    form = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": wrong[0], "client_secret": wrong[1]},
    )
    assert basic.status_code == 401 and basic.json()["error"] == "invalid_client"
    assert basic.headers["www-authenticate"].startswith("Basic")
    assert form.status_code == 400 and form.json()["error"] == "invalid_client"
    assert "www-authenticate" not in form.headers


async def test_basic_and_body_credentials_at_once_are_refused(api, stack):
    """RFC 6749 §2.3: one client authentication method per request, even when both are right."""
    settings = stack.settings
    client_id, secret = (
        settings.partner_client_id,
        settings.partner_client_secret.get_secret_value(),
    )
    both = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        auth=(client_id, secret),
    )
    other_id = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "someone-else"},
        auth=(client_id, secret),
    )
    for response in (both, other_id):
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        assert "access_token" not in response.json()
    # A body that only repeats the Basic client_id adds no second method.
    same_id = await api.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id},
        auth=(client_id, secret),
    )
    assert same_id.status_code == 200 and same_id.json()["access_token"]


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Basic c21hcnQ6cmVjcnVpdGVycw=="]
)
async def test_every_smartrecruiters_route_wants_our_bearer_token(api, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for method, path, body in (
        ("GET", "/packages", None),
        ("GET", "/packages/skills-fullstack", None),
        ("POST", "/packages/orders", an_order_body()),
        ("POST", "/packages/inline/orders", {}),
    ):
        response = await api.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, path


# --- GET /packages ----------------------------------------------------------------------


async def test_catalog_in_smartrecruiters_shape(api, bearer):
    response = await api.get(
        "/packages", headers=bearer | {"requester": json.dumps({"email": "recruiter@example.com"})}
    )
    assert response.status_code == 200
    packages = {p["id"]: p for p in response.json()}
    for package in packages.values():
        assert not list(validator("AssessmentPackage").iter_errors(package)), package["id"]
    assert packages["skills-fullstack"]["type"] == "SKILL_TEST"
    assert [a["id"] for a in packages["skills-fullstack"]["assessments"]] == [
        "python-basics",
        "sql-basics",
    ]
    assert packages["background-standard"]["type"] == "BACKGROUND_CHECK"

    one = await api.get("/packages/background-standard", headers=bearer)
    assert one.json() == packages["background-standard"]


async def test_unknown_package(api, bearer):
    assert (await api.get("/packages/no-such-package", headers=bearer)).status_code == 404


@pytest.fixture(scope="module")
def hackerrank_url():
    with serve(create_app(HackerRankSimConfig(api_key="catalog-key"))) as url:
        yield url


@pytest.mark.parametrize("path", ["/packages/{id}", "/packages/{{assessmentPackageId}}/{id}"])
async def test_a_package_is_found_only_in_the_catalog_of_the_token_s_company(
    api, bearer, store, hackerrank_url, path
):
    """Each route to one package, as SR expands singleAssessmentPackageUrl: another company's
    token never reaches a package of this company's vendor account, nor this one's of another."""
    account = await store.create_vendor_account(
        name=f"hackerrank-{uuid.uuid4().hex[:8]}",
        adapter="hackerrank",
        credentials={"api_key": "catalog-key", "base_url": hackerrank_url},
    )
    client_id, secret = await connected_directly(store, account.id, f"co-{uuid.uuid4().hex[:8]}")
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    token = (await api.post("/oauth/token", data=form)).json()["access_token"]
    other = {"Authorization": f"Bearer {token}"}
    hackerrank_package = (await api.get("/packages", headers=other)).json()[0]["id"]

    mine = await api.get(path.format(id=hackerrank_package), headers=other)
    assert mine.status_code == 200 and mine.json()["id"] == hackerrank_package
    for headers, package in ((bearer, hackerrank_package), (other, "skills-fullstack")):
        refused = await api.get(path.format(id=package), headers=headers)
        assert refused.status_code == 404, (package, refused.text)
        assert refused.json()["message"] == "There is no package with this id"


async def test_location_filters_are_accepted_and_checked(api, bearer):
    filters = {
        "country-code": "PL",
        "region-abbr": "MZ",
        "city": "Warsaw",
        "postal-code": "00-001",
        "remote": "true",
    }
    assert (await api.get("/packages", params=filters, headers=bearer)).status_code == 200
    response = await api.get("/packages", params={"remote": "sometimes"}, headers=bearer)
    assert response.status_code == 400 and "remote" in response.json()["message"]


# --- POST /packages/orders --------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"candidate": {"firstName": "Ada", "lastName": "Lovelace"}}, "candidate.email"),
        ({"candidate": {"email": "not-an-email", "firstName": "Ada"}}, "candidate.email"),
        ({"resultCallbackURL": "https://sr.example/orders"}, "resultCallbackURL"),
        ({"assessmentPackageId": ""}, "assessmentPackageId"),
        ({"companyId": None}, "companyId"),
        ({"job": "engineer"}, "job"),
    ],
)
async def test_invalid_order_is_refused_naming_the_field(api, bearer, change, field):
    response = await api.post("/packages/orders", json=an_order_body(**change), headers=bearer)
    assert response.status_code == 400
    body = response.json()
    assert field in body["message"]
    assert "not-an-email" not in response.text  # the input is never echoed back


def an_inline_order_body(**changes) -> dict:
    body = an_order_body(
        completedAssessmentCallbackUrl="https://careers.example.com/done", job={"id": "job-1"}
    )
    return body | {"candidate": body["candidate"] | {"applicationLanguage": "en"}} | changes


async def order_never_started(temporal, order_id: str) -> None:
    with pytest.raises(RPCError) as unknown:
        await temporal.get_workflow_handle(order_workflow_id(order_id)).describe()
    assert unknown.value.status == RPCStatusCode.NOT_FOUND


@pytest.mark.parametrize("route", ["/packages/orders", "/packages/inline/orders"])
@pytest.mark.parametrize(
    ("candidate", "field"),
    [
        ({"firstName": "Ada" * 34}, "candidate.firstName"),
        ({"lastName": "L" * 200}, "candidate.lastName"),
        ({"lastName": "  "}, "candidate.lastName"),
    ],
)
async def test_a_candidate_the_vendor_would_refuse_is_a_400_naming_the_field_and_the_limit(
    api, bearer, temporal, route, candidate, field
):
    """SR's names may be 200 characters long, the sandbox vendor's 1 to 100: refused at once,
    rather than accepted and REJECTED later."""
    body = (an_inline_order_body if "inline" in route else an_order_body)()
    body["candidate"] |= candidate
    response = await api.post(route, json=body, headers=bearer)
    message = f"{field}: the sandbox vendor accepts 1 to 100 characters"
    assert response.status_code == 400
    assert response.json() == {
        "message": f"Invalid request: {message}",
        "errors": [{"code": "INVALID_FIELD", "field": field, "message": message}],
    }
    assert "AdaAda" not in response.text and "LLL" not in response.text  # the value is never echoed
    await order_never_started(temporal, body["resultCallbackURL"].split("/")[-2])


async def test_another_companys_token_is_refused_before_the_candidate_is_checked(
    api, store, temporal
):
    account = await store.create_vendor_account(
        name=f"sandbox-{uuid.uuid4().hex[:8]}", adapter="sandbox", credentials={}
    )
    client_id, secret = await connected_directly(
        store, account.id, f"company-a-{uuid.uuid4().hex[:6]}"
    )
    token = (
        await api.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
    ).json()
    body = an_order_body(companyId="company-b")
    body["candidate"] |= {"firstName": "Ada" * 34}
    response = await api.post(
        "/packages/orders", json=body, headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert (
        response.status_code == 403
        and response.json()["message"] == "These credentials are not valid for this company"
    )
    await order_never_started(temporal, body["resultCallbackURL"].split("/")[-2])


async def test_unreadable_order_body_is_a_400_not_a_500(api, bearer):
    response = await api.post(
        "/packages/orders",
        content=b"{not json",
        headers=bearer | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400


async def test_order_for_an_unknown_package_is_404(api, bearer):
    response = await api.post(
        "/packages/orders",
        json=an_order_body(assessmentPackageId="no-such-package"),
        headers=bearer,
    )
    assert response.status_code == 404 and "no package" in response.json()["message"]


# --- POST /webhooks/sandbox -------------------------------------------------------------


async def test_webhook_signatures_are_checked_and_replays_refused(
    api, bearer, stack, temporal, world
):
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    secret = stack.settings.sandbox_webhook_secret.get_secret_value()
    invitation_id = (await world.invitation_email(order_id))["invitation_id"]
    data = {
        "invitation_id": invitation_id,
        "reference": order_reference_of(order_id),
        "status": "completed",
    }
    event = json.dumps({"id": "evt_forged", "type": "invitation.completed", "data": data}).encode()

    def post(signature: str):
        return api.post(
            "/webhooks/sandbox",
            content=event,
            headers={"Content-Type": "application/json", "Sandbox-Signature": signature},
        )

    now = int(time.time())
    assert (await post(sign("wrong-secret", event, now))).status_code == 401
    assert (
        await post(sign(secret, event, now - 3600))
    ).status_code == 401  # replayed an hour later
    assert (await post("t=abc,v1=00")).status_code == 401
    assert (await api.post("/webhooks/sandbox", content=event)).status_code == 401
    assert (await api.post("/webhooks/unknown-vendor", content=event)).status_code == 404

    handle = temporal.get_workflow_handle(order_workflow_id(order_id))
    assert (await handle.query(AssessmentOrderWorkflow.state)).events_received == []

    signature = sign(secret, event, now)
    accepted = await post(signature)
    assert accepted.status_code == 202
    assert (await post(signature)).status_code == 401  # the same signed request again: a replay
    unreadable = b'{"no": "event"}'
    assert (
        await api.post(
            "/webhooks/sandbox",
            content=unreadable,
            headers={"Sandbox-Signature": sign(secret, unreadable, now)},
        )
    ).status_code == 400

    async def recorded():
        return "evt_forged" in (await handle.query(AssessmentOrderWorkflow.state)).events_received

    await eventually(recorded, what="the signed event to reach the workflow")


async def test_the_openapi_document_describes_every_route(api):
    document = (await api.get("/openapi.json")).json()
    for path in (
        "/oauth/token",
        "/packages",
        "/packages/{package_id}",
        "/packages/orders",
        "/packages/inline/orders",
        "/webhooks/{vendor}",
        "/integration",
        "/integrations/companies/{companyId}",
        "/admin/connections",
    ):
        assert path in document["paths"], path
    assert {p["name"] for p in document["paths"]["/packages"]["get"]["parameters"]} >= {
        "country-code",
        "remote",
        "requester",
    }
    assert (await api.get("/docs")).status_code == 200
