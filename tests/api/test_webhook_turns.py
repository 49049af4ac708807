"""Webhooks for one order are handed over one at a time (api/webhooks.py OneAtATime),
without a server."""

from __future__ import annotations

import asyncio

import pytest

from api.webhooks import OneAtATime, TurnNotCome


async def test_one_holder_per_order_the_others_wait_their_turn_or_give_up():
    turns = OneAtATime()
    release, first_holds = asyncio.Event(), asyncio.Event()
    held: list[str] = []

    async def take(name: str, key: str, timeout: float) -> None:
        async with turns.turn(key, timeout=timeout):
            held.append(name)
            if name == "first":
                first_holds.set()
                await release.wait()

    first = asyncio.create_task(take("first", "order-1", 1))
    await first_holds.wait()
    patient = asyncio.create_task(take("patient", "order-1", 30))
    with pytest.raises(TurnNotCome):
        await take("hasty", "order-1", 0.01)
    await take("another order", "order-2", 0.01)  # never waits for order-1's turn
    release.set()
    await asyncio.gather(first, patient)
    assert held == ["first", "another order", "patient"]
    assert turns._locks == {}  # keys no one holds or waits for are forgotten
