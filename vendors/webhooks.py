"""What every vendor's webhook check shares: replay refusal and per-order callback tokens."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time


# Forgetting expired signatures on every call would cost more than keeping a few thousand.
PRUNE_ABOVE = 10_000


class ReplayGuard:
    """Remembers signatures for the replay window, so a captured webhook cannot be sent again.

    Per process: with several API replicas a replay may reach another one, where the workflow's
    deduplication by vendor event id still keeps it from acting twice.
    """

    def __init__(self, window_seconds: float) -> None:
        self._window = window_seconds
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_sight(self, signature: str) -> bool:
        """True the first time a signature is seen within the window (and it is remembered)."""
        with self._lock:
            if self._seen_now(signature):
                return False
            self._seen[signature] = time.monotonic() + self._window
            return True

    def seen(self, key: str) -> bool:
        with self._lock:
            return self._seen_now(key)

    def remember(self, key: str) -> None:
        with self._lock:
            self._seen_now(key)
            self._seen[key] = time.monotonic() + self._window

    def _seen_now(self, key: str) -> bool:
        now = time.monotonic()
        if len(self._seen) > PRUNE_ABOVE:
            self._seen = {k: expiry for k, expiry in self._seen.items() if expiry > now}
        expiry = self._seen.get(key)
        return expiry is not None and expiry > now


def callback_token(key: bytes, reference: str) -> str:
    """The bearer token a per-order webhook (HackerRank's test_result_url) must carry."""
    return hmac.new(key, f"vendor-callback:{reference}".encode(), hashlib.sha256).hexdigest()


def callback_token_valid(key: bytes, reference: str, presented: str) -> bool:
    # Bytes, compared in constant time; a non-ASCII header cannot match and must not raise.
    return hmac.compare_digest(callback_token(key, reference).encode(), presented.encode("utf-8", "replace"))
