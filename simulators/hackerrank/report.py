"""The candidate report PDF that `pdf?format=url` links to (fpdf2)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ..pdf import Brand, Report, Table, render, score_cell

BRAND = Brand("HackerRank", (14, 20, 30))


def render_report(
    *,
    candidate: str,
    email: str,
    test: str,
    score: float,
    max_score: float,
    submitted: str,
    cutoff_score: float | None = None,
    skill_scores: Mapping[str, float] | None = None,
    job: str | None = None,
) -> bytes:
    """`submitted` is HackerRank's timestamp; `cutoff_score` is in the test's points, as the
    catalog keeps it; `skill_scores` are percentages, one per skill the record holds."""
    tables: tuple[Table, ...] = ()
    if skill_scores:
        cells = [(skill, *score_cell(value, 100)) for skill, value in skill_scores.items()]
        tables = (
            Table(
                title="Scores by skill",
                columns=("Skill", "Score"),
                rows=[(skill, cell) for skill, cell, _ in cells],
                widths=(44,),
                rounded=any(rounded for _, _, rounded in cells),
            ),
        )
    outcome = None
    if cutoff_score is not None:
        outcome = "Passed" if score >= cutoff_score else "Failed"
    return render(
        Report(
            brand=BRAND,
            title="Candidate report",
            candidate=candidate,
            package=test,
            package_label="Test",
            job=job,
            date=datetime.fromisoformat(submitted) if submitted else None,
            details=(("Email", email),),
            score=score,
            max_score=max_score,
            outcome=outcome,
            pass_mark=cutoff_score,
            tables=tables,
            notes=()
            if cutoff_score is not None
            else ("This test has no cut-off score: the hiring team decides who goes on.",),
        )
    )
