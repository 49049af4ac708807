"""The file name a vendor's report reaches SR under: readable, no candidate or ids, ASCII."""

from __future__ import annotations

from datetime import date

from activities.orders import attachment_filename

DAY = date(2025, 5, 12)


def test_the_name_says_what_and_when_and_nothing_of_the_vendors_ids() -> None:
    name = attachment_filename("Full-stack developer skills", DAY, "assessment-report-ord-9f3.pdf")
    assert name == "Full-stack developer skills report 2025-05-12.pdf"


def test_accents_are_dropped_and_anything_else_becomes_a_space() -> None:
    assert attachment_filename("Développeur / Łódź: 測試", DAY, "x.PDF") == (
        "Developpeur odz report 2025-05-12.pdf"
    )


def test_a_title_with_nothing_left_and_an_odd_extension_fall_back() -> None:
    assert attachment_filename("李小龍", DAY, "report") == "Assessment report 2025-05-12.pdf"
    assert attachment_filename("Checkr", DAY, "r.html") == "Checkr report 2025-05-12.html"
    assert attachment_filename("x" * 200, DAY, "r.pdf") == f"{'x' * 80} report 2025-05-12.pdf"
