"""SR sending the same order many times at once, the first of them included: one workflow, one
invitation, and the same answer to every copy (202; for an inline order, the same link)."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.faults.ledger import (
    accepted_patch_times,
    all_show,
    complete_at_vendor,
    counted,
    now,
    place_order,
    resend,
    since,
    sr_orders,
    tally,
    workflow_runs,
)

COPIES = 20


async def test_the_same_order_sent_many_times_at_once_is_one_order(
    faults_stack, faults_world, faults_temporal, figures
):
    world = faults_world
    manual_candidate, inline_candidate = await asyncio.gather(
        world.new_candidate(), world.new_candidate()
    )

    # SR's first attempts get no answer (our API is down), so no workflow exists yet: every copy
    # that follows races to be the first.
    faults_stack.stop_component("api")
    try:
        first = [
            await place_order(world, manual_candidate),
            await place_order(world, inline_candidate, kind="inline"),
        ]
    finally:
        faults_stack.start_component("api")
    assert all(order.get("partner_status") is None for order in first), first
    manual_id, inline_id = (order["order_id"] for order in first)
    assert await workflow_runs(faults_temporal, [manual_id, inline_id]) == Counter()

    began = now()
    answers = await asyncio.gather(
        *(resend(world, order_id) for _ in range(COPIES) for order_id in (manual_id, inline_id))
    )
    manual_answers = [a for a in answers if a["order_id"] == manual_id]
    inline_answers = [a for a in answers if a["order_id"] == inline_id]
    await all_show(world, [manual_id, inline_id], "PENDING", timeout=60)
    settled = since(
        began, (await accepted_patch_times(world, [manual_id, inline_id], "PENDING")).values()
    )
    await complete_at_vendor(world, [manual_id, inline_id], score=91)
    await all_show(world, [manual_id, inline_id], "COMPLETED", timeout=60)

    result = await tally(world, faults_temporal, [manual_id])
    inline_result = await tally(world, faults_temporal, [inline_id], attachments=False)
    link = (await world.invitation_email(inline_id))["link"]
    links = Counter(
        a.get("partner_body", {}).get("url")
        for a in inline_answers
        if a.get("partner_status") == 200
    )
    figures.record(
        "concurrent_order_retries",
        order=6,
        fault=(
            f"SR sending the same order {COPIES} times at once, for a manual and an inline "
            "order, none started before"
        ),
        environment="embedded stack, real processes",
        orders=2,
        **counted(result, inline_result),
        recovery_seconds=round(settled, 1),
        notes=(
            f"manual answers {dict(Counter(a.get('partner_status') for a in manual_answers))}, "
            "inline answers "
            f"{dict(Counter(a.get('partner_status') for a in inline_answers))}, "
            f"{len(links)} distinct link(s); "
            "recovery: from the copies to PENDING at SR"
        ),
    )

    assert [a.get("partner_status") for a in manual_answers] == [202] * COPIES
    assert [a.get("partner_status") for a in inline_answers] == [200] * COPIES
    assert links == {link: COPIES}
    assert (
        result.problems == []
        and inline_result.problems == []
        and result.redelivered == inline_result.redelivered == []
    )
    assert [p["status"] for p in (await sr_orders(world, [manual_id]))[manual_id]["patches"]] == [
        "PENDING",
        "COMPLETED",
    ]
