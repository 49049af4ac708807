"""How a vendor's outcome becomes what SmartRecruiters shows on the candidate's profile.

Score rule (SR wants integers, ``min <= raw <= max``):
- a vendor score that is a whole number out of a whole-number maximum is passed through as
  ``{raw: score, min: 0, max: max_score}``;
- any other score is turned into a percentage, ``raw = round_half_up(100 * score / max_score)``,
  ``min = 0``, ``max = 100``;
- ``raw`` is clamped into ``[min, max]``; without a maximum (background checks) there is no score,
  and the outcome shows as the score label instead.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeGuard
from urllib.parse import urlsplit

from orders.models import (
    LinkedReport,
    PackageTestResult,
    ResultUpdate,
    Score,
    SrStatus,
    TestOutcome,
    VendorResult,
    VendorStatus,
)


def to_score(score: float | None, max_score: float | None) -> Score | None:
    if score is None or not max_score or max_score <= 0:
        return None
    if float(score).is_integer() and float(max_score).is_integer():
        raw, top = int(score), int(max_score)
    else:
        raw = int(
            Decimal(str(100 * score / max_score)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        )
        top = 100
    return Score(raw=min(max(raw, 0), top), min=0, max=top)


def score_label(outcome: str | None) -> str | None:
    """Vendor outcomes such as "passed" or "not_eligible" read as "Passed" or "Not eligible";
    any other spelling ("INTJ", "High Openness") is the vendor's own and passes through."""
    if not outcome:
        return None
    if outcome == outcome.lower():
        return outcome.replace("_", " ").capitalize()
    return outcome


def _test_outcome(test: PackageTestResult) -> TestOutcome:
    return TestOutcome(
        assessment_id=test.test_id,
        name=test.name,
        status=SrStatus.COMPLETED,
        score=to_score(test.score, test.max_score),
        score_label=score_label(test.outcome),
        summary=test.summary,
    )


# How the link to the vendor's report reads among the result's attachments.
REPORT_LINK_NAME = "Full report at the vendor"


def _web_link(url: str | None) -> TypeGuard[str]:
    """Only an absolute http(s) link goes onto SR's profile (never javascript:, data: or a path)."""
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("https", "http") and bool(parts.netloc)


def completed(result: VendorResult, *, report_uploaded: bool = False) -> ResultUpdate:
    """The whole result: what it lacks (a revision without a score) is removed at SR. Where no
    report file reached SR (inline orders take none; an upload refused), the link to the vendor's
    report page (a lasting one: adapters never give an expiring download link here) stands in."""
    return ResultUpdate(
        status=SrStatus.COMPLETED,
        score=to_score(result.score, result.max_score),
        score_label=score_label(result.outcome),
        summary=result.summary,
        submission_date=result.submitted_at,
        assessment_results=[_test_outcome(t) for t in result.tests],
        whole_result=True,
        reports=[LinkedReport(name=REPORT_LINK_NAME, url=result.report_url)]
        if _web_link(result.report_url) and not report_uploaded
        else None,
    )


def pending(sent_at: datetime) -> ResultUpdate:
    return ResultUpdate(
        status=SrStatus.PENDING,
        assessment_package_date=sent_at,
        summary="The candidate has been invited and has not started yet.",
    )


# What a recruiter reads while the vendor works (docs/vendors.md, "Normalised statuses").
_PROGRESS = {
    VendorStatus.STARTED: (
        "Candidate started the assessment",
        "The candidate has started the assessment.",
    ),
    VendorStatus.PROCESSING: (
        "Candidate finished; the vendor is preparing the result",
        "The candidate has done their part; the vendor is preparing the result.",
    ),
    VendorStatus.ON_HOLD: (
        "On hold at the vendor",
        "On hold at the vendor: it is waiting for something from the candidate (for "
        "example a document).",
    ),
}


def progress_note(status: VendorStatus) -> str:
    return _PROGRESS.get(status, _PROGRESS[VendorStatus.STARTED])[0]


def in_progress(status: VendorStatus = VendorStatus.STARTED) -> ResultUpdate:
    return ResultUpdate(
        status=SrStatus.IN_PROGRESS,
        summary=_PROGRESS.get(status, _PROGRESS[VendorStatus.STARTED])[1],
    )


def under_review() -> ResultUpdate:
    """A posted result is disputed: SR keeps the score and status; the summary says what happens."""
    return ResultUpdate(
        status=SrStatus.COMPLETED,
        summary=(
            "The candidate disputed this result; the vendor is reviewing it, and the revised "
            "result will replace this one."
        ),
    )


# What a recruiter reads when an order ends without a result.
_REJECTION_SUMMARIES = {
    VendorStatus.DECLINED: "The candidate declined the assessment.",
    VendorStatus.CANCELLED: (
        "The assessment was cancelled at the vendor before the candidate finished it."
    ),
    VendorStatus.FAILED: (
        "The vendor could not complete the assessment. Please order it again or contact support."
    ),
}


def rejected(reason: VendorStatus) -> ResultUpdate:
    return ResultUpdate(
        status=SrStatus.REJECTED,
        summary=_REJECTION_SUMMARIES.get(reason, _REJECTION_SUMMARIES[VendorStatus.FAILED]),
    )


def invitation_failed(reason: str) -> ResultUpdate:
    """`reason`: what the vendor refused, in our words (never a value of the order)."""
    return ResultUpdate(
        status=SrStatus.REJECTED, summary=f"The vendor could not send the invitation ({reason})."
    )


def cancelled() -> ResultUpdate:
    return ResultUpdate(
        status=SrStatus.REJECTED,
        summary=(
            "The order was cancelled before the candidate finished: the integration was "
            "disconnected, or support cancelled it."
        ),
    )


def cancelled_by_operator(reason: str) -> ResultUpdate:
    """An operator cancelled the order (a repair); their reason is SR's summary."""
    return ResultUpdate(status=SrStatus.REJECTED, summary=reason)


def expired(deadline_days: float) -> ResultUpdate:
    return ResultUpdate(
        status=SrStatus.EXPIRED,
        summary=f"The candidate did not complete the assessment within {_duration(deadline_days)}.",
    )


def expired_at_vendor() -> ResultUpdate:
    return ResultUpdate(
        status=SrStatus.EXPIRED,
        summary="The invitation expired at the vendor before the candidate completed it.",
    )


def _duration(days: float) -> str:
    """3 → "3 days", 1 → "1 day", 0.5 → "12 hours": the largest unit that reads as a whole."""
    seconds = round(days * 86400)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            count = round(seconds / size, 1)
            return f"{count:g} {unit}" + ("" if count == 1 else "s")
    raise AssertionError("unreachable")
