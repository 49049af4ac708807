"""SmartRecruiters Assessment API (2021) wire shapes, as in specs/smartrecruiters-assessment-openapi.yaml.

The spec's order ``candidate`` and ``job`` schemas collided with other SR APIs when it was merged
(research §5 gap 1), so those models keep only what an order needs and accept extra fields.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field, field_validator

from orders.models import ResultUpdate
from smartrecruiters.callbacks import read_callback


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
    def _callback_is_a_web_url(cls, value: str) -> str:
        # Any shape names an order (smartrecruiters/callbacks.py); whose host it may be on is the
        # intake's check, against the settings.
        if read_callback(value) is None:
            raise ValueError("must be an absolute http(s) URL")
        return value

    @property
    def order_id(self) -> str:
        callback = read_callback(self.resultCallbackURL)
        assert callback is not None  # guaranteed by the validator
        return callback.order_id


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
    """The JSON merge patch for PATCH /orders/{orderId}/results (camelCase; fields an update does
    not set are left out, and those of a whole result it lacks are null, removing them: RFC 7396)."""
    patch: dict = {"status": update.status.value}
    if update.summary is not None:
        patch["summary"] = update.summary
    if update.whole_result:
        patch |= {"score": None, "scoreLabel": None, "submissionDate": None}
    if update.score is not None:
        patch["score"] = update.score.model_dump()
    if update.score_label is not None:
        patch["scoreLabel"] = update.score_label
    if update.assessment_package_date is not None:
        patch["assessmentPackageDate"] = _date_time(update.assessment_package_date)
    if update.submission_date is not None:
        patch["submissionDate"] = _date_time(update.submission_date)
    if update.reports:
        # The spec's Attachment is a merge of several SR schemas; SR's result attachments are
        # `{name, type, url}` (VIDEO_URL, PDF_URL or OTHER_URL). A vendor's report page is a web page.
        patch["attachments"] = [{"name": report.name, "type": "OTHER_URL", "url": report.url} for report in update.reports]
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


def _date_time(moment: datetime) -> str:
    """RFC 3339, with its offset (a time without one is UTC): `2026-01-02T03:04:05+00:00`."""
    return (moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment).isoformat()
