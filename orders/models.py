"""The order as our service knows it: the inputs, signals, updates and state of its workflow.

One pydantic model per workflow, activity, signal and update payload, so fields can be added
without breaking histories in flight.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, model_validator


class SrStatus(StrEnum):
    """Result status values of SmartRecruiters' Assessment API (2021)."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class VendorStatus(StrEnum):
    """A vendor's invitation status, normalised across vendors (docs/vendors.md has the table)."""

    INVITED = "INVITED"
    STARTED = "STARTED"
    PROCESSING = "PROCESSING"
    ON_HOLD = "ON_HOLD"
    COMPLETED = "COMPLETED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    DECLINED = "DECLINED"
    FAILED = "FAILED"
    # A value the adapter does not know; it never fails an order, it just changes nothing.
    UNKNOWN = "UNKNOWN"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_VENDOR_STATUSES


_FINAL_VENDOR_STATUSES = frozenset(
    {
        VendorStatus.COMPLETED,
        VendorStatus.EXPIRED,
        VendorStatus.CANCELLED,
        VendorStatus.DECLINED,
        VendorStatus.FAILED,
    }
)


class Candidate(BaseModel):
    first_name: str
    last_name: str
    email: str


class Order(BaseModel):
    """Workflow input: one SmartRecruiters order, as received."""

    order_id: str
    company_id: str
    package_id: str
    package_name: str
    vendor: str
    # The company's vendor account (Connect); None for the embedded default vendor.
    vendor_account_id: str | None = None
    result_callback_url: str
    candidate: Candidate
    job_id: str | None = None
    job_title: str | None = None
    inline: bool = False
    # Inline orders: where the candidate returns after the test (SR's
    # completedAssessmentCallbackUrl).
    return_url: str | None = None
    deadline_days: float
    # How often the workflow asks the vendor, in case a webhook is lost (vendor-specific cadence).
    poll_interval_seconds: float
    # After the candidate's part is done, how long the vendor may take (background checks).
    report_wait_days: float = 60.0
    # How long a revisable result (Checkr dispute) is watched after it was posted, and how often
    # it is polled meanwhile (pushes bring revisions; the poll catches a lost one).
    result_revision_days: float = 30.0
    revision_poll_interval_seconds: float = 86400.0
    # How long an update SR refuses us for (the company not connected, or disconnected at SR) is
    # tried again before the order gives up as UNDELIVERED, its result kept for a repost.
    sr_refusal_give_up_days: float = 7.0
    received_at: datetime
    # Our name for the order at vendors, in webhook URLs, our indexes and its workflow id
    # (orders/visibility.py order_reference): SR's order id and the company. Orders received
    # before it existed went by SR's order id alone, and keep it.
    reference: str = ""

    @model_validator(mode="after")
    def _reference_of_an_older_order(self) -> Order:
        if not self.reference:
            self.reference = self.order_id
        return self


class VendorRef(BaseModel):
    """Addresses one invitation at one vendor account."""

    vendor: str
    vendor_account_id: str | None = None
    ref: str


class Invitation(BaseModel):
    vendor_ref: str
    test_url: str
    # Other ids by which the vendor's account-level webhooks name this invitation (Checkr's
    # candidate id); indexed with vendor_ref so those webhooks find the order.
    webhook_keys: list[str] = Field(default_factory=list)
    # The vendor can revise a completed result (Checkr disputes): the order keeps watching.
    results_revisable: bool = False


class InvitationLink(BaseModel):
    """Answer to the inline-order update: where SR sends the candidate."""

    url: str


# The longest text a webhook may bring into an order's history as it is; longer is digested.
WEBHOOK_TEXT_MAX = 200


def _bounded(text: str) -> str:
    """A vendor's text as kept: itself up to WEBHOOK_TEXT_MAX characters, else a fixed-size
    digest of it (the same text gives the same digest, so a re-delivery is still recognised)."""
    if len(text) <= WEBHOOK_TEXT_MAX:
        return text
    return f"sha256:{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()}"


WebhookText = Annotated[str, AfterValidator(_bounded)]


def _in_utc(moment: datetime | None) -> datetime | None:
    """A time with its offset, in UTC: one without (a vendor's local notation) is taken as UTC,
    since SR reads date-times as RFC 3339, which requires the offset."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]


class VendorEvent(BaseModel):
    """Update: a vendor webhook arrived. It is only a hint; the vendor is asked before acting."""

    event_id: WebhookText
    kind: WebhookText
    vendor_ref: WebhookText | None = None


# How the workflow refuses a webhook's hint; the API takes the webhook as delivered either way.
# A duplicate is refused alone; an order that ended, or took its share of webhooks, takes no more
# hints, so the API stops asking it for a while and a flood costs Temporal nothing.
HINT_REFUSED = "HintRefused"
HINTS_CLOSED = "HintsClosed"


class StatusReading(BaseModel):
    status: VendorStatus
    # Changes when the vendor revises a completed result
    # (e.g. Checkr's completed_at after a dispute).
    revision: str | None = None


class PollRequest(BaseModel):
    vendor: VendorRef
    known: StatusReading


class PackageTestResult(BaseModel):
    test_id: str
    name: str
    score: float | None = None
    max_score: float | None = None
    outcome: str | None = None
    summary: str | None = None


class VendorResult(BaseModel):
    """A finished assessment, the same for every vendor (docs/vendors.md: what SR shows of it)."""

    score: float | None = None
    max_score: float | None = None
    outcome: str | None = None
    summary: str
    submitted_at: UtcDatetime | None = None
    tests: list[PackageTestResult] = Field(default_factory=list)
    # Where a recruiter can read the full report at the vendor (may need a vendor login).
    report_url: str | None = None


class ReportTransfer(BaseModel):
    order_id: str
    company_id: str
    vendor: VendorRef
    # SR's resultCallbackURL; None in histories of orders from before it was passed on.
    result_callback_url: str | None = None
    # What the report is named after in SR; None in histories from before it was passed on.
    package_name: str | None = None


class ReportLink(BaseModel):
    url: str | None = None


class Score(BaseModel):
    raw: int
    min: int
    max: int


class TestOutcome(BaseModel):
    """One test inside the package, in SR's AssessmentResult terms."""

    assessment_id: str
    name: str
    status: SrStatus
    score: Score | None = None
    score_label: str | None = None
    summary: str | None = None


class LinkedReport(BaseModel):
    """A link to the report at the vendor,
    in the result's attachments where no file was uploaded."""

    name: str
    url: str


class ResultUpdate(BaseModel):
    """What we tell SR about an order: a merge patch of its result (unset fields are left alone)."""

    status: SrStatus
    summary: str | None = None
    score: Score | None = None
    score_label: str | None = None
    assessment_package_date: UtcDatetime | None = None
    submission_date: UtcDatetime | None = None
    assessment_results: list[TestOutcome] | None = None
    # A result (COMPLETED, or its revision) states the whole result: the score, its label and the
    # submission date it lacks are removed at SR (RFC 7396 null), so none of an earlier result's
    # stays on the profile. Other updates own none of them and leave them alone.
    whole_result: bool = False
    reports: list[LinkedReport] | None = None


class SrUpdateRequest(BaseModel):
    order_id: str
    company_id: str
    update: ResultUpdate
    # SR's resultCallbackURL; None in histories of orders from before it was passed on.
    result_callback_url: str | None = None


class TimelineEntry(BaseModel):
    at: datetime
    what: str


class OrderState(BaseModel):
    """Query answer: everything an operator needs to know about one order."""

    order: Order
    sr_status: SrStatus | None = None
    vendor_status: VendorStatus | None = None
    vendor_revision: str | None = None
    invitation: Invitation | None = None
    # The candidate's deadline: from the order's receipt, later for a vendor preparing a report.
    deadline: datetime | None = None
    # Until when a posted result that the vendor may revise is watched (the revision window).
    revision_window_ends: datetime | None = None
    report_url: str | None = None
    result: VendorResult | None = None
    # Results posted after the first one, because the vendor revised it (Checkr dispute).
    revisions_posted: int = 0
    # SR shows "disputed, a revision will follow" on the posted result.
    under_review: bool = False
    events_received: list[str] = Field(default_factory=list)
    duplicate_events: int = 0
    # The order's first and latest notes (workflows/order.py TIMELINE_NOTES); how many between
    # them were dropped.
    timeline: list[TimelineEntry] = Field(default_factory=list)
    timeline_notes_dropped: int = 0
    finished: bool = False
    # While SR refuses us for the order's company: when the order stops trying its update again.
    sr_refusing_until: datetime | None = None
    # The final update SR never took: the order gave up telling SR (UNDELIVERED); its result, if
    # any, is kept for an operator's repost.
    undelivered: SrStatus | None = None


# --- operators' repairs (workflow updates; admin/repairs.py) -----------------------------------

# Who repaired: an operator's handle, never free text.
OPERATOR_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$"
# Why: a short sentence in the order's history (and, for a cancellation, SR's summary). Letters,
# digits, spaces and common punctuation only: no line breaks, no markup.
REASON_PATTERN = r"^[\w][\w .,;:!?'()/#&+%=-]{2,199}$"


class RepairKind(StrEnum):
    """Operators' repairs (admin/repairs.py): updates of a running order's workflow, but `reset`
    (and `repost-result` of an ended one), which are Temporal resets (admin/resets.py)."""

    EXTEND_DEADLINE = "extend-deadline"
    RESEND_INVITATION = "resend-invitation"
    CANCEL = "cancel"
    REPOST_RESULT = "repost-result"
    RESET = "reset"


# How the workflow refuses a repair (ApplicationError types); their messages are for operators.
REPAIR_REFUSED = "RepairRefused"  # it makes no sense in the order's state
REPAIR_FAILED = "RepairFailed"  # it was tried, and the vendor or SR refused


class Repair(BaseModel):
    """An operator's repair of one order: who and why, recorded in the order's history."""

    model_config = {"extra": "forbid"}

    operator: str = Field(
        pattern=OPERATOR_PATTERN,
        description="Who repairs: the operator's handle (letters, digits, _ . @ + -; up to 64)",
    )
    reason: str = Field(
        pattern=REASON_PATTERN,
        description="Why, in 3 to 200 characters (no line breaks); never candidate data",
    )


class DeadlineExtension(Repair):
    days: float = Field(gt=0, le=365, description="Days added to the order's current deadline")


class RepairOutcome(BaseModel):
    """What a repair did, as the order's timeline notes it."""

    repair: str
    done_at: datetime
    note: str
    deadline: datetime | None = None
    sr_status: SrStatus | None = None
    run_id: str | None = Field(
        None, description="A reset (admin/resets.py): the order's new run, which does the rest"
    )


class RepairQuestion(BaseModel):
    """Would this repair be made now? The `repair_refusal` query, for bulk repairs' dry runs."""

    model_config = {"extra": "forbid"}

    kind: RepairKind
    # DeadlineExtension first: a Repair forbids `days`, a DeadlineExtension requires it.
    repair: DeadlineExtension | Repair
