"""What the simulators' report PDFs (fpdf2) have in common: a titled first page under a bold
heading, lines of labelled values, a small-print footnote, all in Latin-1.

fpdf2 (with fontTools, a sixth of a simulator's start) is imported at the first report, not when
a simulator starts: most simulators in a test run never render one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fpdf import FPDF


def latin1(text: str) -> str:
    """The built-in PDF fonts only cover Latin-1; anything else is shown as '?' not refused."""
    return text.encode("latin-1", "replace").decode("latin-1")


def start_report(*, title: str, author: str, heading: str, page_format: str = "A4") -> FPDF:
    """A report with its document title and author set, opened by `heading` in large bold type."""
    from fpdf import FPDF

    pdf = FPDF(format=page_format)
    pdf.set_title(latin1(title))
    pdf.set_author(author)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    line(pdf, heading)
    return pdf


def next_line() -> dict[str, Any]:
    """fpdf2's arguments that put what follows a cell at the start of the next line."""
    from fpdf.enums import XPos, YPos

    return {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


def line(pdf: FPDF, text: str) -> None:
    """`text` on a line of its own."""
    pdf.cell(text=latin1(text), **next_line())


def labelled_lines(
    pdf: FPDF, values: Mapping[str, str], *, label_width: float = 32, bold_labels: bool = False
) -> None:
    """One line per value, behind its label in a column `label_width` mm wide."""
    for label, value in values.items():
        if bold_labels:
            pdf.set_font(style="B")
        pdf.cell(w=label_width, text=label)
        if bold_labels:
            pdf.set_font(style="")
        line(pdf, value)


def footnote(pdf: FPDF, text: str) -> None:
    pdf.set_font("helvetica", "I", 9)
    pdf.multi_cell(w=0, text=latin1(text))
