"""The vendor's records as stored, and the JSON shapes of its partner and control APIs.

Stored records carry the candidate's details and the secret page token; the API views built
from them deliberately leave both out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, Field

from .catalog import AssessmentResult, Outcome, Package, PackageKind, PackageTestResult

InvitationStatus = Literal["invited", "started", "completed", "declined", "cancelled"]
# Once here an invitation never moves again (except to the same status, which is a no-op).
FINAL_STATUSES: frozenset[InvitationStatus] = frozenset({"completed", "declined", "cancelled"})


def utc_now() -> datetime:
    return datetime.now(UTC)


class Candidate(BaseModel):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    # Deliberately loose: the sandbox only needs something an outbox can show as an address.
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class InvitationRequest(BaseModel):
    package_id: str = Field(min_length=1)
    # The partner's name for the order; creating an invitation is idempotent on it.
    reference: str = Field(min_length=1, max_length=400)
    candidate: Candidate
    # Where the candidate goes after finishing (e.g. back to their job application).
    redirect_url: AnyHttpUrl | None = None
    # The job the candidate applied to, as the report names it.
    job_title: str | None = Field(None, max_length=200)


class InvitationRecord(BaseModel):
    id: str
    reference: str
    package_id: str
    token: str
    candidate: Candidate
    status: InvitationStatus
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    result: AssessmentResult | None = None
    redirect_url: str | None = None
    job_title: str | None = None


_INVITATION_FIELDS = {
    "id",
    "reference",
    "package_id",
    "status",
    "created_at",
    "started_at",
    "completed_at",
}


class Invitation(BaseModel):
    id: str
    reference: str
    package_id: str
    status: InvitationStatus
    test_url: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def from_record(cls, record: InvitationRecord, test_url: str) -> Invitation:
        return cls(test_url=test_url, **record.model_dump(include=_INVITATION_FIELDS))


class InvitationResult(BaseModel):
    invitation_id: str
    reference: str
    package_id: str
    status: InvitationStatus
    score: float | None
    max_score: float | None
    outcome: Outcome
    summary: str
    submitted_at: datetime
    tests: list[PackageTestResult]

    @classmethod
    def from_record(cls, record: InvitationRecord) -> InvitationResult:
        """The result of a completed invitation (the caller checks it is completed)."""
        assert record.result is not None and record.completed_at is not None
        return cls(
            invitation_id=record.id,
            reference=record.reference,
            package_id=record.package_id,
            status=record.status,
            submitted_at=record.completed_at,
            **record.result.model_dump(),
        )


class PackageTestInfo(BaseModel):
    id: str
    name: str
    description: str


class PackageInfo(BaseModel):
    """A catalog package as partners see it: no questions, and certainly no answers."""

    id: str
    name: str
    description: str
    kind: PackageKind
    tests: list[PackageTestInfo]

    @classmethod
    def from_package(cls, package: Package) -> PackageInfo:
        return cls(
            id=package.id,
            name=package.name,
            description=package.description,
            kind=package.kind,
            tests=[
                PackageTestInfo(id=test.id, name=test.name, description=test.description)
                for test in package.tests
            ],
        )


class Email(BaseModel):
    """A message in the outbox: the sandbox 'sends' email by keeping it for people and tests."""

    id: str
    to: str
    subject: str
    body: str
    link: str
    invitation_id: str
    reference: str
    sent_at: datetime


class CompleteRequest(BaseModel):
    score: float = Field(default=80.0, ge=0.0, le=100.0)


class CompleteAtOnce(BaseModel):
    # Every invited candidate completes every test at this score at once; null: they take it.
    score: float | None = Field(default=None, ge=0.0, le=100.0)


class StatusReadCounting(BaseModel):
    # Whether the vendor tallies invitation status reads (GET /control/status-reads); off by
    # default, since the tally grows with every second and every invitation read.
    counting: bool


class ReportDelay(BaseModel):
    # How long after completion the PDF report becomes available (real vendors render it late).
    delay_seconds: float = Field(ge=0.0)
