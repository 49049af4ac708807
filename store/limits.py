"""Request limits that hold for every process at once: each worker, API replica and admin command
calling a peer with one credential shares them through the store.

Two limits per subject (what is limited: a peer and a credential, say), whose rows are named by
a digest of it, so no credential reaches the store:
- a **pace**: requests evenly spaced, at most one per `interval`. One statement reserves the next
  send time (the generic cell rate algorithm): it answers how long to wait before sending, or
  nothing if that is more than the caller will wait (then nothing is reserved).
- **in-flight slots**: at most `capacity` requests between sending and their answer. A slot is
  leased, not locked: a process killed mid-request frees its slots when their leases run out, and
  a request may not outlive its lease (the caller bounds it).

Times come from the database's clock, so hosts' clocks need not agree. On SQLite (one machine)
the process's clock is that clock.

Each change is one statement, a transaction of its own. On SQLite a writing statement takes the
write lock before it reads, and holds it only while a thread runs it, never while this process's
event loop (busy under load) gets round to the next step of a transaction: the other processes
wait on that lock meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Double,
    Engine,
    Executable,
    Integer,
    String,
    bindparam,
    cast,
    create_engine,
    func,
    make_url,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store.tables import RequestPaceRow, RequestSlotRow

log = logging.getLogger("assessments.limits")

# A send this late is on time however short the interval: a booking's round trip to the store.
ROUND_TRIP_SECONDS = 0.025
# How often a waiter asks for a free slot again, at first and at most; a slot freed in this
# process wakes its waiters at once.
FIRST_RETRY_SECONDS = 0.02
LONGEST_RETRY_SECONDS = 0.25
UNIX_EPOCH_JULIAN_DAY = 2440587.5
SECONDS_A_DAY = 86400.0
# Freeing a slot is tried this often (a busy store), before its lease is left to free it.
FREE_ATTEMPTS = 4


class LimitUnavailable(Exception):
    """The shared limit could not be taken in time (all slots busy, the pace booked further ahead
    than the caller waits, or the store unreachable): the request must not be sent now."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SharedLimit:
    """What one peer allows per credential."""

    interval_seconds: float  # between two requests' sends
    capacity: int  # requests in flight
    lease_seconds: float  # the longest a request may hold its slot
    # After its answer a request still counts this long: a limit of `capacity` requests in any
    # window of this many seconds, counting each from its sending to its answer.
    counted_for_seconds: float = 0.0


class SharedLimits:
    """The store's limits, for one process."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self._postgres = url.get_backend_name() == "postgresql"
        # SQLite's statements run whole in a thread (its driver's own, synchronous): the
        # asynchronous driver hands each step (the statement, then its rows) back through the
        # event loop while the statement still holds the write lock.
        self._engine: AsyncEngine | Engine = (
            create_async_engine(url, isolation_level="AUTOCOMMIT")
            if self._postgres
            else create_engine(url.set(drivername="sqlite"), isolation_level="AUTOCOMMIT")
        )
        self._slots_made: set[tuple[str, int]] = set()
        # The request of this process asking the store for a slot of a name, and its wake-up
        # when this process frees one.
        self._asking: dict[str, asyncio.Lock] = {}
        self._freed: dict[str, asyncio.Event] = {}
        self._freeing: set[asyncio.Future[None]] = set()
        self._statements = _Statements.on(self._postgres)

    async def dispose(self) -> None:
        if isinstance(self._engine, AsyncEngine):
            await self._engine.dispose()
        else:
            self._engine.dispose()

    @contextlib.asynccontextmanager
    async def turn(self, subject: str, limit: SharedLimit, max_wait: float) -> AsyncIterator[float]:
        """Hold an in-flight slot of `subject`, then wait for its pace: the request is sent
        inside, and must end before the time yielded (the event loop's clock), a second before
        the slot's lease runs out."""
        name = _row_name(subject)
        slot, holder, taken_at = await self._take_slot(name, limit, max_wait)
        try:
            await self._wait_for_pace(name, limit.interval_seconds, max_wait)
            yield taken_at + limit.lease_seconds - 1
        finally:
            # Even when the request is cancelled: a slot left taken idles until its lease ends.
            await asyncio.shield(self._free_slot(name, slot, holder, limit.counted_for_seconds))

    async def claim(self, subject: str, seconds: float) -> bool:
        """Whether this call holds the turn `subject` for the next `seconds`: at most one caller
        in any process gets it until then (a periodic job run once for all, not per process)."""
        name = _row_name(subject)
        turn = SharedLimit(interval_seconds=0.0, capacity=1, lease_seconds=seconds)
        await self._make_slots(name, 1)
        return await self._try_slot(name, turn, uuid.uuid4().hex) is not None

    async def pace(self, subject: str, interval: float, max_wait: float) -> None:
        """Until a booked send time of `subject`, one `interval` after the one booked before."""
        await self._wait_for_pace(_row_name(subject), interval, max_wait)

    async def _wait_for_pace(self, name: str, interval: float, max_wait: float) -> None:
        """A process that wakes late (its event loop was busy) would send next to the one booked
        after it, so past half an interval late it books again."""
        if interval <= 0:
            return
        give_up_at = time.monotonic() + max_wait
        while True:
            asked = time.monotonic()
            delay = await self._book_pace(name, interval, give_up_at - asked)
            if delay > 0:
                await asyncio.sleep(delay)
            # Late counted from the question, not the answer: an answer handed over late by a
            # busy event loop counts too (a wait for the row's lock only makes it book again).
            # Half an interval leaves the other half for the network's jitter on the way.
            # Below a few milliseconds, lateness is the store's round trip, not a busy loop.
            if time.monotonic() - (asked + delay) <= max(interval / 2, ROUND_TRIP_SECONDS):
                return

    async def _take_slot(
        self, name: str, limit: SharedLimit, max_wait: float
    ) -> tuple[int, str, float]:
        """A slot, its holder, and when it was taken (the event loop's clock). The store's
        statements are never cut off midway (one cut off at its commit could take a slot nobody
        frees): the time left is checked between them."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + max_wait
        holder = uuid.uuid4().hex
        await self._make_slots(name, limit.capacity)
        asking = self._asking.setdefault(name, asyncio.Lock())
        # One request of this process asks the store at a time; the others queue here behind
        # it, so a crowd of waiters costs the store one query, not one each.
        # A free lock is taken whatever the time left (a wait of 0 would refuse it): the store is
        # asked at least once.
        if asking.locked():
            try:
                await asyncio.wait_for(asking.acquire(), max(0.0, give_up_at - loop.time()))
            except TimeoutError:
                raise self._all_taken() from None
        else:
            await asking.acquire()
        try:
            retry_in = FIRST_RETRY_SECONDS
            while True:
                asked = loop.time()
                if (slot := await self._try_slot_whole(name, limit, holder)) is not None:
                    return slot, holder, asked
                left = give_up_at - loop.time()
                if left <= 0:
                    raise self._all_taken()
                freed = self._freed.setdefault(name, asyncio.Event())
                # Back-off, with jitter so the askers of several processes spread out; a slot
                # freed in this process ends the wait early.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        freed.wait(), min(left, retry_in * random.uniform(0.5, 1.5))
                    )
                retry_in = min(retry_in * 2, LONGEST_RETRY_SECONDS)
        finally:
            asking.release()

    async def _try_slot_whole(self, name: str, limit: SharedLimit, holder: str) -> int | None:
        """`_try_slot`, which a cancelled request lets finish, freeing what it took."""
        trying = asyncio.ensure_future(self._try_slot(name, limit, holder))
        try:
            return await asyncio.shield(trying)
        except asyncio.CancelledError:

            def free_what_was_taken(tried: asyncio.Future[int | None]) -> None:
                slot = None if tried.cancelled() or tried.exception() else tried.result()
                if slot is not None:
                    freeing = asyncio.ensure_future(self._free_slot(name, slot, holder))
                    self._freeing.add(freeing)  # kept until done: the loop holds tasks weakly
                    freeing.add_done_callback(self._freeing.discard)

            trying.add_done_callback(free_what_was_taken)
            raise

    @staticmethod
    def _all_taken() -> LimitUnavailable:
        return LimitUnavailable("every in-flight slot is taken", retry_after=LONGEST_RETRY_SECONDS)

    async def _make_slots(self, name: str, capacity: int) -> None:
        if (name, capacity) in self._slots_made:
            return
        rows = [
            {"name": name, "slot": n, "holder": None, "leased_until": 0.0} for n in range(capacity)
        ]
        insert = (postgresql.insert if self._postgres else sqlite.insert)(RequestSlotRow)
        await self._run(insert.on_conflict_do_nothing().values(rows))
        self._slots_made.add((name, capacity))

    async def _try_slot(self, name: str, limit: SharedLimit, holder: str) -> int | None:
        return await self._run(
            self._statements.take,
            row=name,
            capacity=limit.capacity,
            taker=holder,
            lease=limit.lease_seconds,
        )

    async def _free_slot(self, name: str, slot: int, holder: str, after: float = 0.0) -> None:
        """Free the slot, at once or `after` seconds from now."""
        for attempt in range(FREE_ATTEMPTS):
            try:
                await self._run(
                    self._statements.free, row=name, number=slot, taker=holder, after=after
                )
                break
            except Exception as err:  # noqa: BLE001 - the request's answer must not be lost for this
                if attempt + 1 == FREE_ATTEMPTS:
                    # The store stays away (or its pool busy): the lease frees the slot in time.
                    log.warning("an in-flight slot could not be freed (%s)", type(err).__name__)
                else:
                    await asyncio.sleep(FIRST_RETRY_SECONDS * 4**attempt)  # back-off
        if after <= 0 and (freed := self._freed.pop(name, None)) is not None:
            freed.set()

    async def _book_pace(self, name: str, interval: float, max_wait: float) -> float:
        """Reserve the next send time; how long to wait for it."""
        delay = await self._run(
            self._statements.book, row=name, interval=interval, max_wait=max_wait
        )
        if delay is None:
            raise LimitUnavailable("the pace is booked too far ahead", retry_after=max_wait)
        return float(delay)

    async def _run(self, statement: Executable, **parameters: Any) -> Any:
        """Run one statement as a transaction of its own; the first column of the row it returns,
        if any."""
        try:
            if isinstance(self._engine, AsyncEngine):
                async with self._engine.connect() as connection:
                    return _first_value(await connection.execute(statement, parameters))
            return await asyncio.to_thread(self._run_here, self._engine, statement, parameters)
        except DBAPIError as err:
            raise LimitUnavailable(
                f"the store could not be reached ({type(err.orig).__name__})", retry_after=1.0
            ) from None

    @staticmethod
    def _run_here(engine: Engine, statement: Executable, parameters: dict[str, Any]) -> Any:
        with engine.connect() as connection:
            return _first_value(connection.execute(statement, parameters))


@dataclass(frozen=True)
class _Statements:
    """The limits' statements, built once (building one costs more than running it)."""

    take: Executable
    free: Executable
    book: Executable

    @classmethod
    def on(cls, postgres: bool) -> _Statements:
        if postgres:
            # The time when it is read, not when the statement began: a booking may first wait
            # for another's lock on the row, and must not book from before that wait.
            now: ColumnElement[float] = cast(func.extract("epoch", func.clock_timestamp()), Double)
        else:
            # The machine's clock, in milliseconds, one value throughout a statement.
            now = (func.julianday("now") - UNIX_EPOCH_JULIAN_DAY) * SECONDS_A_DAY
        slots, paces = RequestSlotRow.__table__.c, RequestPaceRow.__table__.c
        name = bindparam("row", type_=String)
        free_slot = (
            select(slots.slot)
            .where(
                slots["name"] == name,
                slots.slot < bindparam("capacity", type_=Integer),
                slots.leased_until <= now,  # never taken, freed, or its holder's lease ended
            )
            .order_by(slots.slot)
            .limit(1)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite holds the write lock
            .scalar_subquery()
        )
        interval = bindparam("interval", type_=Double)
        start = (func.greatest if postgres else func.max)(paces.next_at, now)
        insert = postgresql.insert if postgres else sqlite.insert
        return cls(
            take=update(RequestSlotRow)
            .where(slots["name"] == name, slots.slot == free_slot)
            .values(
                holder=bindparam("taker", type_=String),
                leased_until=now + bindparam("lease", type_=Double),
            )
            .returning(slots.slot),
            free=update(RequestSlotRow)
            .where(
                slots["name"] == name,
                slots.slot == bindparam("number", type_=Integer),
                slots.holder == bindparam("taker", type_=String),
            )
            .values(holder=None, leased_until=now + bindparam("after", type_=Double)),
            book=insert(RequestPaceRow)
            .values(name=name, next_at=now + interval)
            .on_conflict_do_update(
                index_elements=[paces["name"]],
                set_={"next_at": start + interval},
                where=start - now <= bindparam("max_wait", type_=Double),
            )
            .returning(paces.next_at - interval - now),
        )


def _first_value(result: CursorResult[Any]) -> Any:
    return result.scalar() if result.returns_rows else None


def _row_name(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()
