"""What the fuzzers sent and got, per route family and operation, for the run's summary (and
docs/reliability.md)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field


@dataclass
class Ledger:
    statuses: dict[str, dict[str, Counter]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter))
    )  # family → operation → status → cases
    slowest: dict[str, float] = field(default_factory=dict)

    def record(self, family: str, operation: str, status: int, seconds: float) -> None:
        self.statuses[family][operation][status] += 1
        self.slowest[family] = max(self.slowest.get(family, 0.0), seconds)

    def entries(self) -> list:
        """The ledger in plain values, as an xdist worker sends it to the controller."""
        counts = [
            [family, operation, status, cases]
            for family, operations in self.statuses.items()
            for operation, statuses in operations.items()
            for status, cases in statuses.items()
        ]
        return [counts, dict(self.slowest)]

    def add(self, entries: list) -> None:
        """A worker's `entries()`, added to this ledger."""
        counts, slowest = entries
        for family, operation, status, cases in counts:
            self.statuses[family][operation][status] += cases
        for family, seconds in slowest.items():
            self.slowest[family] = max(self.slowest.get(family, 0.0), seconds)

    def lines(self) -> list[str]:
        lines = []
        for family, operations in self.statuses.items():
            total = sum((counts for counts in operations.values()), Counter())
            lines.append(
                f"{family}: {len(operations)} operations, {total.total()} cases, "
                f"{sum(n for status, n in total.items() if status >= 500)} answered 5xx, "
                f"statuses {dict(sorted(total.items()))}, slowest {self.slowest[family]:.2f} s"
            )
            lines += [
                f"  {operation}: {dict(sorted(counts.items()))}"
                for operation, counts in operations.items()
            ]
        return lines


LEDGER = Ledger()
