"""The report PDF a Checkr document link serves (fpdf2); it carries no candidate PII."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.enums import XPos, YPos

if TYPE_CHECKING:
    from .state import Report


def render_report(report: Report, package_name: str) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_title("Background check report")
    pdf.set_author("Checkr simulator")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.cell(text="Background check report", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("helvetica", "", 11)
    details = {
        "Package": package_name,
        "Report": report.id,
        "Status": report.status,
        "Result": report.result or "n/a",
        "Completed": report.completed_at.strftime("%Y-%m-%d %H:%M UTC") if report.completed_at else "n/a",
    }
    for label, value in details.items():
        pdf.cell(w=32, text=label)
        pdf.cell(text=value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    for screening in report.screenings:
        label = screening.type.replace("_", " ").capitalize()
        pdf.cell(text=f"{label}: {screening.result or screening.status}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font("helvetica", "I", 9)
    pdf.multi_cell(w=0, text="Issued by the Checkr simulator for integration testing; not a consumer report.")
    return bytes(pdf.output())
