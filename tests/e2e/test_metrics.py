"""The worker's Prometheus endpoint: Temporal SDK metrics and the orders' own, without candidate data."""

from __future__ import annotations

import re


async def test_a_completed_order_shows_in_the_workers_metrics(world, stack):
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    await world.at_vendor("complete", order_id, score=80)
    await world.sr_status_becomes(order_id, "COMPLETED")

    text = (await world.http.get(f"http://{stack.settings.worker_metrics_address}/metrics")).text

    def value(pattern: str) -> float:
        found = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if re.match(pattern, line)]
        assert found, f"no metric matches {pattern!r}"
        return sum(found)

    assert value(r'assessment_orders_ended\w*\{.*ending="COMPLETED".*vendor="sandbox"') >= 1
    assert value(r'assessment_vendor_news\w*\{.*source="webhook"') >= 1
    assert value(r"assessment_time_to_result\w*_count\{") >= 1
    assert value(r"assessment_time_to_invite\w*_count\{") >= 1
    assert value(r"temporal_workflow_completed\w*\{") >= 1  # the SDK's own
    for pii in (placed["candidate"]["email"], placed["candidate"]["last_name"], order_id):
        assert pii not in text  # labels are vendors, statuses and peers: never people or orders
