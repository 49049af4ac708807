"""Operators repair orders (admin API and `assessments orders repair`) on the real stack."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from admin.repairs import SHARED_KEY_NEEDS_A_NAME
from tests.e2e.test_operator_orders import _run

WHO = {"operator": "ops.ann", "reason": "Candidate asked support for more time"}


async def _deadline(admin, order_id: str) -> datetime:
    shown = await admin.get(f"/orders/{order_id}")
    assert shown.status_code == 200, shown.text
    return datetime.fromisoformat(shown.json()["deadline"])


async def test_an_operator_extends_the_deadline_then_cancels_the_order(pending, admin, world):
    order_id = pending["order_id"]
    before = await _deadline(admin, order_id)

    extended = await admin.post(
        f"/orders/{order_id}/repairs/extend-deadline", json=WHO | {"days": 2}
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["note"].startswith("Repair by ops.ann: deadline extended by 2 days")
    assert await _deadline(admin, order_id) == before + timedelta(days=2)

    refused = await admin.post(f"/orders/{order_id}/repairs/repost-result", json=WHO)
    assert (
        refused.status_code == 409
        and refused.json()["message"] == "The order has no result to re-post"
    )

    cancelled = await admin.post(
        f"/orders/{order_id}/repairs/cancel",
        json={"operator": "ops.ann", "reason": "The job was closed"},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["sr_status"] == "REJECTED"
    sr = await world.sr_status_becomes(order_id, "REJECTED")
    assert sr["result"].get("summary") == "The job was closed", sr["result"]

    timeline = [
        item["what"] for item in (await admin.get(f"/orders/{order_id}")).json()["timeline"]
    ]
    assert (
        "Repair by ops.ann: order cancelled, SmartRecruiters told REJECTED (The job was closed)"
        in timeline
    )
    ended = await admin.post(f"/orders/{order_id}/repairs/extend-deadline", json=WHO | {"days": 1})
    assert ended.status_code == 409 and "has ended" in ended.json()["message"]


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/orders/no-such-order/repairs/cancel", WHO, 404, "no order no-such-order in Temporal"),
        (
            "/orders/{id}/repairs/extend-deadline",
            WHO,
            400,
            "extend-deadline needs days: how many days to add to the deadline",
        ),
        ("/orders/{id}/repairs/cancel", WHO | {"days": 1}, 400, "cancel takes no days"),
        (
            "/orders/{id}/repairs/extend-deadline",
            WHO | {"days": 0},
            400,
            "days: Input should be greater than 0",
        ),
        (
            "/orders/{id}/repairs/cancel",
            {"operator": "ops ann", "reason": "a fine reason"},
            400,
            "operator: String should match pattern",
        ),
        (
            "/orders/{id}/repairs/cancel",
            {"operator": "ops", "reason": "line\nbreak"},
            400,
            "reason: String should match pattern",
        ),
        (
            "/orders/{id}/repairs/cancel",
            {"reason": "no operator given"},
            400,
            SHARED_KEY_NEEDS_A_NAME,
        ),
        ("/orders/{id}/repairs/rewind", WHO, 400, "kind: Input should be 'extend-deadline'"),
    ],
)
async def test_bad_repairs_are_refused_clearly(pending, admin, path, body, status, message):
    response = await admin.post(path.format(id=pending["order_id"]), json=body)
    assert response.status_code == status, response.text
    assert message in response.json()["message"]


def test_the_cli_repairs_an_order(pending, stack_cli):
    order_id = pending["order_id"]
    out = _run(
        "orders",
        "repair",
        order_id,
        "extend-deadline",
        "--days",
        "1",
        "--operator",
        "ops.bob",
        "--reason",
        "Asked for a day more",
    ).stdout
    assert "Repair by ops.bob: deadline extended by 1 day" in out
    before = datetime.fromisoformat(
        json.loads(_run("orders", "show", order_id, "--json").stdout)["deadline"]
    )
    outcome = json.loads(
        _run(
            "orders",
            "repair",
            order_id,
            "extend-deadline",
            "--days",
            "0.5",
            "--operator",
            "ops.bob",
            "--reason",
            "And half a day",
            "--json",
        ).stdout
    )
    assert outcome["repair"] == "extend-deadline"
    assert datetime.fromisoformat(outcome["deadline"]) == before + timedelta(hours=12)
    assert datetime.fromisoformat(
        json.loads(_run("orders", "show", order_id, "--json").stdout)["deadline"]
    ) == before + timedelta(hours=12)
    refused = _run(
        "orders",
        "repair",
        order_id,
        "repost-result",
        "--operator",
        "ops.bob",
        "--reason",
        "Mapping fixed",
        ok=False,
    )
    assert "no result to re-post" in refused.stderr
    assert (
        "the repair is one of"
        in _run(
            "orders",
            "repair",
            order_id,
            "rewind",
            "--operator",
            "ops.bob",
            "--reason",
            "whatever",
            ok=False,
        ).stderr
    )
