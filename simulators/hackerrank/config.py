"""How a HackerRank simulator instance is wired: credentials, limits and timings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HackerRankSimConfig:
    # Partners authenticate with this key (HTTP Basic user with an empty password, or Bearer).
    api_key: str
    # SQLite file holding the account's candidates and outbox, so they outlive the process;
    # ":memory:" keeps them for this process only.
    database_path: Path | str = ":memory:"
    # Base URL of candidate links and PDF links; None builds them from each request's own address.
    public_url: str | None = None
    # HackerRank "recommends up to 10 API requests per second";
    # above that the simulator answers 429.
    requests_per_second: int = 10
    # After a submission, how long the report takes before the status becomes 7 (report ready);
    # None: only when the control API says so (POST /_sim/candidates/{id}/report).
    report_delay_seconds: float | None = 2.0
    # How long a URL from `pdf?format=url` works; real ones are short-lived signed links.
    pdf_link_seconds: float = 300.0
    # A failed result webhook (non-2xx or no answer) is retried after each delay, then given up.
    webhook_retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0)
    webhook_timeout_seconds: float = 5.0
