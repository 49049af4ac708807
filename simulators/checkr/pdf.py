"""The report PDF a Checkr document link serves (fpdf2); it carries no candidate PII."""

from __future__ import annotations

from ..pdf import footnote, labelled_lines, line, start_report
from .reports import Report


def render_report(report: Report, package_name: str) -> bytes:
    pdf = start_report(
        title="Background check report",
        author="Checkr simulator",
        heading="Background check report",
        page_format="Letter",
    )
    pdf.set_font("helvetica", "", 11)
    details = {
        "Package": package_name,
        "Report": report.id,
        "Status": report.status,
        "Result": report.result or "n/a",
        "Completed": report.completed_at.strftime("%Y-%m-%d %H:%M UTC")
        if report.completed_at
        else "n/a",
    }
    labelled_lines(pdf, details)
    pdf.ln(4)
    for screening in report.screenings:
        label = screening.type.replace("_", " ").capitalize()
        line(pdf, f"{label}: {screening.result or screening.status}")
    pdf.ln(6)
    footnote(pdf, "Issued by the Checkr simulator for integration testing; not a consumer report.")
    return bytes(pdf.output())
