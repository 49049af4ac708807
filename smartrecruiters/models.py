"""SmartRecruiters Assessment API (2021) wire shapes, as in specs/smartrecruiters-assessment-openapi.yaml.

The spec's order ``candidate`` and ``job`` schemas collided with other SR APIs when it was merged
(research §5 gap 1), so those models keep only what an order needs and accept extra fields.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field, field_validator

from orders.models import ResultUpdate

# The order id is the path segment before /results in resultCallbackURL (research §5 gap 2).
_ORDER_ID_IN_CALLBACK = re.compile(r"/orders/([A-Za-z0-9_-]{1,128})/results/?$")


class AssessmentType(StrEnum):
    VIDEO_INTERVIEW = "VIDEO_INTERVIEW"
    BEHAVIORAL_ASSESSMENT = "BEHAVIORAL_ASSESSMENT"
    BACKGROUND_CHECK = "BACKGROUND_CHECK"
    REFERENCE_CHECK = "REFERENCE_CHECK"
    SKILL_TEST = "SKILL_TEST"
    INLINE_ASSESSMENT = "INLINE_ASSESSMENT"


class Assessment(BaseModel):
    id: str
    name: str | None = None
    description: str
    type: AssessmentType


class AssessmentPackage(BaseModel):
    id: str
    name: str
    description: str
    type: AssessmentType
    assessments: list[Assessment]


class _WireModel(BaseModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)


class OrderCandidate(_WireModel):
    id: str | None = None
    email: EmailStr
    firstName: str = Field(default="", max_length=200)
    lastName: str = Field(default="", max_length=200)


class OrderJob(_WireModel):
    id: str | None = None
    title: str | None = Field(default=None, max_length=400)


class OrderRequester(_WireModel):
    userId: str
    email: str


class _OrderRequestBase(_WireModel):
    resultCallbackURL: str = Field(max_length=2048)
    assessmentPackageId: str = Field(min_length=1, max_length=200)
    companyId: str = Field(min_length=1, max_length=200)
    jobId: str | None = None  # deprecated by SR, still sent
    fields: dict[str, str] | None = None

    @field_validator("resultCallbackURL")
    @classmethod
    def _callback_names_an_order(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or not _ORDER_ID_IN_CALLBACK.search(value.split("?")[0]):
            raise ValueError("must be a URL ending in /orders/{orderId}/results")
        return value

    @property
    def order_id(self) -> str:
        match = _ORDER_ID_IN_CALLBACK.search(self.resultCallbackURL.split("?")[0])
        assert match  # guaranteed by the validator
        return match.group(1)


class AssessmentPackageOrderRequest(_OrderRequestBase):
    candidate: OrderCandidate
    job: OrderJob
    requester: OrderRequester | None = None


class InlineCandidate(_WireModel):
    email: EmailStr
    firstName: str = Field(max_length=200)
    lastName: str = Field(max_length=200)
    applicationLanguage: str


class InlineJob(_WireModel):
    id: str


class InlineAssessmentPackageOrderRequest(_OrderRequestBase):
    candidate: InlineCandidate
    job: InlineJob
    completedAssessmentCallbackUrl: AnyHttpUrl

    @field_validator("completedAssessmentCallbackUrl", mode="after")
    @classmethod
    def _as_text(cls, value: AnyHttpUrl) -> str:
        return str(value)


class InlineAssessmentPackageResponse(BaseModel):
    url: str


class AccessToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class TokenErrorResponse(BaseModel):
    error: str
    error_description: str | None = None


def package_result_patch(update: ResultUpdate) -> dict:
    """The JSON merge patch for PATCH /orders/{orderId}/results (camelCase, unset fields omitted)."""
    patch: dict = {"status": update.status.value}
    if update.summary is not None:
        patch["summary"] = update.summary
    if update.score is not None:
        patch["score"] = update.score.model_dump()
    if update.score_label is not None:
        patch["scoreLabel"] = update.score_label
    if update.assessment_package_date is not None:
        patch["assessmentPackageDate"] = update.assessment_package_date.isoformat()
    if update.submission_date is not None:
        patch["submissionDate"] = update.submission_date.isoformat()
    if update.assessment_results is not None:
        patch["assessmentResults"] = [
            {
                "assessmentId": t.assessment_id,
                "assessmentName": t.name,
                "name": t.name,
                "status": t.status.value,
                **({"score": t.score.model_dump()} if t.score else {}),
                **({"scoreLabel": t.score_label} if t.score_label else {}),
                **({"summary": t.summary} if t.summary else {}),
            }
            for t in update.assessment_results
        ]
    return patch
