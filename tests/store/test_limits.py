"""Shared request limits on both databases: several stores on one database stand for several
processes, and together they keep one pace and one in-flight capacity per key."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from store import Store
from store.limits import LimitUnavailable, SharedLimit
from tests.support.waiting import eventually

INTERVAL = 0.05
LIMIT = SharedLimit(interval_seconds=INTERVAL, capacity=3, lease_seconds=30.0)


@pytest.fixture
async def processes(database_url: str, encryption_key: str, store: Store):
    """Three stores on the migrated database, as three worker processes would hold them."""
    others = [Store(database_url, encryption_key) for _ in range(2)]
    yield [store, *others]
    for other in others:
        await other.dispose()


async def test_three_processes_keep_one_capacity(processes) -> None:
    unpaced = SharedLimit(interval_seconds=0.0, capacity=3, lease_seconds=30.0)
    in_flight, peak = 0, 0

    async def request(store: Store) -> None:
        nonlocal in_flight, peak
        async with store.limits.turn("credential-a", unpaced, max_wait=30):
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.1)  # the peer taking its time to answer
            in_flight -= 1

    await asyncio.gather(*(request(processes[n % 3]) for n in range(12)))

    assert peak == unpaced.capacity


async def test_three_processes_keep_one_pace(processes) -> None:
    paced = SharedLimit(interval_seconds=INTERVAL, capacity=10, lease_seconds=30.0)
    sends: list[float] = []

    async def request(store: Store) -> None:
        async with store.limits.turn("credential-a", paced, max_wait=30):
            sends.append(time.monotonic())

    await asyncio.gather(*(request(processes[n % 3]) for n in range(30)))

    # Booked INTERVAL apart on the database's clock; a send later than half an interval books
    # again, so a window of ten intervals holds at most one send more. Without the pace, all 30
    # go out within one.
    window = 10 * INTERVAL
    busiest = max(sum(1 for t in sends if start <= t < start + window) for start in sends)
    assert busiest <= 11, sorted(sends)
    assert max(sends) - min(sends) >= 28 * INTERVAL


async def test_another_key_is_not_held_up(processes) -> None:
    holding: list[Store] = []
    all_held, release = asyncio.Event(), asyncio.Event()

    async def hold(store: Store) -> None:
        async with store.limits.turn("credential-a", LIMIT, max_wait=5):
            holding.append(store)
            if len(holding) == LIMIT.capacity:
                all_held.set()
            await release.wait()

    holders = [asyncio.create_task(hold(store)) for store in processes]
    await all_held.wait()  # every slot of credential-a is taken, one by each process

    async with processes[0].limits.turn("credential-b", LIMIT, max_wait=1):
        pass  # a slot of another credential, at once
    with pytest.raises(LimitUnavailable, match="every in-flight slot is taken"):
        async with processes[1].limits.turn("credential-a", LIMIT, max_wait=0.3):
            pass
    release.set()
    await asyncio.gather(*holders)


async def test_a_dead_process_frees_its_slots_when_their_leases_run_out(processes) -> None:
    short = SharedLimit(interval_seconds=0.0, capacity=1, lease_seconds=0.5)
    dying = processes[0].limits.turn("credential-a", short, max_wait=1)
    await dying.__aenter__()  # and never leaves: the process was killed mid-request

    started = time.monotonic()
    async with processes[1].limits.turn("credential-a", short, max_wait=5):
        waited = time.monotonic() - started
    assert 0.3 < waited < 5


async def test_a_pace_booked_past_the_wait_reserves_nothing(processes) -> None:
    # Two seconds apart, so that the third booking is still more than its 0.5 s away however late
    # a loaded machine wakes the second.
    slow = SharedLimit(interval_seconds=2.0, capacity=5, lease_seconds=30.0)
    async with processes[0].limits.turn("credential-a", slow, max_wait=0.5):
        pass
    async with processes[1].limits.turn("credential-a", slow, max_wait=5):
        pass  # booked one interval later
    with pytest.raises(LimitUnavailable, match="booked too far ahead"):
        async with processes[2].limits.turn("credential-a", slow, max_wait=0.5):
            pass
    # The refused booking took nothing: the next send is still one interval after the last (two,
    # had the refusal booked one).
    started = time.monotonic()
    async with processes[2].limits.turn("credential-a", slow, max_wait=5):
        waited = time.monotonic() - started
    assert waited < 3.0, waited


async def test_a_cancelled_request_frees_its_slot_at_once(processes) -> None:
    one = SharedLimit(interval_seconds=0.0, capacity=1, lease_seconds=30.0)
    inside = asyncio.Event()

    async def request() -> None:
        async with processes[0].limits.turn("credential-a", one, max_wait=1):
            inside.set()
            await asyncio.Event().wait()  # the peer never answers; the activity is cancelled

    task = asyncio.create_task(request())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Well within the 30 s lease: the slot was freed, not left to expire.
    async with processes[1].limits.turn("credential-a", one, max_wait=2):
        pass


async def test_a_request_must_end_before_its_slots_lease_however_long_the_pace_took(
    processes,
) -> None:
    paced = SharedLimit(interval_seconds=0.5, capacity=2, lease_seconds=3.0)
    loop = asyncio.get_running_loop()
    async with processes[0].limits.turn("credential-a", paced, max_wait=5):
        pass
    async with processes[1].limits.turn("credential-a", paced, max_wait=5) as must_end_by:
        # The slot was taken before the half-second pace: less than lease - 1 s is left.
        assert must_end_by - loop.time() < paced.lease_seconds - 1 - 0.3


async def test_the_store_names_a_limit_by_a_digest_never_by_its_credential(processes, raw) -> None:
    subject = "SmartRecruiters:client-id-7f3a91"
    async with processes[0].limits.turn(subject, LIMIT, max_wait=5):
        pass
    assert await processes[1].limits.claim("order-census", 1.0)

    at_rest = await raw.text_of("request_slots") + await raw.text_of("request_paces")
    assert "client-id-7f3a91" not in at_rest and "order-census" not in at_rest
    assert len(await raw.rows("request_paces")) == 1


async def test_a_process_whose_event_loop_stalls_holds_up_no_other(
    processes, database_url: str, encryption_key: str
) -> None:
    """A process under load may not get back to its event loop for seconds. Its limits must not
    hold the store's locks meanwhile (a transaction's next step waiting on that loop): another
    process takes and frees its turns as usual, and no slot is left taken."""
    quick = SharedLimit(interval_seconds=0.005, capacity=3, lease_seconds=60.0)
    # The stalled process may hold its three slots throughout; the other has three more.
    roomier = SharedLimit(interval_seconds=0.005, capacity=6, lease_seconds=60.0)
    stall_seconds = 6.0  # past SQLite's 5 s wait for a lock
    turns_taken, stop = 0, asyncio.Event()

    async def busy() -> None:
        nonlocal turns_taken
        while not stop.is_set():
            async with processes[0].limits.turn("credential-a", quick, max_wait=30):
                turns_taken += 1

    def another_process() -> list[float]:
        async def turns() -> list[float]:
            own = Store(database_url, encryption_key)
            took = []
            try:
                for _ in range(10):
                    began = time.monotonic()
                    async with own.limits.turn("credential-a", roomier, max_wait=30):
                        took.append(time.monotonic() - began)
            finally:
                await own.dispose()
            return took

        return asyncio.run(turns())

    async def busy_for_a_while() -> bool:
        return turns_taken >= 30  # its statements coming one after another

    busy_requests = [asyncio.create_task(busy()) for _ in range(quick.capacity)]
    await eventually(busy_for_a_while, what="turns in the busy process", interval=0.05)
    with ThreadPoolExecutor(1) as beside:
        other = beside.submit(another_process)
        time.sleep(stall_seconds)  # noqa: ASYNC251 - the stall itself: this event loop stops
        assert other.done(), "the other process was held up by this one's stalled event loop"
        took = other.result()
    stop.set()
    await asyncio.gather(*busy_requests)

    assert max(took) < stall_seconds / 3, took
    # Every slot free again: all six at once, without waiting.
    holding = [processes[1].limits.turn("credential-a", roomier, max_wait=0.5) for _ in range(6)]
    for turn in holding:
        await turn.__aenter__()
    for turn in holding:
        await turn.__aexit__(None, None, None)


async def test_a_free_slot_is_taken_however_little_time_is_left(processes) -> None:
    """A caller with no time left to wait (a loaded machine used it up, or it waits for nothing)
    still gets a free slot: the store is asked at least once. (No pace: on a loaded machine a
    booking's round trip past half an interval books again, behind its own first booking.)"""
    unpaced = SharedLimit(interval_seconds=0.0, capacity=3, lease_seconds=30.0)
    async with processes[0].limits.turn("credential-a", unpaced, max_wait=0):
        pass
