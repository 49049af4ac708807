"""How a Checkr simulator instance is wired: its credentials, limits and time scales."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Checkr retries a failed webhook every minute for 10 minutes, then every hour for 24 hours.
CHECKR_RETRY_DELAYS: tuple[float, ...] = (60.0,) * 10 + (3600.0,) * 24


@dataclass(frozen=True)
class CheckrSimConfig:
    # Partners call /v1/* with HTTP Basic: this key as the user name, an empty password.
    # Webhooks are signed with it too (Checkr's X-Checkr-Signature).
    api_key: str = "checkr-sim-api-key"
    account_id: str = "checkr-sim-account"
    # SQLite file holding the account (candidates, invitations, reports, webhooks, outbox, events
    # and deliveries not yet made), so it outlives the process; ":memory:" keeps it for this
    # process only.
    database_path: Path | str = ":memory:"
    # Base URL for `uri`, `invitation_url` and document links; None: the URL the request came to.
    public_url: str | None = None
    # Checkr: 1200 requests per minute across all endpoints.
    rate_limit: int = 1200
    rate_window_seconds: float = 60.0
    # Invitations expire after 7 days; document download links after 15 minutes;
    # idempotency keys are forgotten after 24 hours.
    invitation_ttl_seconds: float = 7 * 86400
    document_link_ttl_seconds: float = 15 * 60
    idempotency_ttl_seconds: float = 24 * 3600
    # Account-level webhook URLs: at most two, registered with POST /v1/webhooks or given here.
    max_webhooks: int = 2
    webhook_urls: tuple[str, ...] = ()
    # A failed delivery (non-2xx or no answer) is tried again after each delay, then given up.
    webhook_retry_delays: tuple[float, ...] = CHECKR_RETRY_DELAYS
    webhook_timeout_seconds: float = 5.0
