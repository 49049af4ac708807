"""The PDF report a recruiter downloads for a completed invitation (fpdf2)."""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .catalog import Package
from .models import InvitationRecord, InvitationResult


def render_report(record: InvitationRecord, package: Package, result: InvitationResult) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_text(f"{package.name} report"))
    pdf.set_author("Sandbox Vendor")
    pdf.add_page()

    pdf.set_font("helvetica", "B", 18)
    pdf.cell(text="Assessment report", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("helvetica", "", 13)
    pdf.cell(text=_text(package.name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    pdf.set_font("helvetica", "", 11)
    details = {
        "Candidate": record.candidate.full_name,
        "Reference": record.reference,
        "Invitation": record.id,
        "Submitted": result.submitted_at.strftime("%Y-%m-%d %H:%M UTC"),
        "Score": _score(result.score, result.max_score),
        "Outcome": result.outcome.capitalize(),
    }
    for label, value in details.items():
        pdf.set_font(style="B")
        pdf.cell(w=32, text=label)
        pdf.set_font(style="")
        pdf.cell(text=_text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.multi_cell(w=0, text=_text(result.summary), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    with pdf.table(col_widths=(90, 50, 40), text_align=("LEFT", "RIGHT", "LEFT")) as table:
        table.row(("Test", "Score", "Outcome"))
        for test in result.tests:
            table.row(
                (_text(test.name), _score(test.score, test.max_score), test.outcome.capitalize())
            )

    pdf.ln(8)
    pdf.set_font("helvetica", "I", 9)
    pdf.multi_cell(
        w=0, text="Issued by the Sandbox Vendor, a reference vendor for integration testing."
    )
    return bytes(pdf.output())


def _score(score: float | None, max_score: float | None) -> str:
    if score is None or max_score is None:
        return "n/a"
    return f"{score:.1f} / {max_score:.0f}"


def _text(value: str) -> str:
    """The built-in PDF fonts only cover Latin-1; anything else is shown as '?' not refused."""
    return value.encode("latin-1", "replace").decode("latin-1")
