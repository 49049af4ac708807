"""The PDF report a recruiter downloads for a completed invitation (fpdf2)."""

from __future__ import annotations

from ..pdf import Brand, Report, Table, render, score_cell
from .catalog import PASS_MARK, Package
from .models import InvitationRecord, InvitationResult

BRAND = Brand("Sandbox Vendor", (31, 95, 122))


def render_report(record: InvitationRecord, package: Package, result: InvitationResult) -> bytes:
    cells = [score_cell(test.score, test.max_score) for test in result.tests]
    scored = result.score is not None
    sections = Table(
        title="Tests" if scored else "Checks",
        columns=("Test", "Score", "Outcome") if scored else ("Check", "Outcome"),
        rows=[
            (test.name, cell, test.outcome.capitalize())
            if scored
            else (test.name, test.outcome.capitalize())
            for test, (cell, _) in zip(result.tests, cells, strict=True)
        ],
        widths=(44, 30) if scored else (30,),
        rounded=any(rounded for _, rounded in cells),
    )
    return render(
        Report(
            brand=BRAND,
            title="Assessment report" if scored else "Background check report",
            candidate=record.candidate.full_name,
            package=package.name,
            job=record.job_title,
            date=result.submitted_at,
            score=result.score,
            max_score=result.max_score,
            outcome=result.outcome.capitalize() if scored else None,
            # Every test and the package pass at the same mark, a share of the maximum.
            pass_mark=PASS_MARK if scored else None,
            headline=None if scored else result.outcome.capitalize(),
            summary=result.summary,
            tables=(sections,),
            reference=f"Sandbox Vendor invitation {record.id} · order reference {record.reference}",
        )
    )
