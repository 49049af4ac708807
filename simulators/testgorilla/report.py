"""The PDF a recruiter downloads for a candidature (fpdf2),
as TestGorilla's render_pdf streams it."""

from __future__ import annotations

from datetime import UTC, datetime

from ..pdf import Brand, Report, Table, number, render, score_cell
from .service import Candidature

BRAND = Brand("TestGorilla", (21, 17, 43))


def render_report(candidature: Candidature) -> bytes:
    scored = [r for r in candidature.results if r.score is not None]
    cells = [score_cell(r.score, 100) for r in scored]
    tables = []
    if scored:
        tables.append(
            Table(
                title="Tests",
                columns=("Test", "Score", "Percentile"),
                rows=[
                    (
                        r.test.name,
                        cell,
                        "–" if r.percentile is None else number(r.percentile),
                    )
                    for r, (cell, _) in zip(scored, cells, strict=True)
                ],
                widths=(40, 30),
                rounded=any(rounded for _, rounded in cells),
            )
        )
    personality = [r for r in candidature.results if r.score is None]
    if personality:
        tables.append(
            Table(
                title="Personality and culture",
                columns=("Test", "Result"),
                rows=[(r.test.name, r.score_display or "–") for r in personality],
                widths=(70,),
            )
        )
    return render(
        Report(
            brand=BRAND,
            title="Candidate results",
            candidate=candidature.full_name or candidature.email,
            package=candidature.assessment.name,
            package_label="Assessment",
            # The simulator keeps no completion time: the report says when it was issued.
            date=datetime.now(UTC),
            date_label="Issued",
            details=(("Status", candidature.status.capitalize()),),
            # The average of the scored tests, in percent, as TestGorilla's API gives it.
            score=candidature.avg_score,
            max_score=100 if candidature.avg_score is not None else None,
            headline=None if candidature.avg_score is not None else "No scored tests",
            tables=tuple(tables),
            notes=("The overall score is the average of the scored tests.",) if scored else (),
            reference=f"TestGorilla candidature {candidature.id}",
        )
    )
