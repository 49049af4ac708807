"""The SmartRecruiters simulator over real HTTP: SR's partner API, faults, SR placing orders.

Each test runs the simulator under uvicorn on its own SQLite file, next to a small fake partner
service (shared by the module, reset per test) that records what SR sends it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from simulators.smartrecruiters.app import create_app
from simulators.smartrecruiters.config import SmartRecruitersSimConfig
from simulators.smartrecruiters.presentation import label_tone, score_percent
from tests.support.servers import free_port, serve

SR_CLIENT_ID, SR_CLIENT_SECRET = "sr-customer-id", "sr-customer-secret"
SR_TOKEN_FORM = {
    "grant_type": "client_credentials",
    "client_id": SR_CLIENT_ID,
    "client_secret": SR_CLIENT_SECRET,
}
PARTNER_CLIENT_ID, PARTNER_CLIENT_SECRET = "partner-issued-id", "partner-issued-secret"
UNKNOWN_ORDER = "00000000-0000-0000-0000-000000000000"
REPORT = b"%PDF-1.7 report"
CATALOG = [
    {
        "id": "skills-fullstack",
        "name": "Full-stack skills test",
        "description": "Coding exercises",
        "type": "SKILL_TEST",
        "assessments": [],
    },
    {
        "id": "bg-standard",
        "name": "Standard background check",
        "description": "Identity and employment checks",
        "type": "BACKGROUND_CHECK",
        "assessments": [],
    },
]
INLINE_URL = "https://partner.example/take/42"
COMPLETED_RESULT = {
    "status": "COMPLETED",
    "score": {"raw": 28, "min": 20, "max": 80},
    "scoreLabel": "Recommended",
    "summary": "Strong problem solving",
    "assessmentResults": [
        {
            "assessmentId": "algo",
            "name": "Algorithms",
            "status": "COMPLETED",
            "score": {"raw": 7, "min": 0, "max": 10},
        }
    ],
}

Auth = dict[str, str]


class FakePartner:
    """The partner service as SR sees it: token exchange, package catalog, order intake."""

    def __init__(self) -> None:
        self.url = ""
        self.calls: list[dict[str, Any]] = []
        self._tokens: set[str] = set()
        self.reset()
        self.app = self._build()

    def reset(self) -> None:
        self.calls.clear()
        self._tokens.clear()
        # What the partner answers; a test may make an answer break SR's spec.
        self.catalog: Any = CATALOG
        self.inline_answer: Any = {"url": INLINE_URL, "assessmentPackageURL": INLINE_URL}
        self.grant_extra: dict[str, Any] = {}

    def forget_tokens(self) -> None:
        """As after a restart: the tokens issued so far stop working."""
        self._tokens.clear()

    def calls_to(self, path: str) -> list[dict[str, Any]]:
        return [call for call in self.calls if call["path"] == path]

    def _build(self) -> FastAPI:
        app = FastAPI()

        async def record(request: Request) -> dict[str, Any]:
            call: dict[str, Any] = {
                "path": request.url.path,
                "authorization": request.headers.get("authorization"),
                "requester": request.headers.get("requester"),
            }
            if request.headers.get("content-type", "").startswith("application/json"):
                call["json"] = await request.json()
            else:
                call["form"] = dict(await request.form())
            self.calls.append(call)
            return call

        def authorized(call: dict[str, Any]) -> bool:
            return call["authorization"] in {f"Bearer {token}" for token in self._tokens}

        @app.post("/oauth/token")
        async def token(request: Request) -> JSONResponse:
            form = (await record(request))["form"]
            presented = (form.get("client_id"), form.get("client_secret"))
            if presented != (PARTNER_CLIENT_ID, PARTNER_CLIENT_SECRET):
                return JSONResponse({"error": "invalid_client"}, status_code=400)
            issued = f"partner-token-{len(self.calls)}"
            self._tokens.add(issued)
            return JSONResponse({"access_token": issued, "expires_in": 3600} | self.grant_extra)

        @app.get("/packages")
        async def packages(request: Request) -> JSONResponse:
            if not authorized(await record(request)):
                return JSONResponse({}, status_code=401)
            return JSONResponse(self.catalog)

        @app.get("/packages/{package_id}")
        async def package(package_id: str, request: Request) -> JSONResponse:
            if not authorized(await record(request)):
                return JSONResponse({}, status_code=401)
            found = [p for p in self.catalog if p["id"] == package_id]
            return (
                JSONResponse(found[0])
                if found
                else JSONResponse({"errors": [{"code": "NOT_FOUND"}]}, status_code=404)
            )

        @app.post("/packages/orders")
        async def order(request: Request) -> JSONResponse:
            call = await record(request)
            if not authorized(call):
                return JSONResponse({}, status_code=401)
            if call["json"]["assessmentPackageId"] not in {p["id"] for p in CATALOG}:
                return JSONResponse({"errors": [{"code": "PACKAGE_NOT_FOUND"}]}, status_code=404)
            return JSONResponse({}, status_code=202)

        @app.post("/packages/inline/orders")
        async def inline_order(request: Request) -> JSONResponse:
            if not authorized(await record(request)):
                return JSONResponse({}, status_code=401)
            return JSONResponse(self.inline_answer)

        return app


@pytest.fixture(scope="module")
def partner() -> Iterator[FakePartner]:
    fake = FakePartner()
    with serve(fake.app) as url:
        fake.url = url
        yield fake


def make_config(database_path: Path, partner_url: str) -> SmartRecruitersSimConfig:
    return SmartRecruitersSimConfig(
        public_url=f"http://127.0.0.1:{free_port()}",
        database_path=database_path,
        client_id=SR_CLIENT_ID,
        client_secret=SR_CLIENT_SECRET,
        partner_api_url=partner_url,
        partner_client_id=PARTNER_CLIENT_ID,
        partner_client_secret=PARTNER_CLIENT_SECRET,
    )


@contextmanager
def running(config: SmartRecruitersSimConfig) -> Iterator[httpx.Client]:
    port = httpx.URL(config.public_url).port
    with (
        serve(create_app(config), port=port) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client


@pytest.fixture
def config(tmp_path: Path, partner: FakePartner) -> SmartRecruitersSimConfig:
    partner.reset()
    return make_config(tmp_path / "sr.db", partner.url)


@pytest.fixture
def sr(config: SmartRecruitersSimConfig) -> Iterator[httpx.Client]:
    with running(config) as client:
        yield client


def bearer(sr: httpx.Client) -> Auth:
    response = sr.post("/identity/oauth/token", data=SR_TOKEN_FORM)
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def auth(sr: httpx.Client) -> Auth:
    return bearer(sr)


def first_candidate(sr: httpx.Client) -> dict[str, Any]:
    return sr.get("/__sim/candidates").json()[0]


def order_for(
    sr: httpx.Client, candidate: dict[str, Any], package_id: str, kind: str = "manual"
) -> httpx.Response:
    body = {"candidate_id": candidate["id"], "package_id": package_id, "kind": kind}
    return sr.post("/__sim/orders", json=body)


def place_order(sr: httpx.Client, kind: str = "manual") -> str:
    response = order_for(sr, first_candidate(sr), "skills-fullstack", kind)
    assert response.status_code == 200, response.text
    return response.json()["order_id"]


def results_path(order_id: str) -> str:
    return f"/assessment-api/v202010/orders/{order_id}/results"


def patch_result(sr: httpx.Client, auth: Auth, order_id: str, result: Any) -> httpx.Response:
    return sr.patch(results_path(order_id), json=result, headers=auth)


def upload(sr: httpx.Client, auth: Auth, order_id: str, part: str = "attachment") -> httpx.Response:
    files = {part: ("report.pdf", REPORT, "application/pdf")}
    return sr.post(f"{results_path(order_id)}/attachment", files=files, headers=auth)


def stored_order(sr: httpx.Client, order_id: str) -> dict[str, Any]:
    return sr.get(f"/__sim/orders/{order_id}").json()


def add_fault(sr: httpx.Client, **rule: Any) -> None:
    assert sr.post("/__sim/faults", json=rule).status_code == 201


# --- SR's OAuth server ---------------------------------------------------------------------


def test_token_is_issued_for_the_sr_issued_credentials(sr: httpx.Client) -> None:
    response = sr.post("/identity/oauth/token", data=SR_TOKEN_FORM)

    assert response.status_code == 200
    grant = response.json()
    assert (grant["token_type"], grant["expires_in"]) == ("bearer", 3600)
    assert grant["access_token"]


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({**SR_TOKEN_FORM, "client_secret": "wrong"}, 401, "invalid_client"),
        ({**SR_TOKEN_FORM, "grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_id": SR_CLIENT_ID}, 400, "invalid_request"),
    ],
)
def test_token_request_errors(
    sr: httpx.Client, form: dict[str, str], status: int, error: str
) -> None:
    response = sr.post("/identity/oauth/token", data=form)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


# --- result PATCH --------------------------------------------------------------------------


def test_patches_are_merged_and_kept_in_history(sr: httpx.Client, auth: Auth) -> None:
    order_id = place_order(sr)
    first = {"status": "IN_PROGRESS", "assessmentPackageDate": "2025-01-02T10:00:00Z"}
    second = {"status": "COMPLETED", "score": {"raw": 8, "min": 0, "max": 10}}

    assert patch_result(sr, auth, order_id, first).status_code == 200
    response = sr.patch(
        results_path(order_id),
        content=json.dumps(second),
        headers={**auth, "Content-Type": "application/merge-patch+json"},
    )

    merged = {**first, **second}
    assert response.status_code == 200
    assert response.json() == merged
    order = stored_order(sr, order_id)
    assert order["result"] == merged
    assert order["patches"] == [first, second]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"status": "DONE"}, "status"),
        ({"score": {"raw": "8", "min": 0, "max": 10}}, "score.raw"),
        ({"score": {"raw": 8.5, "min": 0, "max": 10}}, "score.raw"),
        ({"score": {"raw": 11, "min": 0, "max": 10}}, "score"),
        ({"assessmentResults": [{"name": "no id"}]}, "assessmentResults[0]"),
    ],
)
def test_invalid_results_are_rejected_and_not_applied(
    sr: httpx.Client, auth: Auth, patch: dict[str, Any], field: str
) -> None:
    order_id = place_order(sr)

    response = patch_result(sr, auth, order_id, patch)

    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Invalid result partial update"
    assert [error["code"] for error in body["errors"]] == ["INVALID_RESULT"]
    assert body["errors"][0]["message"].startswith(f"{field}: ")
    assert stored_order(sr, order_id)["patches"] == []


def test_patch_of_an_unknown_order_is_404(sr: httpx.Client, auth: Auth) -> None:
    response = patch_result(sr, auth, UNKNOWN_ORDER, {"status": "PENDING"})

    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"code": "ORDER_NOT_FOUND", "message": "Order with given id does not exist"}]
    }


def test_patch_must_be_json(sr: httpx.Client, auth: Auth) -> None:
    order_id = place_order(sr)

    response = sr.patch(
        results_path(order_id),
        content=b"status=COMPLETED",
        headers={**auth, "Content-Type": "text/plain"},
    )

    assert response.status_code == 415


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not-issued"}, {"Authorization": "Basic abc"}]
)
def test_patch_needs_an_issued_bearer_token(sr: httpx.Client, headers: Auth) -> None:
    order_id = place_order(sr)

    response = patch_result(sr, headers, order_id, {"status": "PENDING"})

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "NOT_AUTHORIZED_TO_ACCESS_RESOURCE"


# --- attachments ---------------------------------------------------------------------------


def test_uploaded_report_is_stored_and_downloadable(
    sr: httpx.Client, auth: Auth, config: SmartRecruitersSimConfig
) -> None:
    order_id = place_order(sr)

    response = upload(sr, auth, order_id)

    assert response.status_code == 201
    url = response.json()["url"]
    assert url.startswith(f"{config.public_url}/files/")
    download = sr.get(url)
    assert download.status_code == 200
    assert download.content == REPORT
    assert download.headers["content-type"] == "application/pdf"
    [attachment] = stored_order(sr, order_id)["attachments"]
    assert attachment["url"] == url
    assert (attachment["filename"], attachment["size"]) == ("report.pdf", len(REPORT))


def test_attachment_is_refused_for_inline_orders(sr: httpx.Client, auth: Auth) -> None:
    order_id = place_order(sr, kind="inline")

    response = upload(sr, auth, order_id)

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "Adding attachment to inline assessment orders is not supported."
    )


def test_attachment_needs_the_configured_part_and_a_known_order(
    sr: httpx.Client, auth: Auth
) -> None:
    order_id = place_order(sr)

    assert upload(sr, auth, order_id, part="file").status_code == 400
    assert upload(sr, auth, UNKNOWN_ORDER).status_code == 404
    assert stored_order(sr, order_id)["attachments"] == []


# --- fault injection and the request record --------------------------------------------------


def test_server_errors_are_injected_then_requests_succeed(sr: httpx.Client, auth: Auth) -> None:
    order_id = place_order(sr)
    add_fault(sr, status=500, count=2, method="PATCH", path_contains="/results")

    statuses = [
        patch_result(sr, auth, order_id, {"status": "COMPLETED"}).status_code for _ in range(3)
    ]

    assert statuses == [500, 500, 200]
    assert sr.get("/__sim/faults").json() == []
    records = sr.get("/__sim/requests", params={"method": "PATCH"}).json()
    assert [record["status"] for record in records] == [500, 500, 200]
    assert stored_order(sr, order_id)["patches"] == [{"status": "COMPLETED"}]


def test_rate_limit_fault_sends_retry_after_and_changes_nothing(
    sr: httpx.Client, auth: Auth
) -> None:
    order_id = place_order(sr)
    add_fault(sr, status=429, count=1, retry_after=7)

    response = patch_result(sr, auth, order_id, {"status": "COMPLETED"})

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Limit"]
    order = stored_order(sr, order_id)
    assert (order["result"], order["patches"]) == ({}, [])


def test_faulted_upload_stores_nothing(sr: httpx.Client, auth: Auth) -> None:
    order_id = place_order(sr)
    add_fault(sr, status=503, count=1, path_contains="/attachment")

    assert upload(sr, auth, order_id).status_code == 503
    assert stored_order(sr, order_id)["attachments"] == []


def test_latency_fault_delays_a_successful_request(sr: httpx.Client, auth: Auth) -> None:
    order_id = place_order(sr)
    add_fault(sr, status=200, count=1, latency_ms=300)

    started = time.monotonic()
    response = patch_result(sr, auth, order_id, {"status": "PENDING"})

    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert stored_order(sr, order_id)["result"] == {"status": "PENDING"}


def test_fault_rules_match_method_and_path_and_can_be_cleared(sr: httpx.Client, auth: Auth) -> None:
    order_id = place_order(sr)
    add_fault(sr, status=503, count=5, method="POST", path_contains="/oauth/token")

    assert patch_result(sr, auth, order_id, {"status": "PENDING"}).status_code == 200
    assert sr.post("/identity/oauth/token", data=SR_TOKEN_FORM).status_code == 503
    assert [rule["count"] for rule in sr.get("/__sim/faults").json()] == [4]
    assert sr.delete("/__sim/faults").status_code == 204
    assert sr.get("/__sim/faults").json() == []
    assert sr.post("/identity/oauth/token", data=SR_TOKEN_FORM).status_code == 200

    # One order's faults are cleared alone: the others stay.
    add_fault(sr, status=403, count=9, path_contains=results_path(order_id))
    add_fault(sr, status=503, count=5, method="POST", path_contains="/oauth/token")
    assert (
        sr.delete("/__sim/faults", params={"path_contains": results_path(order_id)}).status_code
        == 204
    )
    assert [rule["path_contains"] for rule in sr.get("/__sim/faults").json()] == ["/oauth/token"]
    assert patch_result(sr, auth, order_id, {"status": "PENDING"}).status_code == 200


def test_every_partner_facing_request_is_recorded(sr: httpx.Client, auth: Auth) -> None:
    order_id = place_order(sr)
    patch_result(sr, auth, order_id, {"status": "PENDING"})
    upload(sr, auth, order_id)
    attachment_path = f"{results_path(order_id)}/attachment"

    records = sr.get("/__sim/requests").json()

    assert [(r["method"], r["path"], r["status"]) for r in records] == [
        ("POST", "/identity/oauth/token", 200),
        ("PATCH", results_path(order_id), 200),
        ("POST", attachment_path, 201),
    ]
    token_record, patch_record, _ = records
    assert token_record["json"] is None
    assert patch_record["json"] == {"status": "PENDING"}
    assert patch_record["content_type"] == "application/json"
    assert patch_record["size"] == len(b'{"status":"PENDING"}')
    filtered = sr.get("/__sim/requests", params={"path_contains": "attachment"}).json()
    assert [record["path"] for record in filtered] == [attachment_path]
    assert sr.delete("/__sim/requests").status_code == 204
    assert sr.get("/__sim/requests").json() == []


# --- SR placing orders with the partner --------------------------------------------------------


def test_manual_order_sends_an_assessment_package_order_request(
    sr: httpx.Client, partner: FakePartner, config: SmartRecruitersSimConfig
) -> None:
    candidate = first_candidate(sr)

    response = order_for(sr, candidate, "skills-fullstack")

    assert response.status_code == 200
    order_id = response.json()["order_id"]
    assert response.json()["partner_status"] == 202
    [token_call] = partner.calls_to("/oauth/token")
    assert token_call["form"] == {
        "grant_type": "client_credentials",
        "client_id": PARTNER_CLIENT_ID,
        "client_secret": PARTNER_CLIENT_SECRET,
    }
    [order_call] = partner.calls_to("/packages/orders")
    assert order_call["authorization"].startswith("Bearer partner-token-")
    requester = order_call["json"]["requester"]
    assert order_call["json"] == {
        "resultCallbackURL": f"{config.public_url}{results_path(order_id)}",
        "candidate": {
            "id": candidate["id"],
            "email": "ada.lovelace@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
        },
        "job": {"id": candidate["job"]["id"], "title": "Backend Engineer"},
        "requester": {"userId": requester["userId"], "email": "recruiter@example.com"},
        "assessmentPackageId": "skills-fullstack",
        "jobId": candidate["job"]["id"],
        "companyId": "sim-company-1",
    }
    assert requester["userId"]
    order = stored_order(sr, order_id)
    assert (order["kind"], order["trigger"]) == ("manual", "manual")
    assert (order["candidate_id"], order["package_id"]) == (candidate["id"], "skills-fullstack")
    assert (order["result"], order["patches"], order["attachments"]) == ({}, [], [])


def test_inline_order_sends_an_inline_order_request(
    sr: httpx.Client, partner: FakePartner, config: SmartRecruitersSimConfig
) -> None:
    candidate = first_candidate(sr)

    response = order_for(sr, candidate, "skills-fullstack", kind="inline")

    order_id = response.json()["order_id"]
    assert response.json()["partner_status"] == 200
    assert response.json()["partner_body"] == {
        "url": INLINE_URL,
        "assessmentPackageURL": INLINE_URL,
    }
    assert response.json()["candidate_url"] == INLINE_URL
    [order_call] = partner.calls_to("/packages/inline/orders")
    assert order_call["json"] == {
        "resultCallbackURL": f"{config.public_url}{results_path(order_id)}",
        "candidate": {
            "email": "ada.lovelace@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "applicationLanguage": "en",
        },
        "job": {"id": candidate["job"]["id"]},
        "assessmentPackageId": "skills-fullstack",
        "jobId": candidate["job"]["id"],
        "companyId": "sim-company-1",
        "completedAssessmentCallbackUrl": f"{config.public_url}/candidates/{candidate['id']}",
    }


def test_resend_posts_the_same_body_with_the_cached_token(
    sr: httpx.Client, partner: FakePartner
) -> None:
    order_id = place_order(sr)

    response = sr.post(f"/__sim/orders/{order_id}/resend")

    assert response.json() == {"order_id": order_id, "partner_status": 202, "partner_body": {}}
    first, again = partner.calls_to("/packages/orders")
    assert again["json"] == first["json"]
    assert again["authorization"] == first["authorization"]
    assert len(partner.calls_to("/oauth/token")) == 1


def test_a_token_the_partner_forgot_is_renewed(sr: httpx.Client, partner: FakePartner) -> None:
    place_order(sr)
    partner.forget_tokens()

    place_order(sr)

    assert [call["path"] for call in partner.calls] == [
        "/oauth/token",
        "/packages/orders",
        "/packages/orders",  # refused: 401
        "/oauth/token",
        "/packages/orders",
    ]
    assert partner.calls[-1]["authorization"] == "Bearer partner-token-4"  # from the 4th call


def test_partner_rejection_is_reported_not_raised(sr: httpx.Client) -> None:
    candidate = first_candidate(sr)
    response = order_for(sr, candidate, "no-such-package")

    assert response.status_code == 200
    assert response.json()["partner_status"] == 404
    # The recruiter reads what happened and what to do; the status code only as the detail.
    profile = sr.get(f"/candidates/{candidate['id']}").text
    assert "The assessment partner does not offer this package." in profile
    assert "Detail: The partner answered HTTP 404" in profile


def test_unreachable_partner_gives_502_and_keeps_the_order(tmp_path: Path) -> None:
    config = make_config(tmp_path / "sr.db", f"http://127.0.0.1:{free_port()}")
    with running(config) as sr:
        response = order_for(sr, first_candidate(sr), "skills-fullstack")

        assert response.status_code == 502
        assert response.json()["detail"]
        order = stored_order(sr, response.json()["order_id"])
        assert order["partner_status"] is None
        assert order["partner_error"]
        assert sr.get("/__sim/packages").status_code == 502


def test_moving_into_the_auto_trigger_step_orders_its_package(
    sr: httpx.Client, partner: FakePartner
) -> None:
    candidate = first_candidate(sr)
    move = f"/__sim/candidates/{candidate['id']}/move"

    entered = sr.post(move, json={"step": "Skills Test"}).json()
    stayed = sr.post(move, json={"step": "Skills Test"}).json()
    left = sr.post(move, json={"step": "Interview"}).json()

    assert entered["candidate"]["step"] == "Skills Test"
    order = entered["order"]
    assert (order["trigger"], order["kind"]) == ("auto", "manual")
    assert (order["package_id"], order["partner_status"]) == ("skills-fullstack", 202)
    [order_call] = partner.calls_to("/packages/orders")
    assert order_call["json"]["resultCallbackURL"].endswith(results_path(order["order_id"]))
    assert stayed["order"] is None
    assert (left["candidate"]["step"], left["order"]) == ("Interview", None)
    assert sr.post(move, json={"step": "Nowhere"}).status_code == 422
    listed = sr.get("/__sim/orders", params={"candidate_id": candidate["id"]}).json()
    assert [o["order_id"] for o in listed] == [order["order_id"]]


def test_candidates_can_be_added(sr: httpx.Client) -> None:
    new = {"first_name": "Edsger", "last_name": "Dijkstra", "email": "edsger@example.com"}

    response = sr.post("/__sim/candidates", json=new)

    assert response.status_code == 201
    created = response.json()
    assert created["step"] == "New"
    assert created["job"]["title"] == "Backend Engineer"
    assert created["application_id"]
    names = [(c["first_name"], c["last_name"]) for c in sr.get("/__sim/candidates").json()]
    assert names[0] == ("Ada", "Lovelace")
    assert names[-1] == ("Edsger", "Dijkstra")


def test_package_catalog_is_read_from_the_partner(sr: httpx.Client, partner: FakePartner) -> None:
    assert sr.get("/__sim/packages").json() == CATALOG
    [call] = partner.calls_to("/packages")
    assert call["requester"] == '{"email": "recruiter@example.com"}'
    assert sr.get("/__sim/packages/bg-standard").json()["partner_body"] == CATALOG[1]


@pytest.mark.parametrize(
    ("variant", "header"),
    [
        ("json", '{"email": "recruiter@example.com"}'),
        ("email", "recruiter@example.com"),
        ("none", None),
    ],
)
def test_the_requester_header_goes_in_the_variant_s_encoding(
    sr: httpx.Client, partner: FakePartner, variant: str, header: str | None
) -> None:
    sr.put("/__sim/variants", json={"requester_header": variant}).raise_for_status()

    assert sr.get("/__sim/packages").json() == CATALOG

    [call] = partner.calls_to("/packages")
    assert call["requester"] == header


@pytest.mark.parametrize("inline_key", ["url", "assessmentPackageURL"])
def test_the_candidate_s_link_is_read_from_the_variant_s_key(
    sr: httpx.Client, partner: FakePartner, inline_key: str
) -> None:
    sr.put("/__sim/variants", json={"inline_key": inline_key}).raise_for_status()
    links = {
        "url": "https://partner.example/by-url",
        "assessmentPackageURL": "https://partner.example/by-key",
    }
    partner.inline_answer = links

    placed = order_for(sr, first_candidate(sr), "skills-fullstack", kind="inline").json()

    assert placed["candidate_url"] == links[inline_key]
    profile = sr.get(f"/candidates/{first_candidate(sr)['id']}").text
    assert f'href="{links[inline_key]}"' in profile


@pytest.mark.parametrize("inline_key", ["url", "assessmentPackageURL"])
@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (
            {"url": INLINE_URL},
            "'assessmentPackageURL' is a required property",
        ),  # the spec's schema requires it
        ({"url": 42, "assessmentPackageURL": INLINE_URL}, "42 is not of type 'string'"),
        ([INLINE_URL], "is not of type 'object'"),
    ],
)
def test_an_inline_answer_that_breaks_the_spec_is_not_a_delivered_order(
    sr: httpx.Client, partner: FakePartner, inline_key: str, answer: Any, problem: str
) -> None:
    sr.put("/__sim/variants", json={"inline_key": inline_key}).raise_for_status()
    partner.inline_answer = answer

    response = order_for(sr, first_candidate(sr), "skills-fullstack", kind="inline")

    assert response.status_code == 502
    assert (
        "InlineAssessmentPackageResponse" in response.json()["detail"]
        and problem in response.json()["detail"]
    )
    order = stored_order(sr, response.json()["order_id"])
    assert order["partner_error"] and order["candidate_url"] is None


def test_an_inline_answer_without_a_web_link_under_the_key_sr_reads_is_not_delivered(
    sr: httpx.Client, partner: FakePartner
) -> None:
    partner.inline_answer = {"assessmentPackageURL": INLINE_URL}  # fits the schema; `url` missing

    response = order_for(sr, first_candidate(sr), "skills-fullstack", kind="inline")

    assert response.status_code == 502 and "'url'" in response.json()["detail"]


@pytest.mark.parametrize(
    "catalog",
    [
        [{k: v for k, v in CATALOG[0].items() if k != "description"}],
        [CATALOG[0] | {"type": "QUIZ"}],
        {"packages": CATALOG},
    ],
)
def test_a_package_list_that_breaks_the_spec_is_refused(
    sr: httpx.Client, partner: FakePartner, catalog: Any
) -> None:
    partner.catalog = catalog

    response = sr.get("/__sim/packages")

    assert response.status_code == 502 and "PackagesGetListResponse" in response.json()["detail"]


def test_a_single_package_that_breaks_the_spec_is_refused(
    sr: httpx.Client, partner: FakePartner
) -> None:
    partner.catalog = [CATALOG[0] | {"assessments": [{"id": "algo"}]}]

    response = sr.get("/__sim/packages/skills-fullstack")

    assert response.status_code == 502 and "AssessmentPackage" in response.json()["detail"]
    assert sr.get("/__sim/packages/no-such-package").json()["partner_status"] == 404


@pytest.mark.parametrize(
    "grant", [{"expires_in": "3600"}, {"access_token": None}, {"expires_in": 3600.5}]
)
def test_a_token_answer_that_breaks_the_spec_is_refused(
    sr: httpx.Client, partner: FakePartner, grant: dict[str, Any]
) -> None:
    partner.grant_extra = grant

    response = order_for(sr, first_candidate(sr), "skills-fullstack")

    assert response.status_code == 502 and "AccessToken" in response.json()["detail"]
    assert partner.calls_to("/packages/orders") == []


def test_customer_api_lists_orders_of_an_application(sr: httpx.Client, auth: Auth) -> None:
    order_id = place_order(sr)
    patch_result(sr, auth, order_id, {**COMPLETED_RESULT, "name": "Full-stack skills test"})
    application_id = first_candidate(sr)["application_id"]
    path = "/assessment-api/v202107/assessment-orders"

    response = sr.get(path, params={"applicationId": application_id}, headers=auth)

    [order] = response.json()
    assert (order["orderId"], order["applicationId"]) == (order_id, application_id)
    assert (order["status"], order["score"]) == ("COMPLETED", "28/80")
    assert (order["scoreLabel"], order["summary"]) == ("Recommended", "Strong problem solving")
    assert order["assessmentPackageName"] == "Full-stack skills test"
    assert order["assessments"] == COMPLETED_RESULT["assessmentResults"]
    assert sr.get(path, params={"applicationId": "nope"}, headers=auth).status_code == 404
    assert sr.get(path, params={"applicationId": application_id}).status_code == 401


# --- the recruiter's pages -----------------------------------------------------------------------


def card_html(page: str, order_id: str) -> str:
    start = page.index(f'data-order-id="{order_id}"')
    return page[start : page.index("</section>", start)]


def text_of(html: str, css_class: str) -> str:
    match = re.search(rf'class="(?:[^"]* )?{css_class}(?: [^"]*)?"[^>]*>([^<]*)<', html)
    assert match, f"no element of class {css_class}"
    return match.group(1).strip()


def test_candidate_page_shows_the_reported_result(sr: httpx.Client, auth: Auth) -> None:
    profile = f"/candidates/{first_candidate(sr)['id']}"
    order_id = place_order(sr)
    sent = card_html(sr.get(profile).text, order_id)
    patch_result(sr, auth, order_id, COMPLETED_RESULT)
    report_url = upload(sr, auth, order_id).json()["url"]

    card = card_html(sr.get(profile).text, order_id)

    assert text_of(sent, "status") == "Sent"
    assert text_of(card, "status") == "Completed"
    assert text_of(card, "score") == "28/80"
    assert text_of(card, "percent") == "(13%)"
    assert text_of(card, "score-label") == "Recommended"
    assert text_of(card, "summary") == "Strong problem solving"
    assert "Algorithms" in card and "7/10" in card
    assert f'class="report-link" href="{report_url}"' in card
    assert "Full-stack skills test" in card  # the catalog's name for the package


def test_recruiter_forms_add_order_and_move(sr: httpx.Client) -> None:
    new = {"first_name": "Barbara", "last_name": "Liskov", "email": "barbara@example.com"}

    added = sr.post("/candidates", data=new)
    profile = added.headers["location"]
    ordered = sr.post(f"{profile}/orders", data={"package_id": "bg-standard"})
    moved = sr.post(f"{profile}/step", data={"step": "Skills Test"})

    assert (added.status_code, ordered.status_code, moved.status_code) == (303, 303, 303)
    assert ordered.headers["location"].startswith(profile)
    assert "Barbara Liskov" in sr.get("/").text
    candidate_id = profile.rsplit("/", 1)[1]
    orders = sr.get("/__sim/orders", params={"candidate_id": candidate_id}).json()
    assert [(o["package_id"], o["trigger"]) for o in orders] == [
        ("bg-standard", "manual"),
        ("skills-fullstack", "auto"),
    ]
    page = sr.get(profile).text
    assert page.count('<section class="assessment ') == 2
    assert '<option value="Skills Test" selected>' in page


# --- persistence -------------------------------------------------------------------------------


def test_state_survives_a_restart(config: SmartRecruitersSimConfig) -> None:
    new = {"first_name": "Ken", "last_name": "Thompson", "email": "ken@example.com"}
    with running(config) as sr:
        auth = bearer(sr)
        added = sr.post("/__sim/candidates", json=new).json()
        order_id = place_order(sr)
        patch_result(sr, auth, order_id, {"status": "IN_PROGRESS"})
        report_url = upload(sr, auth, order_id).json()["url"]
        before = (sr.get("/__sim/candidates").json(), stored_order(sr, order_id))

    with running(config) as sr:
        assert (sr.get("/__sim/candidates").json(), stored_order(sr, order_id)) == before
        assert added in before[0]
        assert sr.get(report_url).content == REPORT
        assert patch_result(sr, auth, order_id, {"status": "COMPLETED"}).status_code == 200
        patches = stored_order(sr, order_id)["patches"]
        assert patches == [{"status": "IN_PROGRESS"}, {"status": "COMPLETED"}]


def test_variants_are_switched_at_run_time_and_refuse_unknown_forms(sr: httpx.Client) -> None:
    assert sr.get("/__sim/variants").json()["callback_path"] == "results"
    chosen = sr.put(
        "/__sim/variants", json={"callback_path": "other", "token_auth": "basic"}
    ).json()
    assert (chosen["callback_path"], chosen["token_auth"], chosen["inline_key"]) == (
        "other",
        "basic",
        "url",
    )
    assert sr.get("/__sim/variants").json() == chosen
    refused = sr.put("/__sim/variants", json={"callback_path": "sideways"})
    assert refused.status_code == 422
    refused = sr.put("/__sim/variants", json={"no_such_point": "x"})
    assert refused.status_code == 422
    assert sr.get("/__sim/variants").json() == chosen


def test_a_recruiter_orders_only_from_a_partner_connected_for_the_company(sr, partner):
    """SR offers a recruiter only the partners connected for the company: a candidate of a
    company whose Connect never finished gets no order form, no order by hand, none by the
    auto-triggered step, and the partner hears nothing."""
    candidate = sr.post(
        "/__sim/candidates",
        json={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "company_id": "never-connected",
        },
    ).json()
    profile = sr.get(f"/candidates/{candidate['id']}").text
    assert "No assessment partner is connected for company" in profile
    assert f'action="/candidates/{candidate["id"]}/orders"' not in profile
    refused = sr.post(
        f"/candidates/{candidate['id']}/orders", data={"package_id": "skills-fullstack"}
    )
    assert refused.status_code == 409 and "never-connected" in refused.text
    # The profile again, as a page, saying why nothing was sent.
    assert refused.headers["content-type"].startswith("text/html")
    assert 'id="order-problem"' in refused.text and "Not sent." in refused.text
    moved = sr.post(
        f"/candidates/{candidate['id']}/step", data={"step": "Skills Test"}, follow_redirects=False
    )
    assert moved.status_code == 303
    [moved_one] = [c for c in sr.get("/__sim/candidates").json() if c["id"] == candidate["id"]]
    assert moved_one["step"] == "Skills Test"
    orders = sr.get("/__sim/orders").json()
    assert [o for o in orders if o["candidate_id"] == candidate["id"]] == []
    assert partner.calls == []


@pytest.mark.parametrize(
    ("label", "tone"),
    [
        ("Passed", "good"),
        ("Clear", "good"),
        ("Failed", "attention"),
        ("Consider", "attention"),
        ("INTJ", "neutral"),
        (None, "neutral"),
    ],
)
def test_a_results_label_reads_at_a_glance(label, tone):
    """Passed, Failed and Consider no longer share one grey badge."""
    assert label_tone(label) == tone


@pytest.mark.parametrize(
    ("score", "percent"),
    [({"raw": 83, "min": 0, "max": 100}, None), ({"raw": 7, "min": 0, "max": 10}, 70)],
)
def test_a_percentage_is_shown_only_where_it_adds_to_the_score(score, percent):
    """ "83/100 (83%)" said it twice; "7/10 (70%)" does not."""
    assert score_percent(score) == percent
