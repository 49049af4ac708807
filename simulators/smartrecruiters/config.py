"""Settings of the SmartRecruiters simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .variants import Variants


@dataclass(frozen=True)
class SmartRecruitersSimConfig:
    # Where this simulator is reachable, e.g. "http://127.0.0.1:8100".
    public_url: str
    database_path: Path
    # SR-issued customer credentials of the embedded default company (`company_id`), which the
    # partner uses toward SR without going through Connect.
    client_id: str
    client_secret: str
    # The partner service's base URL, e.g. "http://127.0.0.1:8000".
    partner_api_url: str
    # Credentials SR presents to the partner at {partner_api_url}/oauth/token, for every company
    # not connected through Connect (whose own credentials and the partner configuration's URLs
    # are used instead).
    partner_client_id: str
    partner_client_secret: str
    company_id: str = "sim-company-1"
    # The partner-level master credentials SR Partner Operations issues: they get tokens of scope
    # `partner_configuration_manage`, for the partner configuration and the Connect handshake.
    master_client_id: str = "partner-master"
    master_client_secret: str = "partner-master-secret"
    # How SR's "Apps & Integrations" page names the partner's app.
    partner_name: str = "Assessment partner"
    # Unknown in SR's public docs (Gap 7), so configurable.
    attachment_part_name: str = "attachment"
    # The largest report file SR takes (413 beyond). SR documents no limit: our assumption, from
    # the merged spec's `Attachment.fileContent` (at most 13981014 base64 characters, 10 MiB).
    max_attachment_bytes: int = 10 * 1024 * 1024
    token_ttl_seconds: int = 3600
    # The hiring step configured as an auto-triggered assessment step, and what it orders.
    auto_trigger_step: str = "Skills Test"
    auto_trigger_package_id: str = "skills-fullstack"
    # How SR behaves where its public record is silent, at start; tests switch at run time.
    variants: Variants = field(default_factory=Variants)

    @property
    def alias_url(self) -> str:
        """Another origin that reaches this simulator: where the `callback_host` variant
        "alias" puts result callbacks."""
        return alias_of(self.public_url)

    @property
    def hiring_steps(self) -> tuple[str, ...]:
        """The company's hiring process, with the auto-triggered assessment step after review."""
        steps = ("New", "In Review", self.auto_trigger_step, "Interview", "Offer", "Hired")
        return tuple(dict.fromkeys(steps))  # the configured step may coincide with a default one


def alias_of(public_url: str) -> str:
    """The same loopback server under its other name: localhost for 127.0.0.1, and back."""
    parts = urlsplit(public_url)
    host = "127.0.0.1" if parts.hostname == "localhost" else "localhost"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
