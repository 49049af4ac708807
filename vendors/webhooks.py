"""What every vendor's webhook check shares: replay refusal and per-order callback tokens."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict

# Whoever holds a signing secret chooses how many distinct webhooks a guard sees: beyond this many
# the oldest are forgotten first. A forgotten signature could be replayed within its window only by
# someone who saw it, and only while the secret's holder floods; the order itself still refuses an
# event it has.
REMEMBER_AT_MOST = 50_000


class ReplayGuard:
    """Remembers signatures for the replay window, so a captured webhook cannot be sent again.

    Per process: with several API replicas a replay may reach another one, where the workflow's
    deduplication by vendor event id still keeps it from acting twice. Every entry lives for the
    same window, so the oldest entry is always the first to expire: each check forgets what has
    expired from the front, at a cost independent of how much is remembered.
    """

    def __init__(self, window_seconds: float) -> None:
        self._window = window_seconds
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def first_sight(self, signature: str) -> bool:
        """True the first time a signature is seen within the window (and it is remembered)."""
        with self._lock:
            if self._seen_now(signature):
                return False
            self._remember(signature)
            return True

    def seen(self, key: str) -> bool:
        with self._lock:
            return self._seen_now(key)

    def remember(self, key: str) -> None:
        with self._lock:
            self._seen_now(key)
            self._remember(key)

    def _remember(self, key: str) -> None:
        self._seen[key] = time.monotonic() + self._window
        self._seen.move_to_end(key)  # remembered again: now the latest to expire
        while len(self._seen) > REMEMBER_AT_MOST:
            self._seen.popitem(last=False)

    def _seen_now(self, key: str) -> bool:
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) <= now:
            self._seen.popitem(last=False)
        return key in self._seen


def callback_token(key: bytes, reference: str) -> str:
    """The bearer token a per-order webhook (HackerRank's test_result_url) must carry."""
    return hmac.new(key, f"vendor-callback:{reference}".encode(), hashlib.sha256).hexdigest()


def callback_token_valid(key: bytes, reference: str, presented: str) -> bool:
    # Bytes, compared in constant time; a non-ASCII header cannot match and must not raise.
    return hmac.compare_digest(
        callback_token(key, reference).encode(), presented.encode("utf-8", "replace")
    )
