"""Reading SR's order request: the order id lives in resultCallbackURL (research §5 gap 2)."""

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
    assert AssessmentPackageOrderRequest.model_validate(request(callback)).order_id == "6f1c9b1e-0c47-4d51-8a7b-0f8d0c4e2a11"


@pytest.mark.parametrize(
    "callback",
    [
        "https://api.smartrecruiters.com/assessment-api/v202010/orders//results",
        "https://api.smartrecruiters.com/assessment-api/v202010/orders/a b/results",
        "ftp://api.smartrecruiters.com/orders/abc/results",
        "https://api.smartrecruiters.com/orders/abc",
    ],
)
def test_callback_url_without_an_order_id_is_refused(callback):
    with pytest.raises(ValidationError, match="resultCallbackURL"):
        AssessmentPackageOrderRequest.model_validate(request(callback))
