"""Reading SR's order request: it has no order id field, so the id comes from resultCallbackURL
(docs/smartrecruiters-protocol.md, "Orders SR places with us")."""

import re

import pytest
from pydantic import ValidationError

from smartrecruiters.models import AssessmentPackageOrderRequest


def request(callback: str) -> dict:
    return {
        "resultCallbackURL": callback,
        "assessmentPackageId": "skills-fullstack",
        "companyId": "acme",
        "jobId": "job-1",
        "candidate": {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"},
        "job": {"id": "job-1", "title": "Engineer"},
    }


@pytest.mark.parametrize(
    "callback",
    [
        "https://api.smartrecruiters.com/assessment-api/v202010/orders/6f1c9b1e-0c47-4d51-8a7b-0f8d0c4e2a11/results",
        "https://api.smartrecruiters.com/assessment-api/v202010/orders/6f1c9b1e-0c47-4d51-8a7b-0f8d0c4e2a11/results/",
        "https://api.smartrecruiters.com/assessment-api/v202010/orders/6f1c9b1e-0c47-4d51-8a7b-0f8d0c4e2a11/results?x=1",
    ],
)
def test_order_id_comes_from_the_callback_url(callback):
    assert (
        AssessmentPackageOrderRequest.model_validate(request(callback)).order_id
        == "6f1c9b1e-0c47-4d51-8a7b-0f8d0c4e2a11"
    )


@pytest.mark.parametrize(
    "callback",
    [
        "https://api.smartrecruiters.com/assessment-api/v202010/orders//results",
        "https://api.smartrecruiters.com/orders/abc",
        "https://api.smartrecruiters.com/assessment-api/v202010/results?order=42",
    ],
)
def test_a_callback_of_another_shape_still_names_one_order(callback):
    order_id = AssessmentPackageOrderRequest.model_validate(request(callback)).order_id
    assert order_id == AssessmentPackageOrderRequest.model_validate(request(callback)).order_id
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", order_id)


@pytest.mark.parametrize(
    "callback",
    [
        "ftp://api.smartrecruiters.com/orders/abc/results",
        "/assessment-api/v202010/orders/abc/results",
        "https://user@api.smartrecruiters.com/orders/a/results",
        "not a url",
        # What Python's parser would quietly drop or keep, and an HTTP client refuse or resolve.
        "https://api.smartrecruiters.com/assessment-api/v202010/orders/a b/results",
        "https://api.smartrecruiters.com/assessment-api/v202010/orders/abc/res\tults",
        "https://api.smartrecruiters.com/assessment-api/v202010/orders/abc/results/x/..",
    ],
)
def test_a_callback_that_is_no_web_url_is_refused(callback):
    with pytest.raises(ValidationError, match="resultCallbackURL"):
        AssessmentPackageOrderRequest.model_validate(request(callback))
