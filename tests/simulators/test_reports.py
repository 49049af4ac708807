"""The vendor simulators' report PDFs, rendered to PNG and read back: the candidate's name in a
font that has its letters, the score as SmartRecruiters shows it, the pass mark, page numbers,
and no raw ids in the body."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pytest

from simulators.checkr.pdf import render_report as checkr_report
from simulators.checkr.reports import Report as CheckrReport, Screening
from simulators.hackerrank.report import render_report as hackerrank_report
from simulators.pdf import ShownScore, shown_mark, shown_score
from simulators.sandbox_vendor.catalog import PACKAGES, grade_uniformly
from simulators.sandbox_vendor.models import Candidate, InvitationRecord, InvitationResult
from simulators.sandbox_vendor.report import render_report as sandbox_report
from simulators.testgorilla.catalog import ASSESSMENTS
from simulators.testgorilla.report import render_report as render_testgorilla
from simulators.testgorilla.service import Candidature, TestResult

FIRST, LAST = "Zoë", "Łukasiewicz-Ôtake"
NAME = f"{FIRST} {LAST}"
WHEN = datetime(2025, 5, 12, 9, 30, tzinfo=UTC)


def sandbox(score: float = 83.3, first: str = FIRST, last: str = LAST) -> bytes:
    package = PACKAGES["skills-fullstack"]
    record = InvitationRecord(
        id="inv_8f3a2c",
        reference="ord-4711",
        package_id=package.id,
        token="secret",
        candidate=Candidate(first_name=first, last_name=last, email="zoe@example.com"),
        status="completed",
        created_at=WHEN,
        completed_at=WHEN,
        result=grade_uniformly(package, score),
    )
    return sandbox_report(record, package, InvitationResult.from_record(record))


def hackerrank() -> bytes:
    return hackerrank_report(
        candidate=NAME,
        email="zoe@example.com",
        test="Python developer screen",
        score=47.5,
        max_score=60,
        submitted="2025-05-12T09:30:00+0000",
        cutoff_score=36,
        skill_scores={"Problem Solving (Basic)": 88.25, "Python (Intermediate)": 70},
    )


def checkr() -> bytes:
    screenings = [
        Screening(type, f"scr_{type}", WHEN, "complete", result, WHEN)
        for type, result in (("ssn_trace", "clear"), ("county_criminal_search", "consider"))
    ]
    report = CheckrReport(
        id="rep_5c1e9a",
        candidate_id="cand_77",
        package="tasker_standard",
        work_locations=[],
        created_at=WHEN,
        estimated_completion_time=WHEN,
        screenings=screenings,
        status="complete",
        result="consider",
        completed_at=WHEN,
    )
    return checkr_report(report, "Tasker Standard", candidate=NAME)


def gorilla() -> bytes:
    assessment = ASSESSMENTS[0]
    coding, problems, big5 = assessment.tests
    return render_testgorilla(
        Candidature(
            id=9001,
            assessment=assessment,
            test_taker=42,
            email="zoe@example.com",
            first_name=FIRST,
            last_name=LAST,
            invitation_uuid="uuid",
            created=WHEN,
            status="completed",
            results=[
                TestResult(1, coding, 82.5, "", 91),
                TestResult(2, problems, 70, "", 64),
                TestResult(3, big5, None, "O:72 C:64 E:41 A:58 N:33", None),
            ],
        )
    )


@dataclass(frozen=True)
class Case:
    render: Callable[[], bytes]
    # What the body says, beyond the name and the page number.
    says: tuple[str, ...]
    # Raw ids the body must not show (small print at the foot may).
    ids: tuple[str, ...]


CASES = {
    "sandbox": Case(
        sandbox,
        ("83 / 100", "(83.3 before rounding)", "Passed", "Pass mark 60 / 100", "12 May 2025"),
        ("inv_8f3a2c", "ord-4711"),
    ),
    "hackerrank": Case(
        hackerrank,
        ("79 / 100", "(47.5 / 60 before rounding)", "Passed", "Pass mark 60 / 100", "88 / 100"),
        (),
    ),
    "checkr": Case(checkr, ("Consider", "County criminal search", "Tasker Standard"), ("rep_",)),
    "testgorilla": Case(
        gorilla, ("76 / 100", "(76.2 before rounding)", "91", "O:72 C:64"), ("9001",)
    ),
}


def _pages(pdf: bytes) -> list[tuple[str, str]]:
    """Each page's body text and footer text, split at the footer's rule (16 mm from the foot)."""
    document = pdfium.PdfDocument(pdf)
    pages = []
    for page in document:
        text = page.get_textpage()
        foot = 16 / 25.4 * 72
        width, height = page.get_width(), page.get_height()
        pages.append(
            (
                text.get_text_bounded(bottom=foot, top=height, right=width),
                text.get_text_bounded(bottom=0, top=foot, right=width),
            )
        )
    return pages


@pytest.mark.parametrize("vendor", CASES)
def test_the_report_names_the_candidate_and_shows_the_score_as_sr_does(
    vendor: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    case = CASES[vendor]
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        pdf = case.render()
    assert not [r.getMessage() for r in caplog.records if "missing" in r.getMessage()]

    (body, foot), *more = _pages(pdf)
    assert not more
    assert NAME in body
    for text in case.says:
        assert text in body, text
    for raw in case.ids:
        assert raw not in body, raw
    assert "None" not in body and "Page 1 of 1" in foot
    assert b"NotoSans" in pdf and b"Helvetica" not in pdf

    # The name's letters are drawn: the band of the page that holds it has ink.
    page = pdfium.PdfDocument(pdf)[0]
    image = page.render(scale=1).to_pil().convert("L")
    image.save(tmp_path / f"report-{vendor}.png")
    if vendor == "sandbox" and (pictures := os.environ.get("ASSESSMENTS_SCREENSHOTS")):
        # `make screenshots`: the docs show this one (docs/vendors.md).
        page.render(scale=1.5).to_pil().save(Path(pictures) / "report-sandbox.png")
    text = page.get_textpage()
    start = text.get_text_range().index(NAME)
    left, bottom, _, top = text.get_charbox(start)
    _, _, right, _ = text.get_charbox(start + len(NAME) - 1)
    height = page.get_height()
    box = image.crop((int(left), int(height - top), int(right) + 1, int(height - bottom) + 1))
    inked = sum(box.histogram()[:128])
    assert inked > 0.1 * box.width * box.height


def test_a_rounded_score_says_so_and_a_whole_one_does_not() -> None:
    assert [shown_score(s, 100) for s in (83.5, 82.5, 83)] == [
        ShownScore(84, 100, "83.5"),  # half up, not to even
        ShownScore(83, 100, "82.5"),
        ShownScore(83, 100),
    ]
    assert shown_score(47.5, 60) == ShownScore(79, 100, "47.5 / 60")
    whole = _pages(sandbox(score=80))[0][0]
    assert "80 / 100" in whole and "before rounding" not in whole
    assert "rounded half up" not in whole
    assert shown_mark(36, 60, percent=False) == "36 / 60"
    assert shown_mark(36, 60, percent=True) == shown_mark(36, 60.5, percent=False) == "60 / 100"


def test_a_long_report_numbers_its_pages() -> None:
    many = {f"Skill {n}": 50.5 + n / 10 for n in range(40)}
    pdf = hackerrank_report(
        candidate=NAME,
        email="zoe@example.com",
        test="Long test",
        score=50,
        max_score=100,
        submitted="",
        skill_scores=many,
    )
    pages = _pages(pdf)
    assert len(pages) > 1
    assert [foot.strip() for _, foot in pages] == [
        f"Page {n} of {len(pages)}" for n in range(1, len(pages) + 1)
    ]
    assert "Skill 39" in pages[-1][0] and "no cut-off score" in pages[-1][0]


def test_cjk_is_outside_the_font_and_fpdf2_says_so(caplog: pytest.LogCaptureFixture) -> None:
    # Noto Sans has no CJK: such a name renders as empty boxes, and the log names the letters.
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        pdf = sandbox(first="小龍", last="李")
    assert pdf.startswith(b"%PDF")
    assert any("missing" in r.getMessage() and "\\u674e" in r.getMessage() for r in caplog.records)


def test_making_a_report_logs_nothing_a_terminal_would_scroll_by(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """fontTools logs each table it prunes while fpdf2 subsets the font: some forty lines a
    report, which scrolled `make run`'s banner away."""
    with caplog.at_level(logging.INFO):
        sandbox()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("fontTools")] == []
