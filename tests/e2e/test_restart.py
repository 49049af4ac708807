"""Stopping the whole embedded stack and starting it again: orders in flight finish."""

from __future__ import annotations


async def test_orders_in_flight_survive_a_full_restart(world, stack):
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")

    stack.stop()  # what Ctrl-C on `assessments run` does: SIGTERM to every part, in reverse order
    stack.start()  # same data folder: Temporal's SQLite file, the simulators' state

    # The candidate's link from before the restart still works, and the order completes.
    email = await world.invitation_email(order_id)
    assert (await world.http.get(email["link"])).status_code == 200
    await world.sr_status_becomes(order_id, "IN_PROGRESS")
    await world.at_vendor("complete", order_id, score=75)
    done = await world.sr_status_becomes(order_id, "COMPLETED", timeout=60)
    assert done["result"]["score"]["raw"] == 75
    assert len(await world.outbox(order_id)) == 1
    assert [p["status"] for p in done["patches"]] == ["PENDING", "IN_PROGRESS", "COMPLETED"]
