"""The first sight of each form SR uses for an open protocol point is logged once, by name only."""

from __future__ import annotations

import logging

from smartrecruiters.observations import observed


def test_each_form_is_logged_once_per_process(caplog) -> None:
    caplog.set_level(logging.INFO, logger="assessments.smartrecruiters.protocol")
    observed("test point", "form A")
    observed("test point", "form A")
    observed("test point", "form B")
    lines = [
        r.getMessage() for r in caplog.records if r.name == "assessments.smartrecruiters.protocol"
    ]
    assert lines == [
        "SmartRecruiters protocol: test point is form A (first seen in this process)",
        "SmartRecruiters protocol: test point is form B (first seen in this process)",
    ]
