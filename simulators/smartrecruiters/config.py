"""Settings of the SmartRecruiters simulator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SmartRecruitersSimConfig:
    # Where this simulator is reachable, e.g. "http://127.0.0.1:8100".
    public_url: str
    database_path: Path
    # SR-issued customer credentials the partner uses toward SR.
    client_id: str
    client_secret: str
    # The partner service's base URL, e.g. "http://127.0.0.1:8000".
    partner_api_url: str
    # Credentials SR presents to the partner at {partner_api_url}/oauth/token.
    partner_client_id: str
    partner_client_secret: str
    company_id: str = "sim-company-1"
    # Unknown in SR's public docs (Gap 7), so configurable.
    attachment_part_name: str = "attachment"
    token_ttl_seconds: int = 3600
    # The hiring step configured as an auto-triggered assessment step, and what it orders.
    auto_trigger_step: str = "Skills Test"
    auto_trigger_package_id: str = "skills-fullstack"

    @property
    def hiring_steps(self) -> tuple[str, ...]:
        """The company's hiring process, with the auto-triggered assessment step after review."""
        steps = ("New", "In Review", self.auto_trigger_step, "Interview", "Offer", "Hired")
        return tuple(dict.fromkeys(steps))  # the configured step may coincide with a default one
