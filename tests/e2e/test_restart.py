"""Stopping the whole embedded stack and starting it again: what was in flight carries on."""

from __future__ import annotations

import pytest

from store import ConnectionState
from tests.support.connect import connect_company, disconnect_checked
from tests.support.http import client as http_client
from tests.support.waiting import eventually

# Tens of seconds in all: xdist starts this module first (tests/conftest.py).
pytestmark = pytest.mark.long


async def test_orders_and_disconnection_checks_in_flight_survive_a_full_restart(
    world, stack, store, registered, trigger_token, temporal
):
    """One restart (a stack's start costs seconds of CPU) for both kinds of work in flight: an
    order waiting for its candidate, and a DELETE without the company's token whose check lives
    in Temporal while SR still honours the company's credentials."""
    placed = await world.order("skills-fullstack")
    order_id = placed["order_id"]
    await world.sr_status_becomes(order_id, "PENDING")
    company_id = await connect_company(world.sr, trigger_token)
    async with http_client(base_url=stack.settings.public_url, timeout=30) as anyone:
        assert (await anyone.delete(f"/integrations/companies/{company_id}")).status_code == 204
    await disconnect_checked(temporal, company_id)
    assert (await store.connection(company_id)).state == ConnectionState.CONNECTED

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

    # SR now revokes the company's credentials (its token endpoint answers invalid_client), and
    # nobody calls us again: the check still asks SR by itself, and acts on SR's refusal.
    ended = await world.http.post(
        f"{world.sr}/__sim/companies/{company_id}/disconnect", params={"tell_partner": "false"}
    )
    assert ended.status_code == 200, ended.text

    async def disconnected():
        return (await store.connection(company_id)).state == ConnectionState.DISCONNECTED

    await eventually(
        disconnected, timeout=120, what="the check to disconnect the company after the restart"
    )
