"""SmartRecruiters Assessment API (2021) wire shapes, as in
specs/smartrecruiters-assessment-openapi.yaml.

The spec's order ``candidate`` and ``job`` schemas collided with other SR APIs when it was merged
(docs/smartrecruiters-protocol.md), so those models keep only what an order needs and accept extra
fields.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)

from orders.models import ResultUpdate
from origins import origin_of
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


def _deliverable(email: str) -> str:
    """An address mail can be sent to, as far as we can tell without judging SR's data: some text,
    an @, a domain, no whitespace or control characters. Special-use (`.local`, `.test`), dotless
    and trailing-dot domains are SR's candidates' addresses all the same, so they pass; whether a
    vendor takes them is the vendor's call. The domain is lower-cased, the local part kept as sent.
    """
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or any(c.isspace() or unicodedata.category(c) == "Cc" for c in email)
    ):
        raise ValueError("must be an email address: text, an @ and a domain, without spaces")
    return f"{local}@{domain.lower()}"


# The candidate's email: the one candidate detail every vendor needs, so the one checked here.
CandidateEmail = Annotated[str, Field(min_length=1, max_length=320), AfterValidator(_deliverable)]


def _none_if_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


# A field SR sends that we never use: kept when it has the documented shape, dropped (None) when
# not, so that an unexpected form of it never refuses a whole order.
Unused = WrapValidator(_none_if_invalid)


class OrderCandidate(_WireModel):
    id: Annotated[str | None, Unused] = None
    email: CandidateEmail
    firstName: str = Field(default="", max_length=200)
    lastName: str = Field(default="", max_length=200)


class OrderJob(_WireModel):
    id: str | None = None
    title: str | None = Field(default=None, max_length=400)


class OrderRequester(_WireModel):
    # The spec requires both; an order placed by a hiring step rather than by a person may lack
    # userId (our assumption), and we use neither.
    userId: Annotated[str | None, Unused] = None
    email: Annotated[str | None, Unused] = None


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
    requester: Annotated[OrderRequester | None, Unused] = None

    @property
    def return_url(self) -> None:
        """Only inline orders send the candidate back to SR (an extra field of the same name in a
        manual order's body is not one)."""
        return None

    def protocol_forms(self) -> list[tuple[str, str]]:
        """How this request fills the points SR's public record leaves open (fixed names only)."""
        requester = self.requester
        if requester is None:
            form = "absent or not an object"
        else:
            form = {
                (True, True): "with userId and email",
                (False, True): "without userId",
                (True, False): "without email",
            }.get(
                (requester.userId is not None, requester.email is not None),
                "without userId and email",
            )
        return [("requester of orders", form)]


class InlineCandidate(_WireModel):
    email: CandidateEmail
    firstName: str = Field(max_length=200)
    lastName: str = Field(max_length=200)
    # Required by the spec, unused by us: the vendor's page speaks the vendor's languages.
    applicationLanguage: Annotated[str | None, Unused] = None


class InlineJob(_WireModel):
    id: str


class InlineAssessmentPackageOrderRequest(_OrderRequestBase):
    candidate: InlineCandidate
    job: InlineJob
    # The spec says only `string`, so any string is accepted; see return_url for its use.
    completedAssessmentCallbackUrl: str = Field(max_length=2048)

    @property
    def return_url(self) -> str | None:
        """Where the candidate goes back after the test: SR's URL if it is an absolute http(s) URL,
        otherwise nowhere (a relative path has no origin we know, and another scheme could run
        script in the candidate's browser)."""
        url = self.completedAssessmentCallbackUrl
        return url if origin_of(url) is not None else None

    def protocol_forms(self) -> list[tuple[str, str]]:
        """How this request fills the points SR's public record leaves open (fixed names only)."""
        callback = "an absolute http(s) URL" if self.return_url else "not an absolute http(s) URL"
        language = (
            "present"
            if self.candidate.applicationLanguage is not None
            else "absent or not a string"
        )
        return [
            ("completedAssessmentCallbackUrl of inline orders", callback),
            ("candidate.applicationLanguage of inline orders", language),
        ]


class InlineAssessmentPackageResponse(BaseModel):
    """The spec's schema requires `assessmentPackageURL` but describes only `url`: both carry
    the candidate's link, so SR finds it under whichever key it reads."""

    url: str = Field(description="URL of the inline assessment, opened for the candidate")
    assessmentPackageURL: str = Field(
        description="The same URL, under the key the spec's schema requires"
    )

    @classmethod
    def for_link(cls, url: str) -> Self:
        return cls(url=url, assessmentPackageURL=url)


class AccessToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class TokenErrorResponse(BaseModel):
    error: str
    error_description: str | None = None


def package_result_patch(update: ResultUpdate) -> dict:
    """The JSON merge patch for PATCH /orders/{orderId}/results (camelCase; fields an update does
    not set are left out, and those of a whole result it lacks are null,
    removing them: RFC 7396)."""
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
        # `{name, type, url}` (VIDEO_URL, PDF_URL or OTHER_URL).
        # A vendor's report page is a web page.
        patch["attachments"] = [
            {"name": report.name, "type": "OTHER_URL", "url": report.url}
            for report in update.reports
        ]
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
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).isoformat()
