"""The memory of webhooks seen (vendors/webhooks.py ReplayGuard): whoever holds a signing secret
chooses how many distinct webhooks it sees, so what it keeps, and what each check costs, is
bounded."""

from __future__ import annotations

import time

from vendors import webhooks
from vendors.webhooks import ReplayGuard


def test_a_flood_of_distinct_webhooks_costs_each_check_little_and_memory_a_bounded_amount(
    monkeypatch,
):
    monkeypatch.setattr(webhooks, "REMEMBER_AT_MOST", 20_000)
    guard = ReplayGuard(window_seconds=3600)
    began = time.monotonic()
    for n in range(60_000):
        assert guard.first_sight(f"signature-{n}")
    took = time.monotonic() - began
    # A few microseconds each, not a copy of everything remembered per check.
    assert took < 3, f"{took:.1f} s for 60,000 checks"
    assert len(guard) == 20_000
    # The latest are remembered (a replay of them is refused); the oldest forgotten first.
    assert not guard.first_sight("signature-59999")
    assert guard.seen("signature-40000") and not guard.seen("signature-39999")


def test_what_is_remembered_is_forgotten_after_the_window(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(webhooks.time, "monotonic", lambda: now[0])
    guard = ReplayGuard(window_seconds=60)
    assert guard.first_sight("a") and not guard.first_sight("a")
    now[0] += 30
    guard.remember("b")
    now[0] += 20
    guard.remember("a")  # remembered again: for a whole window from now
    now[0] += 45
    assert guard.seen("a") and not guard.seen("b")
    assert guard.first_sight("b")
    now[0] += 100
    assert not guard.seen("a")
    guard.remember("c")
    assert len(guard) == 1  # what expired is gone, not only ignored
