"""The one layout of the simulators' report PDFs (fpdf2): a header band in the vendor's colour
with its name, the candidate, package and date, the overall result as SmartRecruiters shows it
beside the pass mark, a table of sections, and "Page N of M" with a small-print reference line
at the foot of every page.

Text is set in Noto Sans (the fontpkg-noto-sans wheel, OFL-1.1), which covers Latin with its
extensions, Greek, Cyrillic and Vietnamese; CJK is not in it and shows as empty boxes (fpdf2 logs
the missing glyphs). The font is variable: fpdf2 embeds its default instance, weight 400, since
making a bold instance takes seconds; emphasis is drawn by stroking the glyph outlines instead.

fpdf2 (with fontTools, a sixth of a simulator's start) is imported at the first report, not when
a simulator starts: most simulators in a test run never render one."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

# fpdf2 subsets the font with fontTools, which logs each table it prunes at INFO: some forty
# lines a report, which would scroll `make run`'s banner away.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

if TYPE_CHECKING:
    from fpdf import FPDF

Colour = tuple[int, int, int]

FONT = "noto"
_INK: Colour = (33, 37, 41)
_MUTED: Colour = (108, 117, 125)
_RULE: Colour = (222, 226, 230)
_PASSED: Colour = (25, 135, 84)
_FAILED: Colour = (176, 42, 55)
ROUNDING_NOTE = (
    "Scores are whole numbers, rounded half up; where rounding changed a score, the exact score "
    "follows it."
)


@dataclass(frozen=True)
class Brand:
    """The vendor's slot in the header band."""

    name: str
    colour: Colour


@dataclass(frozen=True)
class ShownScore:
    """A score the way SmartRecruiters shows it: a whole number of a whole maximum stays as it
    is; anything else becomes a percentage rounded half up (orders/results.py's rule, repeated
    here because the simulators import nothing of ours)."""

    raw: int
    top: int
    # The vendor's score as it was, where rounding changed it ("83.3", "47.5 / 60").
    exact: str | None = None

    @property
    def text(self) -> str:
        return f"{self.raw} / {self.top}"

    @property
    def with_exact(self) -> str:
        return self.text if self.exact is None else f"{self.text} ({self.exact})"


def shown_score(score: float | None, max_score: float | None) -> ShownScore | None:
    if score is None or not max_score or max_score <= 0:
        return None
    if float(score).is_integer() and float(max_score).is_integer():
        top = int(max_score)
        return ShownScore(min(max(int(score), 0), top), top)
    raw = min(max(_half_up(100 * score / max_score), 0), 100)
    exact = number(score) if max_score == 100 else f"{number(score)} / {number(max_score)}"
    return ShownScore(raw, 100, exact)


def shown_mark(mark: float, max_score: float, *, percent: bool) -> str:
    """A pass mark on the scale its score is shown on: points of the maximum, or percent."""
    if not percent and float(max_score).is_integer() and float(mark).is_integer():
        return f"{int(mark)} / {int(max_score)}"
    return f"{_half_up(100 * mark / max_score)} / 100"


def _half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def score_cell(score: float | None, max_score: float | None) -> tuple[str, bool]:
    """A section's score for a table, and whether it was rounded."""
    shown = shown_score(score, max_score)
    if shown is None:
        return "–", False
    return shown.with_exact, shown.exact is not None


def number(value: float) -> str:
    """At most two decimals, none that are zero: 83.3, 60, 47.25."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def long_date(when: date | datetime) -> str:
    return f"{when.day} {when:%B %Y}"


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    # Widths in mm of the columns after the first, which takes what is left.
    widths: tuple[float, ...] = ()
    # Whether a score in it was rounded (the report then says how).
    rounded: bool = False


@dataclass(frozen=True)
class Report:
    """Everything a report shows; what is None is left out, never printed as "None"."""

    brand: Brand
    title: str
    candidate: str
    package: str
    package_label: str = "Package"
    job: str | None = None
    date: date | datetime | None = None
    date_label: str = "Completed"
    # Further lines of the candidate block (an email address, a status).
    details: tuple[tuple[str, str], ...] = ()
    score: float | None = None
    max_score: float | None = None
    outcome: str | None = None
    pass_mark: float | None = None
    # The headline where there is no score (a background check's "Clear").
    headline: str | None = None
    summary: str | None = None
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    # Small print at the foot of every page (the vendor's ids for the record, an issuer line).
    reference: str | None = None
    page_format: str = "A4"


@functools.cache
def font_path() -> Path:
    import fontpkg  # type: ignore[import-untyped]

    return Path(fontpkg.path("Noto Sans"))


def render(report: Report) -> bytes:
    pdf = _document(report)
    pdf.add_page()
    _header(pdf, report)
    _candidate(pdf, report)
    _result(pdf, report)
    for table in report.tables:
        _table(pdf, report.brand, table)
    notes = list(report.notes)
    if _rounded_anywhere(report):
        notes.append(ROUNDING_NOTE)
    if notes:
        pdf.ln(2)
        _ink(pdf, _MUTED, 9)
        for note in notes:
            pdf.multi_cell(w=0, h=5, text=note, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _rounded_anywhere(report: Report) -> bool:
    shown = shown_score(report.score, report.max_score)
    return (shown is not None and shown.exact is not None) or any(t.rounded for t in report.tables)


def _document(report: Report) -> FPDF:
    from fpdf import FPDF

    class _ReportPDF(FPDF):
        def footer(self) -> None:
            self.set_y(-16)
            self.set_draw_color(*_RULE)
            self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
            self.ln(2)
            _ink(self, _MUTED, 8)
            width = self.w - self.l_margin - self.r_margin
            self.cell(w=width * 0.75, h=5, text=report.reference or "")
            self.cell(w=width * 0.25, h=5, text=f"Page {self.page_no()} of {{nb}}", align="R")

    pdf = _ReportPDF(format=report.page_format)
    pdf.add_font(FONT, fname=font_path())
    pdf.set_title(f"{report.package}: {report.title}")
    pdf.set_author(report.brand.name)
    pdf.set_creator(report.brand.name)
    pdf.set_margins(18, 14, 18)
    pdf.set_auto_page_break(True, margin=22)
    return pdf


def _ink(pdf: FPDF, colour: Colour, size: float) -> None:
    pdf.set_font(FONT, "", size)
    pdf.set_text_color(*colour)


@contextlib.contextmanager
def _bold(pdf: FPDF, colour: Colour) -> Iterator[None]:
    """Heavier type: the glyphs' outlines stroked in the text's colour as well as filled."""
    from fpdf.enums import TextMode

    pdf.text_mode = TextMode.FILL_STROKE
    pdf.set_draw_color(*colour)
    pdf.set_line_width(0.03 * pdf.font_size)
    try:
        yield
    finally:
        pdf.text_mode = TextMode.FILL
        pdf.set_line_width(0.2)


def _header(pdf: FPDF, report: Report) -> None:
    band = 24.0
    pdf.set_fill_color(*report.brand.colour)
    pdf.rect(0, 0, pdf.w, band, style="F")
    pdf.set_xy(pdf.l_margin, 8)
    _ink(pdf, (255, 255, 255), 16)
    with _bold(pdf, (255, 255, 255)):
        pdf.cell(w=pdf.epw / 2, h=8, text=report.brand.name)
    _ink(pdf, (255, 255, 255), 11)
    pdf.cell(w=pdf.epw / 2, h=8, text=report.title, align="R")
    pdf.set_xy(pdf.l_margin, band + 10)


def _candidate(pdf: FPDF, report: Report) -> None:
    _ink(pdf, _MUTED, 9)
    pdf.cell(text="CANDIDATE", new_x="LMARGIN", new_y="NEXT")
    _ink(pdf, _INK, 20)
    with _bold(pdf, _INK):
        pdf.multi_cell(w=0, h=10, text=report.candidate, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    rows: list[tuple[str, str]] = []
    if report.job:
        rows.append(("Job", report.job))
    rows.append((report.package_label, report.package))
    if report.date is not None:
        rows.append((report.date_label, long_date(report.date)))
    rows.extend(report.details)
    for label, value in rows:
        _ink(pdf, _MUTED, 10)
        pdf.cell(w=34, h=7, text=label)
        _ink(pdf, _INK, 11)
        pdf.multi_cell(w=0, h=7, text=value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)


def _result(pdf: FPDF, report: Report) -> None:
    shown = shown_score(report.score, report.max_score)
    headline = shown.text if shown else report.headline
    percent = shown is not None and shown.exact is not None
    if headline is None and report.outcome is None:
        return
    top = pdf.get_y()
    height = 30.0
    pdf.set_fill_color(246, 248, 250)
    pdf.set_draw_color(*_RULE)
    pdf.rect(pdf.l_margin, top, pdf.epw, height, style="DF")
    pdf.set_fill_color(*report.brand.colour)
    pdf.rect(pdf.l_margin, top, 1.6, height, style="F")

    pdf.set_xy(pdf.l_margin + 6, top + 4)
    _ink(pdf, _MUTED, 9)
    pdf.cell(text="OVERALL RESULT" if shown else "RESULT")
    if headline is not None:
        pdf.set_xy(pdf.l_margin + 6, top + 10)
        _ink(pdf, _INK, 24)
        with _bold(pdf, _INK):
            pdf.cell(text=headline)
        if shown and shown.exact is not None:
            _ink(pdf, _MUTED, 10)
            pdf.set_xy(pdf.get_x() + 3, top + 15)
            pdf.cell(text=f"({shown.exact} before rounding)")
    if report.outcome is not None:
        colour = _FAILED if report.outcome.lower().startswith(("fail", "consider")) else _PASSED
        right = pdf.l_margin + pdf.epw - 6
        pdf.set_xy(right - 70, top + 9)
        _ink(pdf, colour, 16)
        with _bold(pdf, colour):
            pdf.cell(w=70, h=8, text=report.outcome, align="R")
        pdf.set_xy(right - 70, top + 18)
        _ink(pdf, _MUTED, 10)
        mark = (
            f"Pass mark {shown_mark(report.pass_mark, report.max_score, percent=percent)}"
            if report.pass_mark is not None and report.max_score
            else ""
        )
        pdf.cell(w=70, h=6, text=mark, align="R")
    pdf.set_xy(pdf.l_margin, top + height + 5)
    if report.summary:
        _ink(pdf, _INK, 11)
        pdf.multi_cell(w=0, h=6, text=report.summary, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)


def _table(pdf: FPDF, brand: Brand, table: Table) -> None:
    from fpdf.fonts import FontFace

    pdf.ln(2)
    _ink(pdf, _INK, 13)
    with _bold(pdf, _INK):
        pdf.cell(h=8, text=table.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    _ink(pdf, _INK, 10)
    others = table.widths or tuple(28.0 for _ in table.columns[1:])
    widths = (max(pdf.epw - sum(others), 40.0), *others)
    align = ("LEFT",) + ("RIGHT",) * (len(table.columns) - 1)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        align="LEFT",
        text_align=align,
        line_height=7,
        padding=(1.5, 2.5),
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(
            family=FONT, emphasis="", size_pt=9, color=(255, 255, 255), fill_color=brand.colour
        ),
    ) as grid:
        pdf.set_draw_color(*_RULE)
        grid.row(table.columns)
        # Every other row shaded, so a long row is easy to follow across.
        # (Each row names its fill: one without takes the headings' colour in fpdf2.)
        plain, shaded = FontFace(fill_color=(255, 255, 255)), FontFace(fill_color=(246, 248, 250))
        for index, row in enumerate(table.rows):
            grid.row(row, style=shaded if index % 2 else plain)
    pdf.ln(4)
