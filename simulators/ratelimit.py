"""Fixed-window request counting, as vendors enforce it; each simulator spells its own headers."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowState:
    allowed: bool
    limit: int
    remaining: int
    # Unix time at which the current window ends and the count starts again.
    resets_at: float

    @property
    def seconds_to_reset(self) -> int:
        return max(1, round(self.resets_at - time.time()))


class FixedWindowLimiter:
    """Counts requests per key (a token, an endpoint) in windows of `window_seconds`."""

    def __init__(self, window_seconds: float) -> None:
        self._window = window_seconds
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int) -> WindowState:
        """Count one request; `allowed` is False once
        `limit` requests were counted in this window."""
        now = time.time()
        with self._lock:
            started, count = self._counts.get(key, (now, 0))
            if now - started >= self._window:
                started, count = now, 0
            allowed = count < limit
            if allowed:
                count += 1
            self._counts[key] = (started, count)
        return WindowState(
            allowed=allowed,
            limit=limit,
            remaining=max(0, limit - count),
            resets_at=started + self._window,
        )

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
