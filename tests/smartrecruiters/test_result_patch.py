"""Our result updates as SR's merge patches: what each kind of update owns, and date-times that
always carry their offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from orders import results
from orders.models import VendorResult, VendorStatus
from simulators.smartrecruiters.validation import package_result_errors
from smartrecruiters.models import package_result_patch

SCORED = VendorResult(
    score=8,
    max_score=10,
    outcome="passed",
    summary="8 of 10.",
    submitted_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
)


def test_a_whole_result_removes_what_it_lacks():
    revised = package_result_patch(
        results.completed(VendorResult(outcome=None, summary="Revised: clear."))
    )
    assert (revised["score"], revised["scoreLabel"], revised["submissionDate"]) == (
        None,
        None,
        None,
    )
    assert revised["summary"] == "Revised: clear." and revised["assessmentResults"] == []
    assert package_result_errors(revised) == []  # SR's spec, read with RFC 7396's removals


def test_a_whole_result_sets_what_it_has():
    patch = package_result_patch(results.completed(SCORED))
    assert patch["score"] == {"raw": 8, "min": 0, "max": 10} and patch["scoreLabel"] == "Passed"
    assert patch["submissionDate"] == "2026-01-02T03:04:05+00:00"


@pytest.mark.parametrize(
    "update",
    [
        results.pending(datetime(2026, 1, 1, tzinfo=UTC)),
        results.in_progress(VendorStatus.STARTED),
        results.under_review(),
        results.rejected(VendorStatus.DECLINED),
        results.expired(3),
    ],
    ids=["pending", "in-progress", "under-review", "rejected", "expired"],
)
def test_other_updates_leave_the_result_alone(update):
    """A progress update never set a score; a dispute notice keeps the disputed one on show."""
    patch = package_result_patch(update)
    assert (
        not {"score", "scoreLabel", "submissionDate", "assessmentResults", "attachments"}
        & patch.keys()
    )
    assert None not in patch.values()


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (
            "2026-01-02T03:04:05",
            "2026-01-02T03:04:05+00:00",
        ),  # a vendor's time without an offset: UTC
        ("2026-01-02T05:04:05+02:00", "2026-01-02T03:04:05+00:00"),
        ("2026-01-02T03:04:05.250Z", "2026-01-02T03:04:05.250000+00:00"),
    ],
)
def test_every_date_time_sent_carries_an_offset(given, sent):
    patch = package_result_patch(results.completed(VendorResult(summary="s", submitted_at=given)))
    assert patch["submissionDate"] == sent
    assert package_result_errors(patch) == []


def test_a_naive_time_of_our_own_is_sent_as_utc():
    patch = package_result_patch(results.pending(datetime(2026, 1, 2, 3, 4, 5)))  # noqa: DTZ001 - the naive time under test
    assert patch["assessmentPackageDate"] == "2026-01-02T03:04:05+00:00"
    later = package_result_patch(
        results.pending(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))))
    )
    assert later["assessmentPackageDate"] == "2026-01-02T08:04:05+00:00"


def test_the_report_link_stands_in_only_where_no_file_reached_sr():
    linked = VendorResult(
        summary="s", report_url="https://www.hackerrank.com/x/tests/1/candidates/2/report"
    )
    assert package_result_patch(results.completed(linked))["attachments"] == [
        {
            "name": results.REPORT_LINK_NAME,
            "type": "OTHER_URL",
            "url": "https://www.hackerrank.com/x/tests/1/candidates/2/report",
        }
    ]
    assert "attachments" not in package_result_patch(
        results.completed(linked, report_uploaded=True)
    )
    assert "attachments" not in package_result_patch(results.completed(VendorResult(summary="s")))


async def test_a_vendors_time_without_an_offset_reaches_sr_with_one():
    """The sandbox adapter reads the vendor's `submitted_at` as it comes (here without offset)."""
    from vendors.sandbox import SandboxVendor

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "score": 8,
                "max_score": 10,
                "summary": "s",
                "submitted_at": "2026-01-02T03:04:05",
                "tests": [],
            },
        )

    adapter = SandboxVendor(
        base_url="http://vendor.invalid",
        api_key="k",
        webhook_secret="w",
        timeout_seconds=5,
        webhook_tolerance_seconds=300,
    )
    await adapter._http.aclose()  # the vendor answers from here instead
    adapter._http = httpx.AsyncClient(
        base_url="http://vendor.invalid", transport=httpx.MockTransport(vendor)
    )
    result = await adapter.get_result("inv-1")
    await adapter.aclose()
    assert result.submitted_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (
        package_result_patch(results.completed(result))["submissionDate"]
        == "2026-01-02T03:04:05+00:00"
    )
