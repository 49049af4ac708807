"""The Vendor API, v1 (docs/vendor-api.md): what a vendor without an adapter of ours publishes and
reports, the rules its reports follow, and how an order looks to it.

Pure: the routes (api/vendor_api.py) and the adapter (vendors/api_vendor.py) keep and send what
this module decides.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from orders.models import Order, PackageTestResult, StatusReading, VendorResult, VendorStatus
from smartrecruiters.models import AssessmentType
from store.vendor_api import ApiOrder, Delivery

VERSION = "v1"
# The longest a package's catalog may be, and the most tests a package or result may list.
PACKAGES_AT_MOST = 500
TESTS_AT_MOST = 50
# A report file's largest size.
REPORT_BYTES_AT_MOST = 10 * 1024 * 1024
# What a vendor's 422 says of an order it refuses: shown to recruiters, so bounded.
REFUSAL_MESSAGE_AT_MOST = 200


class ApiStatus(StrEnum):
    """An order's status as the vendor reports it: SR's own statuses."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


# Status moves forward only; the three last ones end the vendor's part.
_RANK = {
    ApiStatus.PENDING: 0,
    ApiStatus.IN_PROGRESS: 1,
    ApiStatus.COMPLETED: 2,
    ApiStatus.REJECTED: 2,
    ApiStatus.EXPIRED: 2,
}


class Closing(StrEnum):
    """Why the hub closed an order before its result."""

    CANCELLED = "cancelled"
    EXPIRED = "expired"
    # The vendor refused the order (422 to order.created).
    REFUSED = "refused"


class Event(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_CANCELLED = "order.cancelled"


# Error codes a vendor acts on (docs/vendor-api.md, "Errors").
INVALID_TRANSITION = "INVALID_TRANSITION"
ORDER_CLOSED = "ORDER_CLOSED"
IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
REVISION_WINDOW_CLOSED = "REVISION_WINDOW_CLOSED"
# How long after the first result a revision is taken (the order watches that long).
REVISION_DAYS = 30.0


class Refused(Exception):
    """A vendor's request the protocol refuses: an HTTP status, a code, a message for the vendor."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
# A score: a finite number, not negative, no larger than any test's maximum could sensibly be.
SCORE_AT_MOST = 1e9
Score = Annotated[float, Field(ge=0, le=SCORE_AT_MOST, allow_inf_nan=False)]
MaxScore = Annotated[float, Field(gt=0, le=SCORE_AT_MOST, allow_inf_nan=False)]
# A result submitted before this or more than a day ahead of now is a vendor's bug.
EARLIEST_SUBMISSION = datetime(2000, 1, 1, tzinfo=UTC)
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100)]


def _web_address(url: str) -> str:
    if not url.startswith(("https://", "http://")):
        raise ValueError("must be an http or https URL")
    return url


Url = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_web_address)]


class _Strict(BaseModel):
    # A field we do not know is a vendor's typo ("scroe") more often than a feature: refused.
    model_config = ConfigDict(extra="forbid")


class PackageTest(_Strict):
    id: Id
    name: Name
    description: Description = ""


class Package(_Strict):
    id: Id
    name: Name
    description: Description = ""
    type: AssessmentType = AssessmentType.SKILL_TEST
    deadline_days: float = Field(7.0, ge=0.01, le=365)
    inline: bool = False
    assessments: list[PackageTest] = Field(default_factory=list, max_length=TESTS_AT_MOST)


class Catalog(_Strict):
    packages: list[Package] = Field(max_length=PACKAGES_AT_MOST)

    @model_validator(mode="after")
    def _one_package_per_id(self) -> Catalog:
        ids = [package.id for package in self.packages]
        if len(set(ids)) != len(ids):
            raise ValueError("each package id may appear once")
        return self


class SubResult(_Strict):
    id: Id
    name: Name
    score: Score | None = None
    max_score: MaxScore | None = None
    label: Label | None = None


def _submitted(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # a year-1 date with a positive offset, say
        raise ValueError("submitted_at is out of range") from None
    if not EARLIEST_SUBMISSION <= moment <= datetime.now(UTC) + timedelta(days=1):
        raise ValueError("submitted_at must be after 2000 and not in the future")
    return moment


class Result(_Strict):
    score: Score | None = None
    max_score: MaxScore | None = None
    label: Label | None = None
    summary: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    submitted_at: Annotated[AwareDatetime | None, AfterValidator(_submitted)] = None
    result_url: Url | None = None
    sub_results: list[SubResult] = Field(default_factory=list, max_length=TESTS_AT_MOST)

    @model_validator(mode="after")
    def _score_within_its_maximum(self) -> Result:
        if self.score is not None and self.max_score is not None and self.score > self.max_score:
            raise ValueError("score is above max_score")
        return self


class OrderPatch(_Strict):
    """A vendor's report on one order: any of its fields."""

    status: ApiStatus | None = None
    status_detail: Annotated[str, StringConstraints(max_length=200)] | None = None
    # With IN_PROGRESS: the candidate's part is done and the vendor prepares the result (a
    # background check's report), so the candidate's deadline no longer applies.
    candidate_done: bool | None = None
    test_url: Url | None = None
    vendor_reference: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    result: Result | None = None

    @model_validator(mode="after")
    def _result_with_completed(self) -> OrderPatch:
        if not self.model_fields_set:
            raise ValueError("a PATCH needs at least one field")
        if (self.status == ApiStatus.COMPLETED) != (self.result is not None):
            raise ValueError("status COMPLETED comes with a result, and a result with COMPLETED")
        if self.candidate_done is not None and self.status != ApiStatus.IN_PROGRESS:
            raise ValueError("candidate_done comes with status IN_PROGRESS")
        return self


# --- what the vendor reads: the order, a page of orders, our events -------------------------


class _View(BaseModel):
    # Answers may gain fields (docs/vendor-api.md, "Versioning"): a vendor ignores what it does
    # not know.
    model_config = ConfigDict(extra="ignore")


class PackageView(_View):
    id: str
    name: str


class CandidateView(_View):
    first_name: str
    last_name: str
    email: str


class JobView(_View):
    id: str
    title: str | None = None


class CompanyView(_View):
    id: str


class ReportView(_View):
    content_type: str


class ClosedView(_View):
    reason: Closing
    at: str | None = Field(None, description="RFC 3339, UTC")


class DeliveryView(_View):
    event: str
    webhook_id: str
    attempt: int
    at: str | None = Field(None, description="RFC 3339, UTC")
    outcome: str = Field(description="Your HTTP status, or how the attempt failed")


class OrderView(_View):
    """An order as the vendor reads it, in our events and from the Vendor API."""

    id: str
    status: ApiStatus
    package: PackageView
    candidate: CandidateView
    job: JobView | None = None
    company: CompanyView
    inline: bool = False
    return_url: str | None = None
    deadline: str = Field(description="The candidate's deadline, RFC 3339")
    test: bool = Field(False, description="A conformance kit's test order: complete it at once")
    test_url: str | None = None
    vendor_reference: str | None = None
    status_detail: str | None = None
    candidate_done: bool = False
    result: dict[str, Any] | None = Field(None, description="The Result you reported")
    report: ReportView | None = None
    revision: int
    closed: ClosedView | None = None
    deliveries: list[DeliveryView] = Field(
        default_factory=list, description="The latest 20 attempts at delivering its events"
    )
    created_at: str
    updated_at: str


class OrderPage(_View):
    orders: list[OrderView]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page")


class EventData(_View):
    order: OrderView
    reason: Closing | None = Field(None, description="order.cancelled: why the hub closed it")


class OrderEvent(_View):
    """The body of each webhook to the vendor, signed per Standard Webhooks."""

    type: Event
    timestamp: str
    data: EventData


def apply(
    order: ApiOrder, patch: OrderPatch, revision_days: float = REVISION_DAYS
) -> tuple[str, dict[str, Any]] | None:
    """The order's status and reported state after the vendor's PATCH; None when it changes
    nothing (the same PATCH again, even once the order is closed: a retry whose answer was lost).
    Raises Refused for a change the protocol does not allow."""
    current = ApiStatus(order.status)
    status = patch.status or current
    reported = dict(order.reported)
    for name in ("status_detail", "candidate_done", "test_url", "vendor_reference"):
        if name in patch.model_fields_set:
            reported[name] = getattr(patch, name)
    if patch.result is not None:
        result = patch.result.model_dump(mode="json")
        if result != reported.get("result"):
            reported["result"] = result
            reported["result_revision"] = int(reported.get("result_revision", 0)) + 1
            reported.setdefault("completed_at", datetime.now(UTC).isoformat())
    if status == current and reported == order.reported:
        return None
    if order.closed_reason is not None:
        raise Refused(
            409,
            ORDER_CLOSED,
            f"The order was {order.closed_reason} by the hub: it takes no more changes",
        )
    first_completed = order.reported.get("completed_at")
    if first_completed is not None and reported.get("result") != order.reported.get("result"):
        window_ends = datetime.fromisoformat(first_completed) + timedelta(days=revision_days)
        if datetime.now(UTC) > window_ends:
            raise Refused(
                409,
                REVISION_WINDOW_CLOSED,
                f"A result may be revised for {revision_days:g} days after the first: "
                "this one comes too late",
            )
    if (
        current in (ApiStatus.REJECTED, ApiStatus.EXPIRED)
        or _RANK[status] < _RANK[current]
        or (current == ApiStatus.COMPLETED and status != ApiStatus.COMPLETED)
    ):
        raise Refused(
            409,
            INVALID_TRANSITION,
            f"The order is {current}: it cannot become {status}"
            if status != current
            else f"The order is {current}: it takes no more changes",
        )
    return status.value, reported


# How the vendor's status reads to the order's workflow.
_VENDOR_STATUS = {
    ApiStatus.PENDING: VendorStatus.INVITED,
    ApiStatus.IN_PROGRESS: VendorStatus.STARTED,
    ApiStatus.COMPLETED: VendorStatus.COMPLETED,
    ApiStatus.REJECTED: VendorStatus.DECLINED,
    ApiStatus.EXPIRED: VendorStatus.EXPIRED,
}


def reading(order: ApiOrder) -> StatusReading:
    """The order's status as the workflow follows it; a result's revision when completed."""
    status = ApiStatus(order.status)
    if status == ApiStatus.IN_PROGRESS and order.reported.get("candidate_done"):
        return StatusReading(status=VendorStatus.PROCESSING)
    revision = order.reported.get("result_revision") if status == ApiStatus.COMPLETED else None
    return StatusReading(
        status=_VENDOR_STATUS[status], revision=None if revision is None else str(revision)
    )


def result(order: ApiOrder) -> VendorResult | None:
    """The result the vendor reported, as every vendor's reads; None before it reported one."""
    reported = order.reported.get("result")
    if reported is None:
        return None
    parsed = Result.model_validate(reported)
    return VendorResult(
        score=parsed.score,
        max_score=parsed.max_score,
        outcome=parsed.label,
        summary=parsed.summary,
        submitted_at=parsed.submitted_at,
        tests=[
            PackageTestResult(
                test_id=sub.id,
                name=sub.name,
                score=sub.score,
                max_score=sub.max_score,
                outcome=sub.label,
            )
            for sub in parsed.sub_results
        ],
        report_url=parsed.result_url,
    )


def details(order: Order) -> dict[str, Any]:
    """What the vendor is told of an order: what it needs to test the candidate."""
    deadline = order.received_at + timedelta(days=order.deadline_days)
    return {
        "package": {"id": order.package_id, "name": order.package_name},
        "candidate": order.candidate.model_dump(mode="json"),
        "job": None if order.job_id is None else {"id": order.job_id, "title": order.job_title},
        "company": {"id": order.company_id},
        "inline": order.inline,
        "return_url": order.return_url,
        "deadline": deadline.isoformat(),
        "test": False,
    }


def view(order: ApiOrder, deliveries: list[Delivery] | None = None) -> dict[str, Any]:
    """The order as the vendor reads it (`GET /vendor/v1/orders/{id}`, and in each event)."""
    reported = order.reported
    return {
        "id": order.id,
        "status": order.status,
        **order.details,
        "test_url": reported.get("test_url"),
        "vendor_reference": reported.get("vendor_reference"),
        "status_detail": reported.get("status_detail"),
        "candidate_done": bool(reported.get("candidate_done")),
        "result": reported.get("result"),
        "report": {"content_type": "application/pdf"} if order.has_report else None,
        "revision": order.revision,
        "closed": None
        if order.closed_reason is None
        else {"reason": order.closed_reason, "at": _iso(order.closed_at)},
        "deliveries": [
            {
                "event": delivery.event,
                "webhook_id": delivery.message_id,
                "attempt": delivery.attempt,
                "at": _iso(delivery.at),
                "outcome": delivery.outcome,
            }
            for delivery in deliveries or []
        ],
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")
