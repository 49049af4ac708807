"""The candidate report PDF that `pdf?format=url` links to (fpdf2)."""

from __future__ import annotations

from ..pdf import labelled_lines, start_report


def render_report(
    *, candidate: str, email: str, test: str, score: float, max_score: float, submitted: str
) -> bytes:
    pdf = start_report(
        title=f"{test}: candidate report", author="HackerRank simulator", heading="Candidate report"
    )
    pdf.set_font("helvetica", "", 12)
    percentage = 100 * score / max_score if max_score else 0.0
    labelled_lines(
        pdf,
        {
            "Test": test,
            "Candidate": f"{candidate} <{email}>",
            "Submitted": submitted,
            "Score": f"{score:g} / {max_score:g} ({percentage:.0f}%)",
        },
    )
    return bytes(pdf.output())
