"""What SR sends that we never use does not refuse a request; what we must have still does.

SR's public record leaves the forms of these open (the `requester` header's encoding, an order's
requester, the candidate's email domain, an inline order's language and return URL), so each
plausible form is sent to the running service, and the first sight of a form is logged by name.
"""

from __future__ import annotations

import functools
import json
import uuid

import pytest

from api.packages import requester_form
from tests.api.test_partner_api import COMPANY, an_inline_order_body, an_order_body
from tests.support.waiting import eventually

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long

REQUESTER_FORMS = {
    "JSON object": json.dumps({"email": "recruiter@example.com"}),
    "bare email": "recruiter@example.com",
    "other": "not json",
}


async def logged(stack, text: str) -> bool:
    return text in (stack.log_dir / "api.log").read_text(errors="replace")


@pytest.mark.parametrize(
    ("header", "form"),
    [
        ('{"email": "recruiter@example.com"}', "JSON object"),
        ('{"email": "recruiter@example.com", "name": "R"}', "JSON object"),
        (" recruiter@example.com ", "bare email"),
        ('["recruiter@example.com"]', "other"),
        ("Recruiter <recruiter@example.com>", "other"),
        ("[" * 10_000, "other"),
        (None, "absent"),
    ],
)
def test_the_requester_header_s_form_is_recognised(header, form):
    assert requester_form(header) == form


@pytest.mark.parametrize(
    "requester",
    [
        *REQUESTER_FORMS.values(),
        '{"name": "no email"}',
        '["a@example.com"]',
        "{" * 5000,
        "Ada Lovelace <ada@example.com>",
        None,
    ],
)
async def test_the_catalog_is_listed_whatever_the_requester_header_holds(api, bearer, requester):
    """The spec gives the header the schema `Requester {email}` but no encoding; we never use it."""
    headers = bearer | ({"requester": requester} if requester is not None else {})
    response = await api.get("/packages", headers=headers)
    assert response.status_code == 200
    assert "skills-fullstack" in {p["id"] for p in response.json()}


async def test_the_requester_header_s_form_is_logged_by_name_only(api, bearer, stack):
    for value in REQUESTER_FORMS.values():
        await api.get("/packages", headers=bearer | {"requester": value})
    await api.get("/packages", headers=bearer)
    for form in (*REQUESTER_FORMS, "absent"):
        line = f"SmartRecruiters protocol: requester header of GET /packages is {form}"
        await eventually(functools.partial(logged, stack, line), what=f"the log line {line!r}")
    assert not await logged(stack, "recruiter@example.com")


async def test_another_company_s_token_lists_only_its_own_catalog_whatever_the_header(api, bearer):
    """The header names a recruiter; it never chooses the company whose catalog is listed."""
    response = await api.get(
        "/packages",
        headers=bearer
        | {"requester": json.dumps({"email": "x@y.z", "companyId": "another-company"})},
    )
    assert response.status_code == 200
    assert response.json() == (await api.get("/packages", headers=bearer)).json()


@pytest.mark.parametrize("variant", ["json", "email", "none"])
async def test_sr_lists_the_catalog_in_every_requester_encoding(world, variant):
    await world.sr_variants(requester_header=variant)
    response = await world.http.get(f"{world.sr}/__sim/packages")
    assert response.status_code == 200, response.text
    assert "skills-fullstack" in {p["id"] for p in response.json()}


@pytest.mark.parametrize(
    "requester",
    [
        {"email": "recruiter@example.com"},
        {"userId": "u-1"},
        {},
        None,
        "recruiter@example.com",
        {"userId": 7, "email": None},
    ],
)
async def test_an_order_with_any_requester_is_accepted(api, bearer, requester):
    response = await api.post(
        "/packages/orders", json=an_order_body(requester=requester), headers=bearer
    )
    assert response.status_code == 202, response.text


def _with_email(body: dict, email: str) -> dict:
    return body | {"candidate": body["candidate"] | {"email": email}}


def _order_id(body: dict) -> str:
    return body["resultCallbackURL"].split("/")[-2]


@pytest.mark.parametrize("domain", ["b.local", "example.test", "example.com.", "localhost"])
async def test_an_order_for_a_candidate_at_any_plausible_domain_reaches_the_candidate(
    api, bearer, world, domain
):
    email = f"cand-{uuid.uuid4().hex[:8]}@{domain}"
    body = _with_email(an_order_body(), email)
    response = await api.post("/packages/orders", json=body, headers=bearer)
    assert response.status_code == 202, response.text
    assert (await world.invitation_email(_order_id(body)))["to"] == email


@pytest.mark.parametrize("domain", ["b.local", "localhost"])
async def test_an_inline_order_for_a_candidate_at_any_plausible_domain_gets_the_link(
    api, bearer, world, domain
):
    body = _with_email(an_inline_order_body(), f"cand-{uuid.uuid4().hex[:8]}@{domain}")
    response = await api.post("/packages/inline/orders", json=body, headers=bearer)
    assert response.status_code == 200, response.text
    link = (await world.invitation_email(_order_id(body)))["link"]
    assert response.json() == {"url": link, "assessmentPackageURL": link}


@pytest.mark.parametrize("route", ["/packages/orders", "/packages/inline/orders"])
@pytest.mark.parametrize(
    "email",
    [
        None,
        "",
        "   ",
        "no-at-sign.example.com",
        "ada @example.com",
        "ada@exa\u0007mple.com",
        "a@" + "b" * 400,
    ],
)
async def test_a_missing_or_unusable_email_is_a_400_that_does_not_echo_it(
    api, bearer, temporal, route, email
):
    body = (an_inline_order_body if "inline" in route else an_order_body)()
    if email is None:
        del body["candidate"]["email"]
    else:
        body = _with_email(body, email)
    response = await api.post(route, json=body, headers=bearer)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["candidate.email"]
    if email and email.strip():
        assert email not in response.text


async def test_an_inline_order_without_application_language_gets_the_link(api, bearer):
    body = an_inline_order_body()
    del body["candidate"]["applicationLanguage"]
    response = await api.post("/packages/inline/orders", json=body, headers=bearer)
    assert response.status_code == 200, response.text
    assert response.json()["url"] == response.json()["assessmentPackageURL"]


@pytest.mark.parametrize(
    "callback",
    ["javascript:alert(document.domain)", "/candidates/back", "candidates back", "http://[::1"],
)
async def test_a_return_url_that_is_no_web_url_is_accepted_but_never_becomes_a_link(
    api, bearer, world, callback
):
    """Any string is accepted (the spec says string), but the candidate's finished page links back
    only to an absolute http(s) URL: never to a script, never to a path of an unknown origin."""
    body = an_inline_order_body(completedAssessmentCallbackUrl=callback)
    response = await api.post("/packages/inline/orders", json=body, headers=bearer)
    assert response.status_code == 200, response.text
    order_id = _order_id(body)
    await world.at_vendor("complete", order_id, score=80)
    finished = (await world.http.get(response.json()["url"])).text
    assert 'id="continue"' not in finished and callback not in finished


async def test_a_manual_order_never_gives_the_candidate_a_return_link(api, bearer, world):
    """A manual order has no completedAssessmentCallbackUrl; an extra field of that name in its
    body is not one."""
    body = an_order_body(completedAssessmentCallbackUrl="https://evil.example/phish")
    response = await api.post("/packages/orders", json=body, headers=bearer)
    assert response.status_code == 202, response.text
    order_id = _order_id(body)
    link = (await world.invitation_email(order_id))["link"]
    await world.at_vendor("complete", order_id, score=80)
    finished = (await world.http.get(link)).text
    assert "evil.example" not in finished and 'id="continue"' not in finished


async def test_an_inline_order_of_another_company_is_refused_whatever_its_lenient_fields(
    api, bearer
):
    body = an_inline_order_body(
        companyId=f"another-{COMPANY}", completedAssessmentCallbackUrl="javascript:x"
    )
    del body["candidate"]["applicationLanguage"]
    response = await api.post("/packages/inline/orders", json=body, headers=bearer)
    assert response.status_code == 403
