"""`orders show` labels what the order's state holds: the revision window is not the deadline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

import cli
import cli.orders
import cli.output
from admin.models import OrderDetail


def a_completed_order_watched_for_revisions(workflow_status: str) -> OrderDetail:
    return OrderDetail(
        order_id="o-1",
        reference="o-1:acme",
        workflow_id="assessment-order:o-1:acme",
        run_id="run-1",
        status="COMPLETED",
        workflow_status=workflow_status,
        started_at=datetime(2026, 11, 1, tzinfo=UTC),
        temporal_ui_url="https://temporal.example/o-1",
        state_from="query",
        sr_status="COMPLETED",
        deadline=datetime(2026, 11, 8, tzinfo=UTC),
        revision_window_ends=datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
        timeline=[],
    )


@pytest.mark.parametrize(
    ("workflow_status", "says"),
    [
        (
            "RUNNING",
            "watching the posted result for revisions until 2026-12-03 09:30 UTC; "
            "the workflow runs until then",
        ),
        ("COMPLETED", "the posted result was watched for revisions until 2026-12-03 09:30 UTC"),
    ],
)
def test_the_revision_window_is_shown_as_such(monkeypatch, workflow_status, says):
    detail = a_completed_order_watched_for_revisions(workflow_status)
    monkeypatch.setattr(cli.orders, "on_orders", lambda work: detail)
    monkeypatch.setattr(cli.output.console, "width", 200)

    shown = CliRunner().invoke(cli.app, ["orders", "show", "o-1"])

    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    [deadline] = [line for line in lines if "Deadline" in line]
    [window] = [line for line in lines if "Revision window" in line]
    assert "2026-11-08 00:00 UTC" in deadline and says in window
