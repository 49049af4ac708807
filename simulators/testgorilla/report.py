"""The PDF a recruiter downloads for a candidature (fpdf2),
as TestGorilla's render_pdf streams it."""

from __future__ import annotations

from ..pdf import labelled_lines, latin1, line, start_report
from .service import Candidature


def render_report(candidature: Candidature) -> bytes:
    name = candidature.assessment.name
    pdf = start_report(
        title=f"{name}: candidate results",
        author="TestGorilla simulator",
        heading="Candidate results",
    )
    pdf.set_font("helvetica", "", 13)
    line(pdf, name)
    pdf.ln(4)
    pdf.set_font("helvetica", "", 11)
    average = candidature.avg_score
    details = {
        "Candidate": candidature.full_name or candidature.email,
        "Status": candidature.status.capitalize(),
        "Average score": "n/a" if average is None else f"{average:g} %",
    }
    labelled_lines(pdf, details, label_width=36, bold_labels=True)
    pdf.ln(4)
    with pdf.table(col_widths=(90, 40, 50), text_align=("LEFT", "RIGHT", "LEFT")) as table:
        table.row(("Test", "Score", "Percentile / result"))
        for result in candidature.results:
            score = "" if result.score is None else f"{result.score:g} %"
            other = result.score_display or (
                "" if result.percentile is None else f"{result.percentile:g}"
            )
            table.row((latin1(result.test.name), score, latin1(other)))
    return bytes(pdf.output())
