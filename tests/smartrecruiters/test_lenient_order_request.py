"""SR's order requests as SR may really send them: what we never use cannot refuse an order, and
only what we must have (the candidate's email, the ids, the callback) is checked strictly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from simulators.smartrecruiters.validation import schema_errors
from smartrecruiters.models import (
    AssessmentPackageOrderRequest,
    InlineAssessmentPackageOrderRequest,
    InlineAssessmentPackageResponse,
)

ORDER_ID = "6f1c9b1e-0c47-4d51-8a7b-0f8d0c4e2a11"


def manual(**changes) -> dict:
    body = {
        "resultCallbackURL": f"https://api.smartrecruiters.com/assessment-api/v202010/orders/{ORDER_ID}/results",
        "assessmentPackageId": "skills-fullstack",
        "companyId": "acme",
        "jobId": "job-1",
        "candidate": {
            "id": "c-1",
            "email": "ada@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
        },
        "job": {"id": "job-1", "title": "Engineer"},
        "requester": {"userId": "u-1", "email": "recruiter@example.com"},
    }
    return body | changes


def inline(**changes) -> dict:
    body = manual(
        job={"id": "job-1"}, completedAssessmentCallbackUrl="https://careers.example.com/done"
    )
    del body["requester"]
    body["candidate"] = {
        "email": "ada@example.com",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "applicationLanguage": "en",
    }
    return body | changes


@pytest.mark.parametrize(
    "requester",
    [
        {"email": "recruiter@example.com"},  # an auto-triggered order has no user behind it
        {"userId": "u-1"},
        {},
        None,
        "recruiter@example.com",
        {"userId": 42, "email": ["not", "a", "string"]},
    ],
)
def test_an_order_with_any_requester_or_none_is_accepted(requester):
    order = AssessmentPackageOrderRequest.model_validate(manual(requester=requester))
    assert order.order_id == ORDER_ID and order.candidate.email == "ada@example.com"


@pytest.mark.parametrize(
    "email",
    [
        "a@b.local",
        "a@example.test",
        "a@example.com.",
        "a@localhost",
        "first.last+tag@sub.example.internal",
        "ada@bücher.de",
    ],
)
@pytest.mark.parametrize(
    ("model", "body"),
    [(AssessmentPackageOrderRequest, manual), (InlineAssessmentPackageOrderRequest, inline)],
)
def test_any_plausible_candidate_email_is_accepted(model, body, email):
    """SR's data is what it is: domains email-validator refuses (special-use, dotless, with a
    trailing dot) are still where SR's candidate gets mail."""
    request = body()
    request["candidate"]["email"] = email
    assert model.model_validate(request).candidate.email == email


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "ada.example.com",
        "@example.com",
        "ada@",
        "ada @example.com",
        "ada@exa\tmple.com",
        "ada@example.com\x00",
        "a@" + "b" * 319,
    ],
)
@pytest.mark.parametrize(
    ("model", "body"),
    [(AssessmentPackageOrderRequest, manual), (InlineAssessmentPackageOrderRequest, inline)],
)
def test_a_missing_or_unusable_candidate_email_is_refused_without_echoing_it(model, body, email):
    request = body()
    request["candidate"]["email"] = email
    with pytest.raises(ValidationError) as refused:
        model.model_validate(request)
    [error] = refused.value.errors()
    assert error["loc"] == ("candidate", "email")
    if email.strip():
        assert email not in error["msg"]


@pytest.mark.parametrize(
    ("model", "body"),
    [(AssessmentPackageOrderRequest, manual), (InlineAssessmentPackageOrderRequest, inline)],
)
def test_a_candidate_without_email_is_refused(model, body):
    request = body()
    del request["candidate"]["email"]
    with pytest.raises(ValidationError, match=r"candidate\.email"):
        model.model_validate(request)


def test_an_inline_order_without_application_language_is_accepted():
    request = inline()
    del request["candidate"]["applicationLanguage"]
    assert InlineAssessmentPackageOrderRequest.model_validate(request).order_id == ORDER_ID


@pytest.mark.parametrize(
    ("given", "return_url"),
    [
        ("https://careers.example.com/done?step=2", "https://careers.example.com/done?step=2"),
        ("http://127.0.0.1:8100/candidates/1", "http://127.0.0.1:8100/candidates/1"),
        ("/candidates/1", None),  # relative: to what, we cannot know
        ("javascript:alert(document.domain)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("//evil.example/x", None),
        ("https://", None),
        ("http://[::1", None),  # unparseable
        ("https://sr.example@evil.example/", None),  # user info hides the real host
        ("", None),
    ],
)
def test_any_completed_assessment_callback_is_accepted_but_only_a_web_url_is_a_return_link(
    given, return_url
):
    """The spec says only `string`: any value is accepted, but the candidate is sent back only to
    an absolute http(s) URL, never to a script or a page of unknown origin."""
    order = InlineAssessmentPackageOrderRequest.model_validate(
        inline(completedAssessmentCallbackUrl=given)
    )
    assert order.return_url == return_url


def test_a_manual_order_has_no_return_link_whatever_extra_fields_it_carries():
    order = AssessmentPackageOrderRequest.model_validate(
        manual(
            completedAssessmentCallbackUrl="javascript:alert(1)", return_url="javascript:alert(1)"
        )
    )
    assert order.return_url is None


def test_the_inline_answer_carries_the_link_under_both_keys_and_fits_the_spec():
    answer = InlineAssessmentPackageResponse.for_link("https://vendor.example/take/1").model_dump()
    assert answer == {
        "url": "https://vendor.example/take/1",
        "assessmentPackageURL": "https://vendor.example/take/1",
    }
    assert schema_errors("InlineAssessmentPackageResponse", answer) == []
