"""The PDF report a recruiter downloads for a completed invitation (fpdf2)."""

from __future__ import annotations

from ..pdf import footnote, labelled_lines, latin1, line, next_line, start_report
from .catalog import Package
from .models import InvitationRecord, InvitationResult


def render_report(record: InvitationRecord, package: Package, result: InvitationResult) -> bytes:
    pdf = start_report(
        title=f"{package.name} report", author="Sandbox Vendor", heading="Assessment report"
    )
    pdf.set_font("helvetica", "", 13)
    line(pdf, package.name)
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
    labelled_lines(pdf, details, bold_labels=True)
    pdf.ln(4)
    pdf.multi_cell(w=0, text=latin1(result.summary), **next_line())
    pdf.ln(4)

    with pdf.table(col_widths=(90, 50, 40), text_align=("LEFT", "RIGHT", "LEFT")) as table:
        table.row(("Test", "Score", "Outcome"))
        for test in result.tests:
            table.row(
                (latin1(test.name), _score(test.score, test.max_score), test.outcome.capitalize())
            )

    pdf.ln(8)
    footnote(pdf, "Issued by the Sandbox Vendor, a reference vendor for integration testing.")
    return bytes(pdf.output())


def _score(score: float | None, max_score: float | None) -> str:
    if score is None or max_score is None:
        return "n/a"
    return f"{score:.1f} / {max_score:.0f}"
