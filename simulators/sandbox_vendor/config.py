"""How a sandbox vendor instance is wired: its address, credentials and where events go."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SandboxVendorConfig:
    # Base URL the vendor is reachable at; candidate links in emails are built from it.
    public_url: str
    # SQLite file holding invitations, the outbox, webhook deliveries and control settings.
    database_path: Path
    # Partners call /api/* with "Authorization: Bearer <api_key>".
    api_key: str
    # Where signed events are POSTed; None turns webhooks off.
    webhook_url: str | None = None
    webhook_secret: str = "sandbox-webhook-secret"
    # A failed delivery (non-2xx or connection error) is retried after each delay, then given up.
    webhook_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0)
