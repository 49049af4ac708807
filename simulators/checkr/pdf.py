"""The report PDF a Checkr document link serves (fpdf2). The simulator gives it no candidate
details: the candidate is named only where a caller passes the name."""

from __future__ import annotations

from ..pdf import Brand, Report, Table, long_date, render
from .reports import Report as CheckrReport

BRAND = Brand("Checkr", (0, 62, 142))


def render_report(
    report: CheckrReport, package_name: str, *, candidate: str | None = None
) -> bytes:
    completed = report.completed_at
    rows = [
        (
            _label(screening.type),
            (screening.result or screening.status).replace("_", " ").capitalize(),
            long_date(screening.completed_at) if screening.completed_at else "–",
        )
        for screening in report.screenings
    ]
    result = (report.result or report.status).replace("_", " ").capitalize()
    return render(
        Report(
            brand=BRAND,
            title="Background check report",
            candidate=candidate or "Candidate on file at Checkr",
            package=package_name,
            date=completed,
            details=(("Status", report.status.replace("_", " ").capitalize()),),
            # A background check has no score: its result is the headline.
            headline=result,
            summary=None
            if report.assessment is None
            else f"Assessment: {report.assessment.replace('_', ' ')}.",
            tables=(
                Table(
                    title="Screenings",
                    columns=("Screening", "Result", "Completed"),
                    rows=rows,
                    widths=(32, 40),
                ),
            ),
            notes=(
                "Issued by the Checkr simulator for integration testing; not a consumer report.",
            ),
            reference=f"Checkr report {report.id}",
            page_format="Letter",
        )
    )


def _label(kind: str) -> str:
    """ssn_trace reads "SSN trace"."""
    words = kind.replace("_", " ").capitalize().split(" ")
    return " ".join("SSN" if word.lower() == "ssn" else word for word in words)
