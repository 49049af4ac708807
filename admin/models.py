"""What operators send and get back: requests validated by pydantic, views without secrets.

The views are what both the admin API answers and the CLI prints (`--json` prints them as they
are). No view carries a vendor account's credentials; a trigger token's plaintext appears only in
`IssuedTriggerTokenView`, once, when it is issued.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from store import CompanyConnection, IssuedToken, TriggerToken, VendorAccount
from vendors.registry import ADAPTERS as ADAPTER_KINDS

# The vendor adapters this service has.
ADAPTERS = tuple(ADAPTER_KINDS)
# Longer than anyone means; keeps an order of magnitude typo (3650 → 36500) from passing.
MAX_TOKEN_DAYS = 3650
ONCE_NOTICE = "Copy this token now: it is shown only once and cannot be shown again."


class PackageSettings(BaseModel):
    """A vendor account's settings for one of its packages."""

    model_config = ConfigDict(extra="forbid")

    deadline_days: float = Field(gt=0, le=365, description="Days a candidate has before the order expires")


class NewCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credentials: dict[str, Any] = Field(description="Replace the account's credentials (a rotated key); stored encrypted, never shown again")


class NewVendorAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    adapter: str = Field(description=f"The vendor adapter: one of {', '.join(ADAPTERS)}")
    credentials: dict[str, Any] = Field(description="What the adapter needs to call the vendor, e.g. {\"api_key\": \"…\"}; stored encrypted, never shown again")
    package_settings: dict[Annotated[str, StringConstraints(min_length=1, max_length=200)], PackageSettings] = Field(
        default_factory=dict, description='Per package, e.g. {"skills-fullstack": {"deadline_days": 3}}'
    )

    @field_validator("adapter")
    @classmethod
    def _known_adapter(cls, adapter: str) -> str:
        if adapter not in ADAPTERS:
            raise ValueError(f"unknown adapter; known: {', '.join(ADAPTERS)}")
        return adapter


class NewTriggerToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_in_days: float | None = Field(None, gt=0, le=MAX_TOKEN_DAYS, description="Days until the token expires; never if omitted")


class VendorAccountView(BaseModel):
    id: str
    name: str
    adapter: str
    package_settings: dict[str, dict[str, Any]]
    created_at: datetime

    @classmethod
    def of(cls, account: VendorAccount) -> VendorAccountView:
        return cls(
            id=account.id, name=account.name, adapter=account.adapter, package_settings=account.package_settings, created_at=account.created_at
        )


class TriggerTokenView(BaseModel):
    id: str
    vendor_account_id: str
    state: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: TriggerToken, now: datetime | None = None) -> TriggerTokenView:
        now = now or datetime.now(UTC)
        if token.revoked_at is not None:
            state = "revoked"
        elif token.expires_at is not None and token.expires_at <= now:
            state = "expired"
        else:
            state = "active"
        return cls(
            id=token.id,
            vendor_account_id=token.vendor_account_id,
            state=state,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


class IssuedTriggerTokenView(BaseModel):
    id: str
    vendor_account_id: str
    token: str = Field(description="The External Trigger Token; shown only in this answer")
    expires_at: datetime | None
    notice: str = ONCE_NOTICE

    @classmethod
    def of(cls, issued: IssuedToken) -> IssuedTriggerTokenView:
        return cls(id=issued.token_id, vendor_account_id=issued.vendor_account_id, token=issued.token, expires_at=issued.expires_at)


class ConnectionView(BaseModel):
    company_id: str
    vendor_account_id: str
    vendor_account_name: str | None
    consent_email: str
    state: str
    connected_at: datetime
    disconnected_at: datetime | None
    trigger_token_id: str

    @classmethod
    def of(cls, connection: CompanyConnection, vendor_account_name: str | None) -> ConnectionView:
        return cls(
            company_id=connection.company_id,
            vendor_account_id=connection.vendor_account_id,
            vendor_account_name=vendor_account_name,
            consent_email=connection.consent_email,
            state=str(connection.state),
            connected_at=connection.connected_at,
            disconnected_at=connection.disconnected_at,
            trigger_token_id=connection.trigger_token_id,
        )
