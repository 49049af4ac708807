"""What SR shows for a vendor's outcome: the documented score rule, labels and summaries."""

import pytest

from orders import results
from orders.models import PackageTestResult, SrStatus, VendorResult, VendorStatus


@pytest.mark.parametrize(
    ("score", "max_score", "expected"),
    [
        (2, 3, (2, 0, 3)),  # whole numbers pass through
        (28.0, 80.0, (28, 0, 80)),  # whole-valued floats are whole numbers
        (83.3333, 100, (83, 0, 100)),  # otherwise a percentage…
        (84.5, 100, (85, 0, 100)),  # …rounded half up, not to even
        (2.5, 5, (50, 0, 100)),
        (0.125, 1, (13, 0, 100)),  # 12.5 % rounds up
        (110, 100, (100, 0, 100)),  # clamped into the range
        (-3, 10, (0, 0, 10)),
    ],
)
def test_score_rule(score, max_score, expected):
    converted = results.to_score(score, max_score)
    assert (converted.raw, converted.min, converted.max) == expected


@pytest.mark.parametrize(("score", "max_score"), [(None, 100), (5, None), (5, 0)])
def test_no_score_without_a_score_and_a_maximum(score, max_score):
    assert results.to_score(score, max_score) is None


def test_completed_result_carries_every_test():
    update = results.completed(
        VendorResult(
            score=66.6667,
            max_score=100,
            outcome="passed",
            summary="Scored 67%.",
            tests=[
                PackageTestResult(
                    test_id="python-basics",
                    name="Python basics",
                    score=100,
                    max_score=100,
                    outcome="passed",
                ),
                PackageTestResult(
                    test_id="sql-basics",
                    name="SQL basics",
                    score=33.333,
                    max_score=100,
                    outcome="failed",
                ),
            ],
        )
    )
    assert update.status == SrStatus.COMPLETED
    assert (update.score.raw, update.score_label) == (67, "Passed")
    assert [(t.assessment_id, t.score.raw, t.score_label) for t in update.assessment_results] == [
        ("python-basics", 100, "Passed"),
        ("sql-basics", 33, "Failed"),
    ]


def test_background_check_without_score_shows_its_outcome_as_label():
    update = results.completed(VendorResult(outcome="clear", summary="Background check clear."))
    assert update.score is None and update.score_label == "Clear"


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (VendorStatus.DECLINED, "declined"),
        (VendorStatus.CANCELLED, "cancelled"),
        (VendorStatus.FAILED, "could not complete"),
    ],
)
def test_rejections_explain_themselves_to_a_recruiter(status, words):
    update = results.rejected(status)
    assert update.status == SrStatus.REJECTED and words in update.summary


@pytest.mark.parametrize(
    ("days", "words"),
    [(1, "1 day"), (14, "14 days"), (0.5, "12 hours"), (6 / 86400, "6 seconds"), (2.5, "2.5 days")],
)
def test_expiry_names_the_deadline(days, words):
    assert results.expired(days).summary.endswith(f"within {words}.")


@pytest.mark.parametrize(
    ("outcome", "label"),
    [
        ("passed", "Passed"),
        ("not_eligible", "Not eligible"),
        ("consider", "Consider"),
        ("INTJ", "INTJ"),
        ("High Openness", "High Openness"),
        (None, None),
    ],
)
def test_vendor_outcomes_read_as_labels_without_garbling_the_vendors_own_spelling(outcome, label):
    assert results.score_label(outcome) == label
