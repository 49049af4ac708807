"""Webhook delivery as the vendor simulators share it: one HTTP client held open for the app's
lifetime, each delivery a background task, and a retry after each delay of a schedule until
the receiver answers 2xx or the schedule runs out.

What is sent (payload, signature, headers), how attempts are recorded, and the fault modes
(drop, duplicate, hold, delay) stay with each simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

import httpx

AttemptOutcome = Literal["delivered", "retrying", "gave_up"]

# One attempt's request. Called afresh for every attempt, so a signature can carry its own time.
Send = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Attempt:
    """How one attempt to deliver went."""

    number: int  # 1-based
    status_code: int | None  # None when no answer came
    failure: httpx.HTTPError | None  # why no answer came
    outcome: AttemptOutcome

    @property
    def error(self) -> str | None:
        """The failure by its exception's name, or None if an answer came."""
        return None if self.failure is None else type(self.failure).__name__


class Courier:
    """Carries webhook deliveries in the background, retrying each on the given schedule."""

    def __init__(self, retry_delays: tuple[float, ...], timeout_seconds: float) -> None:
        self._retry_delays = retry_delays
        self._timeout = timeout_seconds
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Hold the HTTP client open; on exit, abandon deliveries still waiting to retry."""
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            self._client = client
            try:
                yield
            finally:
                self.cancel_all()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                self._client = None

    def start(self, delivery: Coroutine[Any, Any, None]) -> None:
        """Run `delivery` as its own task, so the caller does not wait for the receiver."""
        task = asyncio.create_task(delivery)
        self._tasks.add(task)  # the event loop keeps only a weak reference to a task
        task.add_done_callback(self._tasks.discard)

    def cancel_all(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def deliver(self, send: Send, record: Callable[[Attempt], None]) -> None:
        """Send until a 2xx answer or the end of the retry schedule, recording every attempt."""
        assert self._client is not None, "the courier is not running"
        # None after the last attempt: nothing left to wait for, the delivery is given up.
        for number, wait in enumerate((*self._retry_delays, None), start=1):
            failure: httpx.HTTPError | None = None
            try:
                status_code: int | None = (await send(self._client)).status_code
            except httpx.HTTPError as exc:
                status_code, failure = None, exc
            delivered = status_code is not None and 200 <= status_code < 300
            outcome: AttemptOutcome = (
                "delivered" if delivered else "gave_up" if wait is None else "retrying"
            )
            record(Attempt(number, status_code, failure, outcome))
            if delivered or wait is None:
                return
            await asyncio.sleep(wait)
