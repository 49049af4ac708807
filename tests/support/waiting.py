"""Wait for a condition, never for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    *,
    timeout: float = 30.0,
    what: str = "condition",
    interval: float = 0.2,
) -> T:
    """Call `probe` until it returns something truthy; fail with `what` after `timeout` seconds."""
    give_up_at = time.monotonic() + timeout
    last = None
    while time.monotonic() < give_up_at:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)  # polling interval between probes
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last seen: {last!r}")
