"""The candidate report PDF that `pdf?format=url` links to (fpdf2)."""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos


def render_report(*, candidate: str, email: str, test: str, score: float, max_score: float, submitted: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"{test}: candidate report"))
    pdf.set_author("HackerRank simulator")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.cell(text="Candidate report", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("helvetica", "", 12)
    percentage = 100 * score / max_score if max_score else 0.0
    for label, value in (
        ("Test", test),
        ("Candidate", f"{candidate} <{email}>"),
        ("Submitted", submitted),
        ("Score", f"{score:g} / {max_score:g} ({percentage:.0f}%)"),
    ):
        pdf.cell(w=32, text=label)
        pdf.cell(text=_latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _latin1(value: str) -> str:
    """The built-in PDF fonts cover Latin-1 only; other characters print as '?'."""
    return value.encode("latin-1", "replace").decode("latin-1")
