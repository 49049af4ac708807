"""What the store hands out: immutable records, detached from the database.

They carry no secrets, with two exceptions that are the point of asking:
`IssuedToken.token` (shown to the operator once) and `VendorAccount.credentials` (the vendor
adapter needs them to call the vendor). Both are kept out of `repr`, so they do not reach logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ConnectionState(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class VendorAccount:
    id: str
    name: str
    adapter: str
    # Decrypted: whatever the adapter needs, e.g. {"api_key": ...}.
    credentials: dict[str, Any] = field(repr=False)
    # {package_id: {"deadline_days": float}}
    package_settings: dict[str, dict[str, Any]]
    created_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    """A new External Trigger Token; the plaintext exists only here, the store keeps a hash."""

    token_id: str
    token: str = field(repr=False)
    vendor_account_id: str
    company_id: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class TriggerToken:
    id: str
    vendor_account_id: str
    # The one company it may connect; None: any.
    company_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def admits(self, company_id: str) -> bool:
        return self.company_id in (None, company_id)


@dataclass(frozen=True)
class CompanyConnection:
    company_id: str
    vendor_account_id: str
    consent_email: str
    state: ConnectionState
    connected_at: datetime
    disconnected_at: datetime | None
    # The External Trigger Token the customer's admin connected with.
    trigger_token_id: str
