"""The PDF a recruiter downloads for a candidature (fpdf2), as TestGorilla's render_pdf streams it."""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .service import Candidature


def render_report(candidature: Candidature) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_text(f"{candidature.assessment.name}: candidate results"))
    pdf.set_author("TestGorilla simulator")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.cell(text="Candidate results", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("helvetica", "", 13)
    pdf.cell(text=_text(candidature.assessment.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("helvetica", "", 11)
    average = candidature.avg_score
    details = {
        "Candidate": candidature.full_name or candidature.email,
        "Status": candidature.status.capitalize(),
        "Average score": "n/a" if average is None else f"{average:g} %",
    }
    for label, value in details.items():
        pdf.set_font(style="B")
        pdf.cell(w=36, text=label)
        pdf.set_font(style="")
        pdf.cell(text=_text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    with pdf.table(col_widths=(90, 40, 50), text_align=("LEFT", "RIGHT", "LEFT")) as table:
        table.row(("Test", "Score", "Percentile / result"))
        for result in candidature.results:
            score = "" if result.score is None else f"{result.score:g} %"
            other = result.score_display or ("" if result.percentile is None else f"{result.percentile:g}")
            table.row((_text(result.test.name), score, _text(other)))
    return bytes(pdf.output())


def _text(value: str) -> str:
    """The built-in PDF fonts only cover Latin-1; anything else is shown as '?' not refused."""
    return value.encode("latin-1", "replace").decode("latin-1")
