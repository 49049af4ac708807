"""What each fault case measured, kept in reports/faults.json (gitignored) for docs/reliability.md.

Each case records its own entry; running one case updates that entry and keeps the others, and
`python -m tests.faults.figures` prints the table docs/reliability.md shows.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

COLUMNS = (
    ("fault", "fault"),
    ("environment", "where"),
    ("orders", "orders in flight"),
    ("lost", "lost"),
    ("duplicated", "duplicated"),
    ("redelivered", "SR updates re-sent"),
    ("recovery_seconds", "recovery (s)"),
    ("notes", "also measured"),
)


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}"
    )


class Figures:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.cases: dict[str, dict[str, Any]] = {}

    def record(self, case: str, **figures: Any) -> None:
        """One case's figures; `lost` and `duplicated` are counted
        by the case from SR's and the vendor's records."""
        self.cases[case] = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            **figures,
        }

    def write(self) -> None:
        if not self.cases:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Each xdist worker writes the cases it ran: one at a time, so each keeps the others'.
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                report = json.loads(self.path.read_text())
            except (OSError, ValueError):
                report = {}
            report.setdefault("cases", {}).update(self.cases)
            self.path.write_text(
                json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            )


def table(report: dict[str, Any]) -> str:
    """The cases as a Markdown table, in the order of the suite."""
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for _, case in sorted(
        report.get("cases", {}).items(), key=lambda item: item[1].get("order", 99)
    ):
        cells = []
        for key, _ in COLUMNS:
            value = case.get(key, "")
            if isinstance(value, float):
                value = f"{value:.1f}"
            cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    path = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[2] / "reports" / "faults.json"
    )
    print(table(json.loads(path.read_text())))
