"""The order census with several workers (on both databases): one of them asks Temporal per
interval, and every worker shows the same figures."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ordering.census import OPEN_STATUSES, count_orders
from store import Store
from tests.support.waiting import eventually

INTERVAL = 0.3


@dataclass
class Counted:
    count: int


@dataclass
class Visibility:
    """Temporal's visibility as the census asks it: `orders` of every kind, and the questions."""

    orders: int = 3
    asked: list[str] = field(default_factory=list)

    async def count_workflows(self, query: str) -> Counted:
        self.asked.append(query)
        return Counted(self.orders)


@dataclass
class Gauge:
    values: dict[Any, float] = field(default_factory=dict)

    def set(self, value: float, attributes: dict[str, str] | None = None) -> None:
        self.values[tuple(sorted((attributes or {}).items()))] = value


@dataclass
class Meter:
    """A worker's metrics endpoint."""

    gauges: dict[str, Gauge] = field(default_factory=dict)

    def create_gauge(self, name: str, description: str) -> Gauge:
        return self.gauges.setdefault(name, Gauge())


async def test_one_worker_takes_the_census_for_all_and_all_show_it(
    database_url: str, encryption_key: str, store: Store
):
    others = [Store(database_url, encryption_key) for _ in range(2)]
    workers = [store, *others]
    visibility, meters = Visibility(), [Meter() for _ in workers]
    censuses = [
        asyncio.create_task(count_orders(visibility, meter, INTERVAL, worker))  # type: ignore[arg-type]
        for meter, worker in zip(meters, workers, strict=True)
    ]
    started = asyncio.get_running_loop().time()

    async def everyone_shows_seven() -> bool:
        return all(
            meter.gauges["assessment_orders_open"].values.get((("status", "PENDING"),)) == 7
            for meter in meters
        )

    await eventually(lambda: _shows(meters, 3), timeout=10, what="every worker showing 3")
    visibility.orders = 7
    await eventually(everyone_shows_seven, timeout=10, what="every worker showing 7")
    elapsed = asyncio.get_running_loop().time() - started
    for census in censuses:
        census.cancel()
    await asyncio.gather(*censuses, return_exceptions=True)
    for other in others:
        await other.dispose()

    # Seven questions per census; one census per interval (the turn lasts 0.9 of it), not three.
    per_census = len(OPEN_STATUSES) + 2
    assert len(visibility.asked) % per_census == 0
    assert len(visibility.asked) // per_census <= elapsed / (0.9 * INTERVAL) + 1
    for meter in meters:
        assert meter.gauges["assessment_orders_failed"].values == {(): 7}


async def _shows(meters: list[Meter], orders: int) -> bool:
    return all(
        meter.gauges.get("assessment_orders_undelivered", Gauge()).values == {(): orders}
        for meter in meters
    )
